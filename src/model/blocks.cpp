#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "kernels/kernels.h"

namespace entroscope::model {

using kernels::QkvLayout;

template <typename Scalar>
void BlockContext<Scalar>::step(int layer, const char* name, Scalar* buf, int width) const {
  bool check = true;
  if constexpr (std::is_same_v<Scalar, float>) {
    if (observer) check = observer->on_step(StepView{layer, name, buf, rows(), width, &sequences});
  }
  if (check) step_rows(layer, name, buf, width, 0, rows());
}

template <typename Scalar>
void BlockContext<Scalar>::step_rows(int layer, const char* name, const Scalar* buf, int width, int first_row,
                                     int n_rows, const int* row_of) const {
  std::size_t n = static_cast<std::size_t>(n_rows) * width;
  std::size_t bad = kernels::find_non_finite(buf, n);
  if (bad == n) return;
  NonFiniteLocation where;
  where.model = model_name;
  where.layer = layer;
  where.step = name;
  const std::size_t row = row_of ? static_cast<std::size_t>(row_of[bad / width]) : first_row + bad / width;
  where.batch_row = sequences.sequence_of(static_cast<int>(row));
  where.position = static_cast<int>(row) - sequences.begin(where.batch_row);
  where.channel = static_cast<int>(bad % width);
  where.value = kernels::element_value(buf, bad);
  throw NonFiniteError(where);
}

template <typename Scalar>
void embed_tokens(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids, Scalar* x) {
  const int E = ctx.config.embed_dim;
  const WeightTensor<Scalar>& table = ctx.matrix(-1, Role::kTokenEmbedding);  // [V, E]
  if constexpr (kernels::kOnDevice<Scalar>) {
    kernels::gather_embedding(x, table.values(), ids, E);
  } else {
    kernels::rows_in_parallel(static_cast<std::size_t>(ctx.rows()), static_cast<std::size_t>(E), [&](std::size_t row) {
      const std::size_t first = static_cast<std::size_t>(ids[row]) * E;
      if constexpr (std::is_same_v<Scalar, float>) {
        kernels::widen_weights(x + row * E, table.data, table.type, first, static_cast<std::size_t>(E));
      } else {
        std::memcpy(x + row * E, table.values() + first, sizeof(Scalar) * E);
      }
    });
  }
}

template <typename Scalar>
void add_position_embedding(const BlockContext<Scalar>& ctx, Scalar* x) {
  const int D = ctx.config.d_model;
  const Scalar* table = ctx.w(-1, Role::kPositionEmbedding);  // [P + offset, D]
  if constexpr (kernels::kOnDevice<Scalar>) {
    kernels::add_position_embedding(x, table, ctx.sequences, ctx.config.position_offset, D);
  } else {
    kernels::rows_in_parallel(static_cast<std::size_t>(ctx.rows()), static_cast<std::size_t>(D), [&](std::size_t row) {
      const int t = ctx.sequences.position_of(static_cast<int>(row));
      const Scalar* pos = table + static_cast<std::size_t>(t + ctx.config.position_offset) * D;
      Scalar* y = x + row * D;
      for (int i = 0; i < D; ++i) y[i] = y[i] + pos[i];
    });
  }
}

template <typename Scalar>
void project(const BlockContext<Scalar>& ctx, Scalar* y, int ldy, const Scalar* x, int K, int N,
             const WeightTensor<Scalar>& weight_tensor, const Scalar* bias) {
  const auto layout = ctx.weights.layout;
  if constexpr (std::is_same_v<Scalar, float>) {
    // The fp32 path: kernels::gemm (the same bits for any batch, thread count or CPU).
    const std::size_t ld = layout == kernels::WeightLayout::kInOut ? N : K;
    kernels::gemm(y, ldy, x, K, ctx.rows(),
                  kernels::WeightView{weight_tensor.data, K, N, layout, ld, weight_tensor.type}, bias);
  } else if constexpr (kernels::kOnDevice<Scalar>) {
    // The GPU path: cuBLAS on fixed blocks of rows (kernels/device.h).
    kernels::gemm(y, ldy, x, K, ctx.rows(), weight_tensor.values(), N, layout, bias);
  } else {
    const Scalar* weight = weight_tensor.values();
    // doctor's float64 reference through the BLAS, which writes dense [rows, N].
    if (ldy == N) {
      kernels::linear(y, x, weight, bias, ctx.sequences, K, N, layout);
    } else {
      std::vector<Scalar> dense(static_cast<std::size_t>(ctx.rows()) * N);
      kernels::linear(dense.data(), x, weight, bias, ctx.sequences, K, N, layout);
      for (int r = 0; r < ctx.rows(); ++r)
        std::memcpy(y + static_cast<std::size_t>(r) * ldy, dense.data() + static_cast<std::size_t>(r) * N,
                    sizeof(Scalar) * N);
    }
  }
}

template <typename Scalar>
void norm(const BlockContext<Scalar>& ctx, int layer, const char* step, Scalar* out, const Scalar* in, Role weight,
          Role bias) {
  const ModelConfig& c = ctx.config;
  const int M = ctx.rows(), D = c.d_model;
  switch (c.norm) {
    case NormKind::kLayerNorm:
      kernels::layer_norm(out, in, ctx.w(layer, weight), bias == Role::kCount ? nullptr : ctx.w(layer, bias), M, D,
                          c.norm_eps);
      break;
    case NormKind::kRmsNorm:
      kernels::rms_norm(out, in, ctx.w(layer, weight), M, D, c.norm_eps);
      break;
  }
  ctx.step(layer, step, out, D);
}

template <typename Scalar>
void prepare_rotary(const BlockContext<Scalar>& ctx) {
  const ModelConfig& c = ctx.config;
  if (c.rotary_style == RotaryStyle::kNone || c.rotary_ndims == 0) return;
  // inv_freq from the config (stored rotary_emb.inv_freq buffers are ignored, as in transformers:
  // in bf16 checkpoints they are rounded).
  const std::vector<double> inv_freq = c.rotary_inv_freq();
  kernels::rotary_tables(ctx.act.rotary_cos.data(), ctx.act.rotary_sin.data(), ctx.sequences.max_length(), inv_freq.data(),
                         c.rotary_ndims / 2);
}

template <typename Scalar>
void input_embedding(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids, Scalar* x,
                     const ForwardOutputsT<Scalar>& out) {
  const int D = ctx.config.d_model;
  embed_tokens(ctx, ids, x);
  if (ctx.config.learned_positions) add_position_embedding(ctx, x);
  ctx.step(-1, "embedding", x, D);
  capture_hidden(ctx, out, 0, x, D);
  prepare_rotary(ctx);
}

template <typename Scalar>
void final_norm_and_head(const BlockContext<Scalar>& ctx, const Scalar* x, const ForwardOutputsT<Scalar>& out) {
  Scalar* h = ctx.act.normed.data();
  norm(ctx, -1, "final_norm", h, x, Role::kFinalNormWeight, Role::kFinalNormBias);
  capture_hidden(ctx, out, ctx.config.n_layer, h, ctx.config.d_model);
  lm_head(ctx, h, out);
}

template <typename Scalar>
void attention_block(const BlockContext<Scalar>& ctx, int l, const Scalar* x) {
  const ModelConfig& c = ctx.config;
  const int M = ctx.rows(), D = c.d_model, H = c.n_head, KV = c.n_kv_head, hd = c.head_dim;
  auto& a = ctx.act;
  Scalar* qkv = a.qkv.data();
  QkvLayout layout = QkvLayout::blocks(H, KV, hd);
  switch (c.qkv_source) {
    case QkvSource::kFusedBlocks:  // [M, 3D] = q | k | v
      project(ctx, qkv, layout.row, x, D, layout.row, ctx.matrix(l, Role::kQkvWeight), ctx.w(l, Role::kQkvBias));
      break;
    case QkvSource::kFusedPerHead:  // [M, 3D], per head [q k v]
      layout = QkvLayout::per_head(H, hd);
      project(ctx, qkv, layout.row, x, D, layout.row, ctx.matrix(l, Role::kQkvWeight), ctx.w(l, Role::kQkvBias));
      break;
    case QkvSource::kSeparate:  // three projections written side by side into the blocks layout
      project(ctx, qkv + layout.q_offset, layout.row, x, D, H * hd, ctx.matrix(l, Role::kQWeight), ctx.w(l, Role::kQBias));
      project(ctx, qkv + layout.k_offset, layout.row, x, D, KV * hd, ctx.matrix(l, Role::kKWeight), ctx.w(l, Role::kKBias));
      project(ctx, qkv + layout.v_offset, layout.row, x, D, KV * hd, ctx.matrix(l, Role::kVWeight), ctx.w(l, Role::kVBias));
      break;
  }
  ctx.step(l, "attn.qkv", qkv, layout.row);
  switch (c.qk_norm) {
    case QkNorm::kNone: break;
    case QkNorm::kPerHead:  // Qwen3: each head, after the split, before rotary
      kernels::rms_norm_segments(qkv, M, layout.row, layout.q_offset, H, hd, ctx.w(l, Role::kQNormWeight), c.norm_eps);
      kernels::rms_norm_segments(qkv, M, layout.row, layout.k_offset, KV, hd, ctx.w(l, Role::kKNormWeight), c.norm_eps);
      ctx.step(l, "attn.qk_norm", qkv, layout.row);
      break;
    case QkNorm::kFullProjection:  // OLMo-2: the whole q and k projections, before the split
      kernels::rms_norm_segments(qkv, M, layout.row, layout.q_offset, 1, H * hd, ctx.w(l, Role::kQNormWeight), c.norm_eps);
      kernels::rms_norm_segments(qkv, M, layout.row, layout.k_offset, 1, KV * hd, ctx.w(l, Role::kKNormWeight), c.norm_eps);
      ctx.step(l, "attn.qk_norm", qkv, layout.row);
      break;
  }
  if (c.rotary_style != RotaryStyle::kNone && c.rotary_ndims > 0) {
    kernels::apply_rotary(qkv, a.rotary_cos.data(), a.rotary_sin.data(), ctx.sequences, layout, H, KV, c.rotary_ndims,
                          c.rotary_style == RotaryStyle::kInterleaved);
    ctx.step(l, "attn.rotary", qkv, layout.row);
  }
  kernels::causal_attention(a.context.data(), qkv, ctx.sequences, layout, H, KV, hd,
                            static_cast<Scalar>(c.attention_scale(l)), c.layer_window[l]);  // [M, H hd]
  ctx.step(l, "attn.context", a.context.data(), H * hd);
  project(ctx, a.attn_out.data(), D, a.context.data(), H * hd, D, ctx.matrix(l, Role::kAttnOutWeight),
          ctx.w(l, Role::kAttnOutBias));  // [M, D]
  ctx.step(l, "attn.out", a.attn_out.data(), D);
}

template <typename Scalar>
void mlp_block(const BlockContext<Scalar>& ctx, int l, const Scalar* x) {
  const ModelConfig& c = ctx.config;
  const int M = ctx.rows(), D = c.d_model, F = c.d_ff;
  auto& a = ctx.act;
  const std::size_t n = static_cast<std::size_t>(M) * F;
  Scalar* hidden = a.mlp_hidden.data();  // [M, F]
  if (c.gated_mlp) {
    project(ctx, hidden, F, x, D, F, ctx.matrix(l, Role::kMlpGateWeight), ctx.w(l, Role::kMlpGateBias));
    ctx.step(l, "mlp.gate", hidden, F);
    project(ctx, a.mlp_up.data(), F, x, D, F, ctx.matrix(l, Role::kMlpUpWeight), ctx.w(l, Role::kMlpUpBias));
    ctx.step(l, "mlp.up", a.mlp_up.data(), F);
  } else {
    project(ctx, hidden, F, x, D, F, ctx.matrix(l, Role::kMlpUpWeight), ctx.w(l, Role::kMlpUpBias));
    ctx.step(l, "mlp.up", hidden, F);
  }
  switch (c.activation) {
    case Activation::kGeluTanh: kernels::gelu_tanh(hidden, n); break;
    case Activation::kGeluErf: kernels::gelu_erf(hidden, n); break;
    case Activation::kRelu: kernels::relu(hidden, n); break;
    case Activation::kSilu: break;  // only gated (config parsing enforces it), fused with the product below
  }
  if (c.gated_mlp) kernels::silu_mul(hidden, a.mlp_up.data(), n);
  ctx.step(l, "mlp.act", hidden, F);
  project(ctx, a.mlp_out.data(), D, hidden, F, D, ctx.matrix(l, Role::kMlpDownWeight), ctx.w(l, Role::kMlpDownBias));
  ctx.step(l, "mlp.out", a.mlp_out.data(), D);
}

template <typename Scalar>
void capture_hidden(const BlockContext<Scalar>& ctx, const ForwardOutputsT<Scalar>& out, int k, const Scalar* x,
                    int width) {
  if (!out.hidden) return;
  std::size_t n = static_cast<std::size_t>(ctx.rows()) * width;
  if constexpr (kernels::kOnDevice<Scalar>) {  // hidden states come back to the host
    (*out.hidden)[k].resize(n);
    kernels::copy_to_host((*out.hidden)[k].data(), x, n * sizeof(Scalar));
  } else {
    (*out.hidden)[k].assign(x, x + n);
  }
}

namespace {
#if ENTROSCOPE_CUDA
// The LM head on the GPU: blocks of exactly kDeviceGemmRows rows (cuBLAS's fixed shape), of the
// packed batch or of head_rows gathered. Each block's logits stay on the device: the consumer
// reduces them there (only entropy, surprisal and class masses come back), and `logits`, when
// asked for, receives a device-side copy of every row's.
void lm_head_on_device(const BlockContext<kernels::GpuFloat>& ctx, const kernels::GpuFloat* x,
                       const ForwardOutputsT<kernels::GpuFloat>& out) {
  using kernels::GpuFloat;
  const ModelConfig& c = ctx.config;
  const int M = ctx.rows(), E = c.embed_dim, V = c.vocab_size;
  const GpuFloat* head = ctx.weights[Role::kLmHead];
  const GpuFloat* bias = ctx.weights[Role::kLmHeadBias];
  GpuFloat* block = ctx.act.logits_block.data();
  auto blocks = [&](std::span<const int> rows_of, auto&& use) {
    const bool gathered = !rows_of.empty();
    const int n = gathered ? static_cast<int>(rows_of.size()) : M;
    for (int first = 0; first < n; first += kernels::kDeviceGemmRows) {
      const int rows = std::min(kernels::kDeviceGemmRows, n - first);
      const GpuFloat* in = x + static_cast<std::size_t>(first) * E;  // x holds padded rows
      if (gathered) {
        kernels::gather_rows(ctx.act.head_input.data(), x, rows_of.subspan(first, rows), E);
        in = ctx.act.head_input.data();
      }
      kernels::gemm(block, V, in, E, rows, head, V, kernels::WeightLayout::kOutIn, bias);
      ctx.step_rows(-1, "logits", block, V, first, rows, gathered ? rows_of.data() + first : nullptr);
      use(first, rows);
    }
  };
  if (out.logits) {
    blocks({}, [&](int first, int rows) {
      kernels::copy_on_device(out.logits + static_cast<std::size_t>(first) * V, block,
                              sizeof(GpuFloat) * static_cast<std::size_t>(rows) * V);
    });
  }
  if (out.logits_consumer)
    blocks(out.head_rows, [&](int first, int rows) { out.logits_consumer(first, rows, block); });
}
#endif

template <typename Scalar>
void lm_head_on_host(const BlockContext<Scalar>& ctx, const Scalar* x, const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights;
  const int M = ctx.rows(), E = c.embed_dim, V = c.vocab_size;
  auto& a = ctx.act;
  const Scalar* bias = w[Role::kLmHeadBias];
  // The LM head is [V, E] in every family (token embedding when tied): logits = x W^T, W^T being
  // the map E -> V stored [out, in]; packed once per model (PackedHeadCache) on the fp32 path.
  // `sequences` matters only to the float64 path's BLAS shapes (one call per sequence).
  auto head = [&](Scalar* y, const Scalar* rows_in, const kernels::SequenceRows& sequences) {
    if constexpr (std::is_same_v<Scalar, float>) {
      kernels::gemm(y, V, rows_in, E, sequences.rows(), w.packed_head->get(w.model.tensor(Role::kLmHead), E, V), bias);
    } else {
      kernels::linear<Scalar>(y, rows_in, w[Role::kLmHead], bias, sequences, E, V, kernels::WeightLayout::kOutIn);
    }
  };
  if (out.logits) {
    head(out.logits, x, ctx.sequences);
    ctx.step(-1, "logits", out.logits, V);
  }
  if (out.logits_consumer) {
    // Blocks of up to kLogitsBlockRows rows: of the packed batch, or of head_rows gathered. fp32
    // blocks may span sequences (the GEMM's bits do not depend on its shape); the BLAS path
    // (float64) keeps blocks within one sequence so that its GEMM shapes, and bits, do not depend
    // on what else is in the batch.
    constexpr bool kAnyShape = std::is_same_v<Scalar, float>;
    const bool gathered = !out.head_rows.empty();
    const int n = gathered ? static_cast<int>(out.head_rows.size()) : M;
    auto row_at = [&](int i) { return gathered ? out.head_rows[static_cast<std::size_t>(i)] : i; };
    for (int first = 0; first < n;) {
      int rows = std::min(kLogitsBlockRows, n - first);
      if (!kAnyShape) {
        const int sequence = ctx.sequences.sequence_of(row_at(first));
        int same = 1;
        while (same < rows && ctx.sequences.sequence_of(row_at(first + same)) == sequence) ++same;
        rows = same;
      }
      const Scalar* in = x + static_cast<std::size_t>(first) * E;
      if (gathered) {
        Scalar* g = a.head_input.data();
        for (int r = 0; r < rows; ++r)
          std::memcpy(g + static_cast<std::size_t>(r) * E, x + static_cast<std::size_t>(row_at(first + r)) * E,
                      sizeof(Scalar) * E);
        in = g;
      }
      Scalar* block = a.logits_block.data();
      const int block_rows[2] = {0, rows};
      head(block, in, kernels::SequenceRows{block_rows});
      ctx.step_rows(-1, "logits", block, V, first, rows, gathered ? out.head_rows.data() + first : nullptr);
      out.logits_consumer(first, rows, block);
      first += rows;
    }
  }
}
}  // namespace

template <typename Scalar>
void lm_head(const BlockContext<Scalar>& ctx, const Scalar* x, const ForwardOutputsT<Scalar>& out) {
  if constexpr (kernels::kOnDevice<Scalar>) {
    lm_head_on_device(ctx, x, out);
  } else {
    lm_head_on_host(ctx, x, out);
  }
}

#define ES_INSTANTIATE_BLOCKS(S)                                                                                 \
  template struct BlockContext<S>;                                                                               \
  template void embed_tokens<S>(const BlockContext<S>&, std::span<const std::int32_t>, S*);                      \
  template void add_position_embedding<S>(const BlockContext<S>&, S*);                                           \
  template void project<S>(const BlockContext<S>&, S*, int, const S*, int, int, const WeightTensor<S>&, const S*); \
  template void norm<S>(const BlockContext<S>&, int, const char*, S*, const S*, Role, Role);                     \
  template void prepare_rotary<S>(const BlockContext<S>&);                                                       \
  template void input_embedding<S>(const BlockContext<S>&, std::span<const std::int32_t>, S*,                     \
                                   const ForwardOutputsT<S>&);                                                   \
  template void final_norm_and_head<S>(const BlockContext<S>&, const S*, const ForwardOutputsT<S>&);             \
  template void attention_block<S>(const BlockContext<S>&, int, const S*);                                       \
  template void mlp_block<S>(const BlockContext<S>&, int, const S*);                                             \
  template void lm_head<S>(const BlockContext<S>&, const S*, const ForwardOutputsT<S>&);                         \
  template void capture_hidden<S>(const BlockContext<S>&, const ForwardOutputsT<S>&, int, const S*, int);
ES_INSTANTIATE_BLOCKS(float)
ES_INSTANTIATE_BLOCKS(double)
#if ENTROSCOPE_CUDA
ES_INSTANTIATE_BLOCKS(kernels::GpuFloat)
#endif
#undef ES_INSTANTIATE_BLOCKS

}  // namespace entroscope::model
