#pragma once
// Building blocks shared by every family's forward. Each reads like llm.c: named buffers, shapes
// in comments; what varies between families (norm kind, qkv source and biases, grouped-query
// heads, QK-norm, rotary style, attention scale and windows, gated MLP and activation, head bias)
// is read from ModelConfig and the weights' roles, never from the family's name. The wiring of the
// blocks (pre/post norms, sequential or parallel residual) is in each family's forward.
// Scalar is float (compute) or double (doctor's reference).
#include "kernels/kernels.h"
#include "model/forward.h"

namespace entroscope::model {

// Everything a block needs besides its inputs.
template <typename Scalar>
struct BlockContext {
  const ModelConfig& config;
  const ModelWeightsT<Scalar>& weights;
  const std::string& model_name;
  kernels::SequenceRows sequences;  // the packed batch: rows of each sequence, positions from 0
  ActivationsT<Scalar>& act;
  ForwardObserver* observer;  // fp32 path only

  int rows() const { return sequences.rows(); }
  // A vector (norm, bias) or position table: always held as Scalar.
  const Scalar* w(int layer, Role r) const { return layer < 0 ? weights.model[r] : weights.layers[layer][r]; }
  // A projection matrix or the token embedding, as held (16-bit kept 16-bit on the fp32 path).
  const WeightTensor<Scalar>& matrix(int layer, Role r) const {
    return layer < 0 ? weights.model.tensor(r) : weights.layers[layer].tensor(r);
  }
  // Checks buf [rows, width] for non-finite values (throws NonFiniteError naming layer/step/
  // position/channel) and shows it to the observer.
  void step(int layer, const char* name, Scalar* buf, int width) const;
  // The finite check alone, over rows [first_row, first_row + n_rows) of the packed batch, or
  // with row_of, rows row_of[0 .. n_rows) (streamed logits blocks; the observer sees only
  // whole-batch steps).
  void step_rows(int layer, const char* name, const Scalar* buf, int width, int first_row, int n_rows,
                 const int* row_of = nullptr) const;
};

// Rows of logits computed per LM-head block when logits are streamed.
inline constexpr int kLogitsBlockRows = 128;

// x [B*T, E] = token_embedding[ids].
template <typename Scalar>
void embed_tokens(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids, Scalar* x);

// x [rows, D] += position_embedding[t + position_offset], t = the row's position in its sequence
// (learned absolute positions).
template <typename Scalar>
void add_position_embedding(const BlockContext<Scalar>& ctx, Scalar* x);

// y [B*T, N] (row stride ldy) = x [B*T, K] W + bias, W as stored (the family's layout; 16-bit
// weights widened as the GEMM packs them).
template <typename Scalar>
void project(const BlockContext<Scalar>& ctx, Scalar* y, int ldy, const Scalar* x, int K, int N,
             const WeightTensor<Scalar>& weight, const Scalar* bias);

// out [B*T, D] = the config's norm (LayerNorm with or without bias, or RMSNorm) of in; out may
// alias in. `bias` = Role::kCount: none.
template <typename Scalar>
void norm(const BlockContext<Scalar>& ctx, int layer, const char* step, Scalar* out, const Scalar* in, Role weight,
          Role bias = Role::kCount);

// The start of every d_model-wide forward: x [B*T, D] = token embedding (+ learned positions),
// checked, captured as hidden[0]; rotary tables prepared when the config uses rotary.
template <typename Scalar>
void input_embedding(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids, Scalar* x,
                     const ForwardOutputsT<Scalar>& out);

// The end: hidden[L] = final_norm(x) (LayerNorm or RMSNorm), then the LM head.
template <typename Scalar>
void final_norm_and_head(const BlockContext<Scalar>& ctx, const Scalar* x, const ForwardOutputsT<Scalar>& out);

// Fills act.rotary_cos/sin for positions 0 .. the longest sequence's length - 1 when the config uses rotary.
template <typename Scalar>
void prepare_rotary(const BlockContext<Scalar>& ctx);

// x [B*T, D] (already normed where the family norms first) -> act.attn_out [B*T, D]:
// q/k/v projections (fused or separate, biases as the table has them) -> QK-norm -> rotary ->
// causal attention (grouped heads, the layer's window, the config's scale) -> output projection.
template <typename Scalar>
void attention_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x);

// x [B*T, D] (already normed) -> act.mlp_out [B*T, D]: up -> activation -> down, or gated
// (SwiGLU): down(act(gate(x)) * up(x)).
template <typename Scalar>
void mlp_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x);

// x [B*T, E] -> logits [B*T, V] = x lm_head^T (+ bias), whole or streamed in row blocks.
template <typename Scalar>
void lm_head(const BlockContext<Scalar>& ctx, const Scalar* x, const ForwardOutputsT<Scalar>& out);

// Copies x [B*T, width] into hidden[k] when hidden states are requested.
template <typename Scalar>
void capture_hidden(const BlockContext<Scalar>& ctx, const ForwardOutputsT<Scalar>& out, int k, const Scalar* x,
                    int width);

// The forwards: the pre-norm decoder (prenorm_forward.cpp: GPT-2, GPT-Neo, GPT-NeoX, GPT-J, Llama,
// Mistral, Qwen2, Qwen3), OPT (opt.cpp: project_in/out, pre- or post-LN) and OLMo-2 (olmo2.cpp:
// norms inside the residual).
#define ES_FAMILY_FORWARD(name)                                                                        \
  template <typename Scalar>                                                                           \
  void name##_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids,              \
                      const ForwardOutputsT<Scalar>& out);
ES_FAMILY_FORWARD(prenorm)
ES_FAMILY_FORWARD(opt)
ES_FAMILY_FORWARD(olmo2)
#undef ES_FAMILY_FORWARD

// Explicit instantiation of a family forward for float and double, and for the GPU scalar in a
// CUDA build (end of each family file).
#if ENTROSCOPE_CUDA
#define ES_INSTANTIATE_FORWARD_ON_DEVICE(name)                                                                    \
  template void name##_forward<kernels::GpuFloat>(const BlockContext<kernels::GpuFloat>&,                         \
                                                  std::span<const std::int32_t>,                                  \
                                                  const ForwardOutputsT<kernels::GpuFloat>&);
#else
#define ES_INSTANTIATE_FORWARD_ON_DEVICE(name)
#endif
#define ES_INSTANTIATE_FORWARD(name)                                                                              \
  template void name##_forward<float>(const BlockContext<float>&, std::span<const std::int32_t>,                  \
                                      const ForwardOutputsT<float>&);                                             \
  template void name##_forward<double>(const BlockContext<double>&, std::span<const std::int32_t>,                \
                                       const ForwardOutputsT<double>&);                                           \
  ES_INSTANTIATE_FORWARD_ON_DEVICE(name)

}  // namespace entroscope::model
