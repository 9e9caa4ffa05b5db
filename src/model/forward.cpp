#include "model/forward.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "model/blocks.h"

namespace entroscope::model {

namespace {
std::string describe(const NonFiniteLocation& w) {
  std::string where = w.layer >= 0 ? fmt::format("layer {}", w.layer) : std::string("outside the blocks");
  return fmt::format("{}: non-finite value ({}) in {} at step '{}', batch row {}, token position {}, channel {}",
                     w.model, w.value, where, w.step, w.batch_row, w.position, w.channel);
}
}  // namespace

NonFiniteError::NonFiniteError(const NonFiniteLocation& where) : NumericError(describe(where)), where_(where) {}

template <typename Scalar>
void ActivationsT<Scalar>::reserve(const ModelConfig& c, int n_rows, int T) {
  // cuBLAS runs on blocks of kDeviceGemmRows rows: the last block's padding rows must exist.
  const std::size_t rows =
      static_cast<std::size_t>(kernels::kOnDevice<Scalar> ? kernels::device_padded_rows(n_rows) : n_rows);
  residual.resize(rows * c.d_model);
  normed.resize(rows * c.d_model);
  normed2.resize(rows * c.d_model);
  qkv.resize(rows * c.qkv_width());
  context.resize(rows * c.n_head * c.head_dim);
  attn_out.resize(rows * c.d_model);
  mlp_hidden.resize(rows * c.d_ff);
  mlp_up.resize(c.gated_mlp ? rows * c.d_ff : 0);
  mlp_out.resize(rows * c.d_model);
  embed.resize(c.embed_dim != c.d_model ? rows * c.embed_dim : 0);
  std::size_t rot = static_cast<std::size_t>(T) * std::max(1, c.rotary_ndims / 2);
  rotary_cos.resize(rot);
  rotary_sin.resize(rot);
  const std::size_t head_rows = kernels::kOnDevice<Scalar> ? kernels::kDeviceGemmRows : std::min(rows, static_cast<std::size_t>(kLogitsBlockRows));
  logits_block.resize(head_rows * c.vocab_size);
  head_input.resize(head_rows * c.embed_dim);
}

template struct ActivationsT<float>;
template struct ActivationsT<double>;
#if ENTROSCOPE_CUDA
template struct ActivationsT<kernels::GpuFloat>;
#endif

template <typename Scalar>
void forward_with(const Model& model, const ModelWeightsT<Scalar>& weights, std::span<const std::int32_t> ids,
                  const kernels::SequenceRows& sequences, ActivationsT<Scalar>& act,
                  const ForwardOutputsT<Scalar>& out, ForwardObserver* observer) {
  const ModelConfig& c = model.config;
  const int S = sequences.sequences();
  if (S <= 0 || sequences.start[0] != 0) fail("{}: empty input (no sequences)", model.name);
  for (int s = 0; s < S; ++s) {
    const int T = sequences.length(s);
    if (T <= 0) fail("{}: sequence {} is empty", model.name, s);
    if (T > c.max_positions)
      fail("{}: sequence {} has length {}, beyond the model's context of {} positions", model.name, s, T,
           c.max_positions);
  }
  const int rows = sequences.rows();
  if (ids.size() != static_cast<std::size_t>(rows))
    fail("{}: input has {} ids, expected {} (the packed sequences' rows)", model.name, ids.size(), rows);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= c.vocab_size) {
      const int s = sequences.sequence_of(static_cast<int>(i));
      fail("{}: token id {} at batch row {}, position {} is outside the vocabulary [0, {})", model.name, ids[i], s,
           static_cast<int>(i) - sequences.begin(s), c.vocab_size);
    }
  }
  for (std::size_t i = 0; i < out.head_rows.size(); ++i) {
    const int row = out.head_rows[i];
    if (row < 0 || row >= rows || (i > 0 && row <= out.head_rows[i - 1]))
      fail("{}: internal error: head row {} is not an ascending row of the {}-row batch", model.name, row, rows);
  }
  act.reserve(c, rows, sequences.max_length());
  if (out.hidden) out.hidden->assign(c.n_layer + 1, {});
  if constexpr (std::is_same_v<Scalar, float>) {
    // The LM head is packed before the layers run, not after: its mapped pages are released once
    // it is packed, so peak memory never holds every layer's pages and both copies of the head.
    if ((out.logits || out.logits_consumer) && weights.packed_head)
      weights.packed_head->get(weights.model.tensor(Role::kLmHead), c.embed_dim, c.vocab_size);
  }
  BlockContext<Scalar> ctx{c, weights, model.name, sequences, act, observer};
  switch (c.arch) {
    case Architecture::kGpt2:
    case Architecture::kGptNeoX:
    case Architecture::kGptNeo:
    case Architecture::kGptJ:
    case Architecture::kLlama:
    case Architecture::kMistral:
    case Architecture::kQwen2:
    case Architecture::kQwen3: return prenorm_forward(ctx, ids, out);
    case Architecture::kOpt: return opt_forward(ctx, ids, out);
    case Architecture::kOlmo2: return olmo2_forward(ctx, ids, out);
  }
}

