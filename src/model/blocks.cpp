#include "model/blocks.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

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

template <typename Scalar>
void attention_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x, QkvLayout qkv_layout,
                     Scalar score_scale, bool rotary) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights.layers[layer];
  const auto layout = ctx.weights.layout;
  const int M = ctx.rows(), D = c.d_model;
  auto& a = ctx.act;

  kernels::layer_norm(a.normed.data(), x, w.ln1_weight, w.ln1_bias, M, D, c.layer_norm_eps);  // [M, D]
  ctx.step(layer, "attn.norm", a.normed.data(), D);
  kernels::linear(a.qkv.data(), a.normed.data(), w.qkv_weight, w.qkv_bias, ctx.B, ctx.T, D, 3 * D, layout);  // [M, 3D]
  ctx.step(layer, "attn.qkv", a.qkv.data(), 3 * D);
  if (rotary && c.rotary_ndims > 0) {
    kernels::apply_rotary(a.qkv.data(), a.rotary_cos.data(), a.rotary_sin.data(), ctx.B, ctx.T, c.n_head, c.head_dim,
                          c.rotary_ndims, qkv_layout);
    ctx.step(layer, "attn.rotary", a.qkv.data(), 3 * D);
  }
  kernels::causal_attention(a.context.data(), a.qkv.data(), ctx.B, ctx.T, c.n_head, c.head_dim, score_scale,
                            qkv_layout);  // [M, D]
  ctx.step(layer, "attn.context", a.context.data(), D);
  kernels::linear(a.attn_out.data(), a.context.data(), w.attn_out_weight, w.attn_out_bias, ctx.B, ctx.T, D, D,
                  layout);
  ctx.step(layer, "attn.out", a.attn_out.data(), D);
}

template <typename Scalar>
void mlp_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x, Scalar* normed) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights.layers[layer];
  const auto layout = ctx.weights.layout;
  const int M = ctx.rows(), D = c.d_model, F = c.d_ff;
  auto& a = ctx.act;

  kernels::layer_norm(normed, x, w.ln2_weight, w.ln2_bias, M, D, c.layer_norm_eps);  // [M, D]
  ctx.step(layer, "mlp.norm", normed, D);
  kernels::linear(a.mlp_hidden.data(), normed, w.mlp_up_weight, w.mlp_up_bias, ctx.B, ctx.T, D, F, layout);  // [M, F]
  ctx.step(layer, "mlp.up", a.mlp_hidden.data(), F);
  std::size_t n = static_cast<std::size_t>(M) * F;
  if (c.activation == Activation::kGeluErf)
    kernels::gelu_erf(a.mlp_hidden.data(), n);
  else
    kernels::gelu_tanh(a.mlp_hidden.data(), n);
  ctx.step(layer, "mlp.act", a.mlp_hidden.data(), F);
  kernels::linear(a.mlp_out.data(), a.mlp_hidden.data(), w.mlp_down_weight, w.mlp_down_bias, ctx.B, ctx.T, F, D,
                  layout);
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
  // The LM head is [V, D] in both architectures (wte / embed_out): logits = x W^T.
  if (out.logits) {
    kernels::linear<Scalar>(out.logits, a.normed.data(), w.lm_head, nullptr, ctx.B, ctx.T, D, V,
                            kernels::WeightLayout::kOutIn);
    ctx.step(-1, "logits", out.logits, V);
  }
  if (out.logits_consumer) {
    // Blocks of positions within one sequence (so the GEMM shapes, and bits, do not depend on B).
    for (int b = 0; b < ctx.B; ++b) {
      for (int t0 = 0; t0 < ctx.T; t0 += kLogitsBlockRows) {
        const int rows = std::min(kLogitsBlockRows, ctx.T - t0);
        const int first = b * ctx.T + t0;
        Scalar* block = a.logits_block.data();
        kernels::linear<Scalar>(block, a.normed.data() + static_cast<std::size_t>(first) * D, w.lm_head, nullptr, 1,
                                rows, D, V, kernels::WeightLayout::kOutIn);
        ctx.step_rows(-1, "logits", block, V, first, rows);
        out.logits_consumer(first, rows, block);
      }
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
