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
  c.vocab_size = f.positive_int("vocab_size");
  c.max_positions = f.positive_int("max_position_embeddings");
  c.d_model = f.positive_int("hidden_size");
  c.n_head = f.positive_int("num_attention_heads");
  c.n_kv_head = f.int_or("num_key_value_heads", c.n_head);
  c.n_layer = f.positive_int("num_hidden_layers");
  c.d_ff = f.positive_int("intermediate_size");
  c.activation_string = f.string_or("hidden_act", "silu");
  c.activation = parse_activation(c.activation_string, f, "hidden_act");
  if (c.activation != Activation::kSilu)
    fail("{}: hidden_act '{}' is not supported for olmo2 (silu)", f.label(), c.activation_string);
  c.gated_mlp = true;
  c.mlp_bias = false;
  c.norm = NormKind::kRmsNorm;
  c.norm_eps = f.number_or("rms_norm_eps", 1e-5);
  c.residual = ResidualWiring::kPostNormInside;
  c.qkv_source = QkvSource::kSeparate;
  c.qk_norm = QkNorm::kFullProjection;
  const bool bias = f.bool_or("attention_bias", false);
  c.q_bias = c.k_bias = c.v_bias = c.out_bias = bias;
  if (f.has("clip_qkv")) fail("{}: clip_qkv is not supported for olmo2", f.label());
  if (c.d_model % c.n_head != 0)
    fail("{}: hidden size {} is not divisible by the number of heads {}", f.label(), c.d_model, c.n_head);
  c.head_dim = c.d_model / c.n_head;
  c.rotary_style = RotaryStyle::kHalfSplit;
  c.rotary_ndims = c.head_dim;
  parse_rope(f, c, 10000.0);
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", false);
}

void olmo2_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, Q = c.n_head * c.head_dim,
                     KV = c.n_kv_head * c.head_dim;
  TableBuilder b(t);
  b.global(Role::kTokenEmbedding, "embed_tokens.weight", {V, D}, SynthInit::kNormal);
  for (int l = 0; l < c.n_layer; ++l) {
    b.layer(l, Role::kQWeight, "layers.{}.self_attn.q_proj.weight", {Q, D}, SynthInit::kNormal);
    if (c.q_bias) b.layer(l, Role::kQBias, "layers.{}.self_attn.q_proj.bias", {Q}, SynthInit::kZeros);
    b.layer(l, Role::kKWeight, "layers.{}.self_attn.k_proj.weight", {KV, D}, SynthInit::kNormal);
    if (c.k_bias) b.layer(l, Role::kKBias, "layers.{}.self_attn.k_proj.bias", {KV}, SynthInit::kZeros);
    b.layer(l, Role::kVWeight, "layers.{}.self_attn.v_proj.weight", {KV, D}, SynthInit::kNormal);
    if (c.v_bias) b.layer(l, Role::kVBias, "layers.{}.self_attn.v_proj.bias", {KV}, SynthInit::kZeros);
    b.layer(l, Role::kQNormWeight, "layers.{}.self_attn.q_norm.weight", {Q}, SynthInit::kOnes);
    b.layer(l, Role::kKNormWeight, "layers.{}.self_attn.k_norm.weight", {KV}, SynthInit::kOnes);
    b.layer(l, Role::kAttnOutWeight, "layers.{}.self_attn.o_proj.weight", {D, Q}, SynthInit::kResidualNormal);
    if (c.out_bias) b.layer(l, Role::kAttnOutBias, "layers.{}.self_attn.o_proj.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kAttnPostNormWeight, "layers.{}.post_attention_layernorm.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kMlpGateWeight, "layers.{}.mlp.gate_proj.weight", {F, D}, SynthInit::kNormal);
    b.layer(l, Role::kMlpUpWeight, "layers.{}.mlp.up_proj.weight", {F, D}, SynthInit::kNormal);
    b.layer(l, Role::kMlpDownWeight, "layers.{}.mlp.down_proj.weight", {D, F}, SynthInit::kResidualNormal);
    b.layer(l, Role::kMlpPostNormWeight, "layers.{}.post_feedforward_layernorm.weight", {D}, SynthInit::kOnes);
  }
  b.global(Role::kFinalNormWeight, "norm.weight", {D}, SynthInit::kFinalNormGain);
  if (c.tie_word_embeddings)
    b.top(Role::kTiedCopy, "lm_head.weight", {V, D}, SynthInit::kNormal, /*optional=*/true);
  else
    b.top(Role::kLmHead, "lm_head.weight", {V, D}, SynthInit::kNormal);
}

template <typename Scalar>
void olmo2_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids,
                   const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const int D = c.d_model;
  const std::size_t n = static_cast<std::size_t>(ctx.rows()) * D;
  auto& a = ctx.act;
  Scalar* x = a.residual.data();  // [B*T, D]

  embed_tokens(ctx, ids, x);
  ctx.step(-1, "embedding", x, D);
  capture_hidden(ctx, out, 0, x, D);
  prepare_rotary(ctx);
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
  norm(ctx, -1, "final_norm", a.normed.data(), x, Role::kFinalNormWeight);
  capture_hidden(ctx, out, c.n_layer, a.normed.data(), D);
  lm_head(ctx, a.normed.data(), out);
}

ES_INSTANTIATE_FORWARD(olmo2)

}  // namespace entroscope::model
