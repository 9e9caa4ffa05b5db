// GPT-NeoX / Pythia (transformers' GPTNeoXForCausalLM, eval mode):
//   x = embed_in[ids]                                   (no position embedding: rotary instead)
//   parallel residual:   x = x + attn(ln1(x)) + mlp(ln2(x))
//   sequential residual: h = x + attn(ln1(x));  x = h + mlp(ln2(h))
//   logits = final_layer_norm(x) @ embed_out^T
// Linear weights are [out, in]; query_key_value's output is split per head into [q k v].
// Rotary (rotate-half) applies to the first rotary_ndims dims of each q/k head.
#include "common/error.h"
#include "model/architecture.h"

namespace entroscope::model {

void gpt_neox_parse_config(const ConfigFields& f, ModelConfig& c) {
  c.vocab_size = f.positive_int("vocab_size");
  c.max_positions = f.positive_int("max_position_embeddings");
  c.d_model = f.hidden_size("hidden_size");
  c.n_head = f.positive_int("num_attention_heads");
  c.n_layer = f.layer_count("num_hidden_layers");
  c.d_ff = f.positive_int("intermediate_size");
  c.activation_string = f.string_or("hidden_act", "gelu");
  c.activation = parse_activation(c.activation_string, f, "hidden_act");
  if (c.activation == Activation::kSilu) fail("{}: hidden_act silu is not supported for gpt_neox", f.label());
  c.norm = NormKind::kLayerNorm;
  c.norm_eps = f.number_or("layer_norm_eps", 1e-5);
  c.qkv_source = QkvSource::kFusedPerHead;
  // Defaults as in transformers' GPTNeoXConfig (rotary_pct 0.25, base 10000). Newer transformers
  // write them under rope_parameters as partial_rotary_factor / rope_theta.
  c.rotary_style = RotaryStyle::kHalfSplit;
  c.rotary_base = f.number_or("rotary_emb_base", 10000.0);
  double rotary_pct = f.number_or("rotary_pct", 0.25);
  if (f.has("rope_parameters")) {
    const auto& rope = f.doc()["rope_parameters"];
    if (!rope.is_object()) fail("{}: 'rope_parameters' must be an object", f.label());
    ConfigFields r(rope, f.label());
    std::string type = r.string_or("rope_type", "default");
    if (type != "default") fail("{}: rope_parameters.rope_type '{}' is not supported (only 'default')", f.label(), type);
    c.rotary_base = r.number_or("rope_theta", c.rotary_base);
    rotary_pct = r.number_or("partial_rotary_factor", rotary_pct);
  }
  if (!(rotary_pct >= 0.0 && rotary_pct <= 1.0)) fail("{}: rotary_pct must be in [0, 1], got {}", f.label(), rotary_pct);
  if (f.has("rope_scaling")) fail("{}: rope_scaling is not supported for gpt_neox", f.label());
  if (!(c.rotary_base > 0.0)) fail("{}: rotary_emb_base must be positive", f.label());
  if (c.d_model % c.n_head != 0)
    fail("{}: hidden size {} is not divisible by the number of heads {}", f.label(), c.d_model, c.n_head);
  c.head_dim = c.d_model / c.n_head;
  c.rotary_ndims = static_cast<int>(c.head_dim * rotary_pct);  // int() truncation as in transformers
  if (c.rotary_ndims % 2 != 0)
    fail("{}: rotary dims {} (head_size x rotary_pct) must be even", f.label(), c.rotary_ndims);
  c.residual = f.bool_or("use_parallel_residual", true) ? ResidualWiring::kParallel : ResidualWiring::kSequential;
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", false);
  const bool bias = f.bool_or("attention_bias", true);
  c.q_bias = c.k_bias = c.v_bias = c.out_bias = bias;
}

void gpt_neox_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size;
  TableBuilder b(t);
  b.global(Role::kTokenEmbedding, "embed_in.weight", {V, D}, SynthInit::kNormal);
  for (int l = 0; l < c.n_layer; ++l) {
    b.layer(l, Role::kAttnNormWeight, "layers.{}.input_layernorm.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kAttnNormBias, "layers.{}.input_layernorm.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kQkvWeight, "layers.{}.attention.query_key_value.weight", {3 * D, D}, SynthInit::kNormal);
    if (c.q_bias) b.layer(l, Role::kQkvBias, "layers.{}.attention.query_key_value.bias", {3 * D}, SynthInit::kZeros);
    b.layer(l, Role::kAttnOutWeight, "layers.{}.attention.dense.weight", {D, D}, SynthInit::kResidualNormal);
    if (c.out_bias) b.layer(l, Role::kAttnOutBias, "layers.{}.attention.dense.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kMlpNormWeight, "layers.{}.post_attention_layernorm.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kMlpNormBias, "layers.{}.post_attention_layernorm.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kMlpUpWeight, "layers.{}.mlp.dense_h_to_4h.weight", {F, D}, SynthInit::kNormal);
    b.layer(l, Role::kMlpUpBias, "layers.{}.mlp.dense_h_to_4h.bias", {F}, SynthInit::kZeros);
    b.layer(l, Role::kMlpDownWeight, "layers.{}.mlp.dense_4h_to_h.weight", {D, F}, SynthInit::kResidualNormal);
    b.layer(l, Role::kMlpDownBias, "layers.{}.mlp.dense_4h_to_h.bias", {D}, SynthInit::kZeros);
  }
  b.global(Role::kFinalNormWeight, "final_layer_norm.weight", {D}, SynthInit::kFinalNormGain);
  b.global(Role::kFinalNormBias, "final_layer_norm.bias", {D}, SynthInit::kZeros);
  if (c.tie_word_embeddings)
    b.top(Role::kTiedCopy, "embed_out.weight", {V, D}, SynthInit::kNormal, /*optional=*/true);
  else
    b.top(Role::kLmHead, "embed_out.weight", {V, D}, SynthInit::kNormal);
}

}  // namespace entroscope::model
