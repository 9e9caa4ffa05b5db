// The pre-norm decoder, shared by GPT-2, GPT-Neo, GPT-NeoX, GPT-J, Llama, Mistral, Qwen2 and
// Qwen3 (their tables and config parsing are in gpt2.cpp, gpt_neo.cpp, gpt_neox.cpp, gptj.cpp,
// llama.cpp). What differs between them is in ModelConfig and the weights, read by the blocks:
//   x = tok_emb[ids] (+ pos_emb[0..T-1] with learned positions; rotary is applied inside attention)
//   per layer, by config.residual:
//     sequential:          x = x + attn(norm1(x));  x = x + mlp(norm2(x))
//     parallel:            x = x + attn(norm1(x)) + mlp(norm2(x))         (GPT-NeoX)
//     parallel, one norm:  h = norm1(x);  x = x + attn(h) + mlp(h)        (GPT-J)
//   logits = final_norm(x) @ lm_head^T (+ lm_head bias)
// norm = LayerNorm or RMSNorm; attn = q/k/v (fused or separate) -> QK-norm -> rotary -> causal
// attention (GQA, windows) -> out; mlp = up -> act -> down, or SwiGLU.
#include "common/error.h"
#include "kernels/kernels.h"
#include "model/blocks.h"

namespace entroscope::model {

template <typename Scalar>
void prenorm_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids,
                     const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const int D = c.d_model;
  const std::size_t n = static_cast<std::size_t>(ctx.rows()) * D;
  auto& a = ctx.act;
  Scalar* x = a.residual.data();  // [B*T, D]

  input_embedding(ctx, ids, x, out);
  for (int l = 0; l < c.n_layer; ++l) {
    norm(ctx, l, "attn.norm", a.normed.data(), x, Role::kAttnNormWeight, Role::kAttnNormBias);
    attention_block(ctx, l, a.normed.data());
    switch (c.residual) {
      case ResidualWiring::kSequential:
        kernels::add(x, a.attn_out.data(), x, n);
        ctx.step(l, "residual.attn", x, D);
        norm(ctx, l, "mlp.norm", a.normed2.data(), x, Role::kMlpNormWeight, Role::kMlpNormBias);
        mlp_block(ctx, l, a.normed2.data());
        kernels::add(x, x, a.mlp_out.data(), n);
        ctx.step(l, "residual.mlp", x, D);
        break;
      case ResidualWiring::kParallel:
      case ResidualWiring::kParallelOneNorm:
        // Both branches read the same x; transformers sums (mlp_out + attn_out) + x.
        if (c.residual == ResidualWiring::kParallel) {
          norm(ctx, l, "mlp.norm", a.normed2.data(), x, Role::kMlpNormWeight, Role::kMlpNormBias);
          mlp_block(ctx, l, a.normed2.data());
        } else {
          mlp_block(ctx, l, a.normed.data());
        }
        kernels::add(a.mlp_out.data(), a.mlp_out.data(), a.attn_out.data(), n);
        kernels::add(x, a.mlp_out.data(), x, n);
        ctx.step(l, "residual", x, D);
        break;
      case ResidualWiring::kPostLayerNorm:
      case ResidualWiring::kPostNormInside:
        fail("internal: {} wiring in the pre-norm forward", residual_name(c.residual));
    }
    if (l + 1 < c.n_layer) capture_hidden(ctx, out, l + 1, x, D);
  }
  final_norm_and_head(ctx, x, out);
}

ES_INSTANTIATE_FORWARD(prenorm)

}  // namespace entroscope::model
