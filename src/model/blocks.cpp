#include "model/blocks.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/gemm.h"
#include "kernels/kernels.h"

namespace entroscope::model {

using kernels::QkvLayout;

template <typename Scalar>
void BlockContext<Scalar>::step(int layer, const char* name, Scalar* buf, int width) const {
  bool check = true;
  if constexpr (std::is_same_v<Scalar, float>) {
    if (observer) check = observer->on_step(StepView{layer, name, buf, B, T, width});
  }
  if (check) step_rows(layer, name, buf, width, 0, rows());
}

template <typename Scalar>
void BlockContext<Scalar>::step_rows(int layer, const char* name, const Scalar* buf, int width, int first_row,
                                     int n_rows) const {
  std::size_t n = static_cast<std::size_t>(n_rows) * width;
  std::size_t bad = kernels::find_non_finite(buf, n);
  if (bad == n) return;
  NonFiniteLocation where;
  where.model = model_name;
  where.layer = layer;
  where.step = name;
  std::size_t row = first_row + bad / width;
  where.batch_row = static_cast<int>(row / T);
  where.position = static_cast<int>(row % T);
  where.channel = static_cast<int>(bad % width);
  where.value = static_cast<float>(buf[bad]);
  throw NonFiniteError(where);
}

namespace {
// y [M, N] = x [M, K] W + bias with W as stored (layout per architecture). The fp32 path uses
// kernels::gemm (the same bits for any batch, thread count or CPU); doctor's float64 reference
// goes through the BLAS.
template <typename Scalar>
void project(const BlockContext<Scalar>& ctx, Scalar* y, const Scalar* x, const Scalar* weight, const Scalar* bias,
             int K, int N) {
  const auto layout = ctx.weights.layout;
  if constexpr (std::is_same_v<Scalar, float>) {
    const std::size_t ld = layout == kernels::WeightLayout::kInOut ? N : K;
    kernels::gemm(y, N, x, K, ctx.rows(), kernels::WeightView{weight, K, N, layout, ld}, bias);
  } else {
    kernels::linear(y, x, weight, bias, ctx.B, ctx.T, K, N, layout);
  }
}
}  // namespace

template <typename Scalar>
void attention_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x, QkvLayout qkv_layout,
                     Scalar score_scale, bool rotary) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights.layers[layer];
  const int M = ctx.rows(), D = c.d_model;
  auto& a = ctx.act;

  kernels::layer_norm(a.normed.data(), x, w.ln1_weight, w.ln1_bias, M, D, c.layer_norm_eps);  // [M, D]
  ctx.step(layer, "attn.norm", a.normed.data(), D);
  project(ctx, a.qkv.data(), a.normed.data(), w.qkv_weight, w.qkv_bias, D, 3 * D);  // [M, 3D]
  ctx.step(layer, "attn.qkv", a.qkv.data(), 3 * D);
  if (rotary && c.rotary_ndims > 0) {
    kernels::apply_rotary(a.qkv.data(), a.rotary_cos.data(), a.rotary_sin.data(), ctx.B, ctx.T, c.n_head, c.head_dim,
                          c.rotary_ndims, qkv_layout);
    ctx.step(layer, "attn.rotary", a.qkv.data(), 3 * D);
  }
  kernels::causal_attention(a.context.data(), a.qkv.data(), ctx.B, ctx.T, c.n_head, c.head_dim, score_scale,
                            qkv_layout);  // [M, D]
  ctx.step(layer, "attn.context", a.context.data(), D);
  project(ctx, a.attn_out.data(), a.context.data(), w.attn_out_weight, w.attn_out_bias, D, D);  // [M, D]
  ctx.step(layer, "attn.out", a.attn_out.data(), D);
}

