// GPT-2 (transformers' GPT2LMHeadModel, eval mode):
//   x = wte[ids] + wpe[0..T-1]
//   per block:  x = x + c_proj(attn(ln_1(x)));  x = x + mlp(ln_2(x))
//   logits = ln_f(x) @ wte^T
// Conv1D weights are [in, out]; c_attn's output is three contiguous blocks q | k | v.
#include <cmath>

#include "kernels/kernels.h"
#include "model/blocks.h"

namespace entroscope::model {

template <typename Scalar>
void gpt2_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids,
                  const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights;
  const int B = ctx.B, T = ctx.T, D = c.d_model;
  Scalar* x = ctx.act.residual.data();  // [B*T, D]

  // Embeddings: token + learned absolute position.
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      std::size_t row = static_cast<std::size_t>(b) * T + t;
      const Scalar* tok = w.token_embedding + static_cast<std::size_t>(ids[row]) * D;
      const Scalar* pos = w.position_embedding + static_cast<std::size_t>(t) * D;
      for (int i = 0; i < D; ++i) x[row * D + i] = tok[i] + pos[i];
    }
  }
  ctx.step(-1, "embedding", x, D);
  capture_hidden(ctx, out, 0, x);

  const kernels::QkvLayout qkv_layout{c.head_dim, D};  // q | k | v blocks of D each
  const std::size_t n = static_cast<std::size_t>(B) * T * D;
  for (int l = 0; l < c.n_layer; ++l) {
    // scale_attn_weights: / sqrt(head_dim); scale_attn_by_inverse_layer_idx: also / (l + 1).
    Scalar scale = c.scale_attn_weights ? Scalar(1) / std::sqrt(static_cast<Scalar>(c.head_dim)) : Scalar(1);
    if (c.scale_attn_by_inverse_layer_idx) scale /= static_cast<Scalar>(l + 1);
    attention_block(ctx, l, x, qkv_layout, scale, /*rotary=*/false);
    kernels::add(x, ctx.act.attn_out.data(), x, n);
    ctx.step(l, "residual.attn", x, D);
    mlp_block(ctx, l, x, ctx.act.normed.data());
    kernels::add(x, x, ctx.act.mlp_out.data(), n);
    ctx.step(l, "residual.mlp", x, D);
    if (l + 1 < c.n_layer) capture_hidden(ctx, out, l + 1, x);
  }
  final_norm_and_head(ctx, out);
}

template void gpt2_forward<float>(const BlockContext<float>&, std::span<const std::int32_t>, const ForwardOutputsT<float>&);
template void gpt2_forward<double>(const BlockContext<double>&, std::span<const std::int32_t>, const ForwardOutputsT<double>&);

}  // namespace entroscope::model
