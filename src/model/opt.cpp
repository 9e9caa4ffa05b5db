// OPT (transformers' OPTForCausalLM, eval mode):
//   x = embed_tokens[ids]                       [B*T, E], E = word_embed_proj_dim
//   x = project_in(x)                            when E != hidden_size (opt-350m)
//   x = x + embed_positions[pos + 2]             (the table has max_position_embeddings + 2 rows)
//   pre-LN (do_layer_norm_before, opt-125m and most sizes):
//     x = x + attn(self_attn_layer_norm(x));  x = x + fc2(relu(fc1(final_layer_norm(x))))
//     then the decoder's final_layer_norm
//   post-LN (opt-350m):
//     x = self_attn_layer_norm(x + attn(x));  x = final_layer_norm(x + mlp(x));  no decoder norm
//   x = project_out(x) when E != hidden_size;  logits = x @ embed_tokens^T (tied)
// All projections with bias (enable_bias); scores q.k / sqrt(head_dim) (transformers scales q after
// its bias: the same value up to rounding).
#include "common/error.h"
#include "kernels/kernels.h"
#include "model/architecture.h"
#include "model/blocks.h"

namespace entroscope::model {

void opt_parse_config(const ConfigFields& f, ModelConfig& c) {
  c.vocab_size = f.positive_int("vocab_size");
  c.max_positions = f.positive_int("max_position_embeddings");
  c.d_model = f.hidden_size("hidden_size");
  c.n_head = f.positive_int("num_attention_heads");
  c.n_layer = f.layer_count("num_hidden_layers");
  c.d_ff = f.positive_int("ffn_dim");
  c.embed_dim = f.int_or("word_embed_proj_dim", c.d_model);
  c.activation_string = f.string_or("activation_function", "relu");
  c.activation = parse_activation(c.activation_string, f, "activation_function");
  if (c.activation == Activation::kSilu) fail("{}: activation_function silu is not supported for opt", f.label());
  c.norm = NormKind::kLayerNorm;
  c.norm_eps = 1e-5;  // nn.LayerNorm's default: OPT has no eps field
  f.require_bool("layer_norm_elementwise_affine", true, "LayerNorm without weights");
  c.qkv_source = QkvSource::kSeparate;
  const bool bias = f.bool_or("enable_bias", true);
  c.q_bias = c.k_bias = c.v_bias = c.out_bias = c.mlp_bias = bias;
  c.learned_positions = true;
  c.position_offset = 2;  // OPTLearnedPositionalEmbedding
  const bool pre_ln = f.bool_or("do_layer_norm_before", true);
  c.residual = pre_ln ? ResidualWiring::kSequential : ResidualWiring::kPostLayerNorm;
  c.final_norm = pre_ln && !f.bool_or("_remove_final_layer_norm", false);
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", true);
}

void opt_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, E = c.embed_dim, P = c.max_positions;
  const bool post_ln = c.residual == ResidualWiring::kPostLayerNorm;
  TableBuilder b(t);
  b.global(Role::kTokenEmbedding, "embed_tokens.weight", {V, E}, SynthInit::kNormal);
  b.global(Role::kPositionEmbedding, "embed_positions.weight", {P + c.position_offset, D}, SynthInit::kNormal);
  if (E != D) {
    b.global(Role::kProjectIn, "project_in.weight", {D, E}, SynthInit::kNormal);
    b.global(Role::kProjectOut, "project_out.weight", {E, D}, SynthInit::kFanInNormal);
  }
  const SynthInit bias_init = SynthInit::kZeros;
  for (int l = 0; l < c.n_layer; ++l) {
    b.layer(l, Role::kQWeight, "layers.{}.self_attn.q_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kKWeight, "layers.{}.self_attn.k_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kVWeight, "layers.{}.self_attn.v_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kAttnOutWeight, "layers.{}.self_attn.out_proj.weight", {D, D}, SynthInit::kResidualNormal);
    if (c.q_bias) {
      b.layer(l, Role::kQBias, "layers.{}.self_attn.q_proj.bias", {D}, bias_init);
      b.layer(l, Role::kKBias, "layers.{}.self_attn.k_proj.bias", {D}, bias_init);
      b.layer(l, Role::kVBias, "layers.{}.self_attn.v_proj.bias", {D}, bias_init);
      b.layer(l, Role::kAttnOutBias, "layers.{}.self_attn.out_proj.bias", {D}, bias_init);
    }
    b.layer(l, Role::kAttnNormWeight, "layers.{}.self_attn_layer_norm.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kAttnNormBias, "layers.{}.self_attn_layer_norm.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kMlpUpWeight, "layers.{}.fc1.weight", {F, D}, SynthInit::kNormal);
    b.layer(l, Role::kMlpDownWeight, "layers.{}.fc2.weight", {D, F}, SynthInit::kResidualNormal);
    if (c.mlp_bias) {
      b.layer(l, Role::kMlpUpBias, "layers.{}.fc1.bias", {F}, bias_init);
      b.layer(l, Role::kMlpDownBias, "layers.{}.fc2.bias", {D}, bias_init);
    }
    // Post-LN has no decoder norm: the last block's norm carries synth's logit gain instead.
    const bool last_post_ln = post_ln && l + 1 == c.n_layer;
    b.layer(l, Role::kMlpNormWeight, "layers.{}.final_layer_norm.weight", {D},
            last_post_ln ? SynthInit::kFinalNormGain : SynthInit::kOnes);
    b.layer(l, Role::kMlpNormBias, "layers.{}.final_layer_norm.bias", {D}, SynthInit::kZeros);
  }
  if (c.final_norm) {
    b.global(Role::kFinalNormWeight, "final_layer_norm.weight", {D}, SynthInit::kFinalNormGain);
    b.global(Role::kFinalNormBias, "final_layer_norm.bias", {D}, SynthInit::kZeros);
  }
  if (c.tie_word_embeddings)
    b.top(Role::kTiedCopy, "lm_head.weight", {V, E}, SynthInit::kNormal, /*optional=*/true);
  else
    b.top(Role::kLmHead, "lm_head.weight", {V, E}, SynthInit::kNormal);
}

template <typename Scalar>
void opt_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids, const ForwardOutputsT<Scalar>& out) {
  const ModelConfig& c = ctx.config;
  const int D = c.d_model, E = c.embed_dim;
  const std::size_t n = static_cast<std::size_t>(ctx.rows()) * D;
  auto& a = ctx.act;
  Scalar* x = a.residual.data();  // [B*T, D]

  if (E != D) {
    embed_tokens(ctx, ids, a.embed.data());  // [B*T, E]
    project(ctx, x, D, a.embed.data(), E, D, ctx.matrix(-1, Role::kProjectIn), static_cast<const Scalar*>(nullptr));
    ctx.step(-1, "project_in", x, D);
  } else {
    embed_tokens(ctx, ids, x);
  }
  add_position_embedding(ctx, x);
  ctx.step(-1, "embedding", x, D);
  capture_hidden(ctx, out, 0, x, D);
  for (int l = 0; l < c.n_layer; ++l) {
    if (c.residual == ResidualWiring::kPostLayerNorm) {
      attention_block(ctx, l, x);
      kernels::add(x, x, a.attn_out.data(), n);
      norm(ctx, l, "attn.norm", x, x, Role::kAttnNormWeight, Role::kAttnNormBias);
      mlp_block(ctx, l, x);
      kernels::add(x, x, a.mlp_out.data(), n);
      norm(ctx, l, "mlp.norm", x, x, Role::kMlpNormWeight, Role::kMlpNormBias);
    } else {
      norm(ctx, l, "attn.norm", a.normed.data(), x, Role::kAttnNormWeight, Role::kAttnNormBias);
      attention_block(ctx, l, a.normed.data());
      kernels::add(x, x, a.attn_out.data(), n);
      ctx.step(l, "residual.attn", x, D);
      norm(ctx, l, "mlp.norm", a.normed.data(), x, Role::kMlpNormWeight, Role::kMlpNormBias);
      mlp_block(ctx, l, a.normed.data());
      kernels::add(x, x, a.mlp_out.data(), n);
      ctx.step(l, "residual.mlp", x, D);
    }
    if (l + 1 < c.n_layer) capture_hidden(ctx, out, l + 1, x, D);
  }
  const Scalar* h = x;
  if (c.final_norm) {
    norm(ctx, -1, "final_norm", a.normed.data(), x, Role::kFinalNormWeight, Role::kFinalNormBias);
    h = a.normed.data();
  }
  if (E != D) {
    project(ctx, a.embed.data(), E, h, D, E, ctx.matrix(-1, Role::kProjectOut), static_cast<const Scalar*>(nullptr));
    ctx.step(-1, "project_out", a.embed.data(), E);
    h = a.embed.data();
  }
  capture_hidden(ctx, out, c.n_layer, h, E);
  lm_head(ctx, h, out);
}

ES_INSTANTIATE_FORWARD(opt)

}  // namespace entroscope::model