template <typename Scalar>
void mlp_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x, Scalar* normed) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights.layers[layer];
  const int M = ctx.rows(), D = c.d_model, F = c.d_ff;
  auto& a = ctx.act;

  kernels::layer_norm(normed, x, w.ln2_weight, w.ln2_bias, M, D, c.layer_norm_eps);  // [M, D]
  ctx.step(layer, "mlp.norm", normed, D);
  project(ctx, a.mlp_hidden.data(), normed, w.mlp_up_weight, w.mlp_up_bias, D, F);  // [M, F]
  ctx.step(layer, "mlp.up", a.mlp_hidden.data(), F);
  std::size_t n = static_cast<std::size_t>(M) * F;
  if (c.activation == Activation::kGeluErf)
    kernels::gelu_erf(a.mlp_hidden.data(), n);
  else
    kernels::gelu_tanh(a.mlp_hidden.data(), n);
  ctx.step(layer, "mlp.act", a.mlp_hidden.data(), F);
  project(ctx, a.mlp_out.data(), a.mlp_hidden.data(), w.mlp_down_weight, w.mlp_down_bias, F, D);  // [M, D]
  ctx.step(layer, "mlp.out", a.mlp_out.data(), D);
}

template <typename Scalar>
void capture_hidden(const BlockContext<Scalar>& ctx, const ForwardOutputsT<Scalar>& out, int k, const Scalar* x) {
  if (!out.hidden) return;
  std::size_t n = static_cast<std::size_t>(ctx.rows()) * ctx.config.d_model;
  (*out.hidden)[k].assign(x, x + n);
}

template <typename Scalar>
void final_norm_and_head(const BlockContext<Scalar>& ctx, const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights;
  const int M = ctx.rows(), D = c.d_model, V = c.vocab_size;
  auto& a = ctx.act;
  kernels::layer_norm(a.normed.data(), a.residual.data(), w.final_norm_weight, w.final_norm_bias, M, D,
                      c.layer_norm_eps);
  ctx.step(-1, "final_norm", a.normed.data(), D);
  capture_hidden(ctx, out, c.n_layer, a.normed.data());
  // The LM head is [V, D] in both architectures (wte / embed_out): logits = x W^T, W^T being the
  // map D -> V stored [out, in]; packed once per model (PackedHeadCache) on the fp32 path.
  auto head = [&](Scalar* y, const Scalar* x, int B, int T) {
    if constexpr (std::is_same_v<Scalar, float>) {
      kernels::gemm(y, V, x, D, B * T, w.packed_head->get(w.lm_head, D, V), nullptr);
    } else {
      kernels::linear<Scalar>(y, x, w.lm_head, nullptr, B, T, D, V, kernels::WeightLayout::kOutIn);
    }
  };
  if (out.logits) {
    head(out.logits, a.normed.data(), ctx.B, ctx.T);
    ctx.step(-1, "logits", out.logits, V);
  }
  if (out.logits_consumer) {
    // Blocks of kLogitsBlockRows rows of the flattened [B*T]. fp32 blocks may span sequences (the
    // GEMM's bits do not depend on its shape); the BLAS path (float64) keeps blocks within one
    // sequence so that its GEMM shapes, and bits, do not depend on B.
    constexpr bool kAnyShape = std::is_same_v<Scalar, float>;
    for (int first = 0; first < M;) {
      const int rows = kAnyShape ? std::min(kLogitsBlockRows, M - first)
                                 : std::min(kLogitsBlockRows, ctx.T - first % ctx.T);
      Scalar* block = a.logits_block.data();
      head(block, a.normed.data() + static_cast<std::size_t>(first) * D, 1, rows);
      ctx.step_rows(-1, "logits", block, V, first, rows);
      out.logits_consumer(first, rows, block);
      first += rows;
    }
  }
}

#define ES_INSTANTIATE_BLOCKS(S)                                                                              \
  template struct BlockContext<S>;                                                                            \
  template void attention_block<S>(const BlockContext<S>&, int, const S*, QkvLayout, S, bool);                \
  template void mlp_block<S>(const BlockContext<S>&, int, const S*, S*);                                      \
  template void final_norm_and_head<S>(const BlockContext<S>&, const ForwardOutputsT<S>&);                    \
  template void capture_hidden<S>(const BlockContext<S>&, const ForwardOutputsT<S>&, int, const S*);
ES_INSTANTIATE_BLOCKS(float)
ES_INSTANTIATE_BLOCKS(double)
#undef ES_INSTANTIATE_BLOCKS

}  // namespace entroscope::model