template <typename Scalar>
void forward_with(const Model& model, const ModelWeightsT<Scalar>& weights, std::span<const std::int32_t> ids, int B,
                  int T, ActivationsT<Scalar>& act, const ForwardOutputsT<Scalar>& out, ForwardObserver* observer) {
  if (B <= 0 || T <= 0) fail("{}: empty input (batch {}, length {})", model.name, B, T);
  if (ids.size() != static_cast<std::size_t>(B) * T)
    fail("{}: input has {} ids, expected batch {} x length {}", model.name, ids.size(), B, T);
  if (T > model.config.max_positions)
    fail("{}: sequence length {} exceeds the model's context of {} positions", model.name, T,
         model.config.max_positions);
  const std::vector<int> start = kernels::uniform_sequence_starts(B, T);
  forward_with(model, weights, ids, kernels::SequenceRows{start}, act, out, observer);
}

#define ES_INSTANTIATE_FORWARD_WITH(S)                                                                            \
  template void forward_with<S>(const Model&, const ModelWeightsT<S>&, std::span<const std::int32_t>,            \
                                const kernels::SequenceRows&, ActivationsT<S>&, const ForwardOutputsT<S>&,       \
                                ForwardObserver*);                                                               \
  template void forward_with<S>(const Model&, const ModelWeightsT<S>&, std::span<const std::int32_t>, int, int,  \
                                ActivationsT<S>&, const ForwardOutputsT<S>&, ForwardObserver*);
ES_INSTANTIATE_FORWARD_WITH(float)
ES_INSTANTIATE_FORWARD_WITH(double)
#if ENTROSCOPE_CUDA
ES_INSTANTIATE_FORWARD_WITH(kernels::GpuFloat)
#endif
#undef ES_INSTANTIATE_FORWARD_WITH

void forward_on_device(const Model& model, const DeviceWeights& weights, std::span<const std::int32_t> ids, int B,
                       int T, float* logits, std::vector<std::vector<float>>* hidden) {
  kernels::require_cuda(model.name);
#if ENTROSCOPE_CUDA
  using kernels::GpuFloat;
  const std::size_t V = static_cast<std::size_t>(model.config.vocab_size);
  kernels::DeviceBuffer<GpuFloat> device_logits;
  if (logits) device_logits.resize(static_cast<std::size_t>(B) * T * V);
  std::vector<std::vector<GpuFloat>> device_hidden;  // copied back by capture_hidden, as GpuFloat
  ActivationsT<GpuFloat> act;
  ForwardOutputsT<GpuFloat> out;
  out.logits = logits ? device_logits.data() : nullptr;
  out.hidden = hidden ? &device_hidden : nullptr;
  forward_with(model, weights.weights, ids, B, T, act, out);
  if (logits) kernels::copy_to_host(logits, device_logits.data(), device_logits.size() * sizeof(float));
  if (hidden) {
    hidden->assign(device_hidden.size(), {});
    for (std::size_t k = 0; k < device_hidden.size(); ++k) {
      (*hidden)[k].resize(device_hidden[k].size());
      std::memcpy((*hidden)[k].data(), device_hidden[k].data(), device_hidden[k].size() * sizeof(float));
    }
  }
#endif
}

void forward(const Model& model, std::span<const std::int32_t> ids, const kernels::SequenceRows& sequences,
             Activations& act, const ForwardOutputs& out, ForwardObserver* observer) {
  forward_with(model, model.weights, ids, sequences, act, out, observer);
}

void forward(const Model& model, std::span<const std::int32_t> ids, int B, int T, Activations& act,
             const ForwardOutputs& out, ForwardObserver* observer) {
  forward_with(model, model.weights, ids, B, T, act, out, observer);
}

}  // namespace entroscope::model
