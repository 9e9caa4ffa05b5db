// OLMo-2 (transformers' Olmo2ForCausalLM, eval mode): no pre-norms; each branch's output is
// normed inside the residual.
//   x = embed_tokens[ids]
//   per layer:  x = x + post_attention_layernorm(o_proj(attn(x)))
//               x = x + post_feedforward_layernorm(down_proj(silu(gate_proj(x)) * up_proj(x)))
//   logits = norm(x) @ lm_head^T                        (untied)
// QK-norm: RMSNorm over the FULL q and k projections ([H hd], [KVH hd]) before the head split and
// before rotary (half split, rope_theta). RMSNorm everywhere, no biases.
#include "common/error.h"
#include "kernels/kernels.h"
#include "model/architecture.h"
#include "model/blocks.h"

namespace entroscope::model {

void olmo2_parse_config(const ConfigFields& f, ModelConfig& c) {
  parse_llama_style_config(f, c, 1e-5);  // Olmo2Config's rms_norm_eps default
  if (f.has("head_dim")) fail("{}: head_dim is not a field of olmo2 (hidden_size / heads)", f.label());
  c.residual = ResidualWiring::kPostNormInside;
  c.qk_norm = QkNorm::kFullProjection;
  const bool bias = f.bool_or("attention_bias", false);
  c.q_bias = c.k_bias = c.v_bias = c.out_bias = bias;
  if (f.has("clip_qkv")) fail("{}: clip_qkv is not supported for olmo2", f.label());
}

void olmo2_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model;
  TableBuilder b(t);
  llama_style_ends(b, c, /*before_layers=*/true);
  for (int l = 0; l < c.n_layer; ++l) {
    llama_style_attention_tensors(b, c, l);
    b.layer(l, Role::kAttnPostNormWeight, "layers.{}.post_attention_layernorm.weight", {D}, SynthInit::kOnes);
    llama_style_mlp_tensors(b, c, l);
    b.layer(l, Role::kMlpPostNormWeight, "layers.{}.post_feedforward_layernorm.weight", {D}, SynthInit::kOnes);
  }
  llama_style_ends(b, c, /*before_layers=*/false);
}

template <typename Scalar>
void olmo2_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids,
                   const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const int D = c.d_model;
  const std::size_t n = static_cast<std::size_t>(ctx.rows()) * D;
  auto& a = ctx.act;
  Scalar* x = a.residual.data();  // [B*T, D]

  input_embedding(ctx, ids, x, out);
  for (int l = 0; l < c.n_layer; ++l) {
    attention_block(ctx, l, x);
    norm(ctx, l, "attn.post_norm", a.normed.data(), a.attn_out.data(), Role::kAttnPostNormWeight);
    kernels::add(x, x, a.normed.data(), n);
    ctx.step(l, "residual.attn", x, D);
    mlp_block(ctx, l, x);
    norm(ctx, l, "mlp.post_norm", a.normed.data(), a.mlp_out.data(), Role::kMlpPostNormWeight);
    kernels::add(x, x, a.normed.data(), n);
    ctx.step(l, "residual.mlp", x, D);
    if (l + 1 < c.n_layer) capture_hidden(ctx, out, l + 1, x, D);
  }
  final_norm_and_head(ctx, x, out);
}

ES_INSTANTIATE_FORWARD(olmo2)

}  // namespace entroscope::model
