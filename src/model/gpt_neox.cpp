// GPT-NeoX / Pythia (transformers' GPTNeoXForCausalLM, eval mode):
//   x = embed_in[ids]                                   (no position embedding: rotary instead)
//   parallel residual:   x = x + attn(ln1(x)) + mlp(ln2(x))
//   sequential residual: h = x + attn(ln1(x));  x = h + mlp(ln2(h))
//   logits = final_layer_norm(x) @ embed_out^T
// Linear weights are [out, in]; query_key_value's output is split per head into [q k v].
// Rotary (rotate-half) applies to the first rotary_ndims dims of each q/k head.
#include <cmath>

#include "kernels/kernels.h"
#include "model/blocks.h"

namespace entroscope::model {

template <typename Scalar>
void gpt_neox_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids,
                      const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const auto& w = ctx.weights;
  const int B = ctx.B, T = ctx.T, D = c.d_model;
  auto& a = ctx.act;
  Scalar* x = a.residual.data();  // [B*T, D]

#pragma omp parallel for schedule(static)
  for (int row = 0; row < B * T; ++row) {
    const Scalar* tok = w.token_embedding + static_cast<std::size_t>(ids[row]) * D;
    for (int i = 0; i < D; ++i) x[static_cast<std::size_t>(row) * D + i] = tok[i];
  }
  ctx.step(-1, "embedding", x, D);
  capture_hidden(ctx, out, 0, x);

  // inv_freq is recomputed from the config (stored rotary_emb.inv_freq buffers are ignored, as in
  // transformers: in bf16 checkpoints they are rounded).
  kernels::rotary_tables(a.rotary_cos.data(), a.rotary_sin.data(), T, c.rotary_ndims, c.rotary_base);

  const kernels::QkvLayout qkv_layout{3 * c.head_dim, c.head_dim};  // per head: [q k v]
  const Scalar scale = Scalar(1) / std::sqrt(static_cast<Scalar>(c.head_dim));
  const std::size_t n = static_cast<std::size_t>(B) * T * D;
  for (int l = 0; l < c.n_layer; ++l) {
    attention_block(ctx, l, x, qkv_layout, scale, /*rotary=*/true);
    if (c.parallel_residual) {
      // Both branches read the same x; transformers sums mlp_out + attn_out + x in that order.
      mlp_block(ctx, l, x, a.normed2.data());
      kernels::add(a.mlp_out.data(), a.mlp_out.data(), a.attn_out.data(), n);
      kernels::add(x, a.mlp_out.data(), x, n);
      ctx.step(l, "residual", x, D);
    } else {
      kernels::add(x, a.attn_out.data(), x, n);
      ctx.step(l, "residual.attn", x, D);
      mlp_block(ctx, l, x, a.normed2.data());
      kernels::add(x, a.mlp_out.data(), x, n);
      ctx.step(l, "residual.mlp", x, D);
    }
    if (l + 1 < c.n_layer) capture_hidden(ctx, out, l + 1, x);
  }
  final_norm_and_head(ctx, out);
}

template void gpt_neox_forward<float>(const BlockContext<float>&, std::span<const std::int32_t>, const ForwardOutputsT<float>&);
template void gpt_neox_forward<double>(const BlockContext<double>&, std::span<const std::int32_t>, const ForwardOutputsT<double>&);

}  // namespace entroscope::model
