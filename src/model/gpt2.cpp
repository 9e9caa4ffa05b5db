// GPT-2 (transformers' GPT2LMHeadModel, eval mode):
//   x = wte[ids] + wpe[0..T-1]
//   per block:  x = x + c_proj(attn(ln_1(x)));  x = x + mlp(ln_2(x))
//   logits = ln_f(x) @ wte^T
// Conv1D weights are [in, out]; c_attn's output is three contiguous blocks q | k | v.
#include "common/error.h"
#include "model/architecture.h"

namespace entroscope::model {

void parse_gpt2_style_config(const ConfigFields& f, ModelConfig& c) {
  c.vocab_size = f.positive_int("vocab_size");
  c.max_positions = f.positive_int("n_positions");
  c.d_model = f.hidden_size("n_embd");
  c.n_head = f.positive_int("n_head");
  c.n_layer = f.layer_count("n_layer");
  c.d_ff = f.int_or("n_inner", 4 * c.d_model);
  c.activation_string = f.string_or("activation_function", "gelu_new");
  c.activation = parse_activation(c.activation_string, f, "activation_function");
  if (c.activation == Activation::kSilu)
    fail("{}: activation_function silu is not supported for {}", f.label(), architecture_name(c.arch));
  c.norm = NormKind::kLayerNorm;
  c.norm_eps = f.number_or("layer_norm_epsilon", 1e-5);
}

void gpt2_parse_config(const ConfigFields& f, ModelConfig& c) {
  parse_gpt2_style_config(f, c);
  c.qkv_source = QkvSource::kFusedBlocks;
  c.out_bias = true;
  c.learned_positions = true;
  c.scale_attn_weights = f.bool_or("scale_attn_weights", true);
  c.scale_attn_by_inverse_layer_idx = f.bool_or("scale_attn_by_inverse_layer_idx", false);
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", true);
  if (!c.tie_word_embeddings)
    fail("{}: tie_word_embeddings=false is not supported for gpt2 (GPT2LMHeadModel's head is wte)", f.label());
  f.require_bool("add_cross_attention", false, "no encoder to attend to");
}

void gpt2_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, P = c.max_positions;
  TableBuilder b(t);
  b.global(Role::kTokenEmbedding, "wte.weight", {V, D}, SynthInit::kNormal);
  b.global(Role::kPositionEmbedding, "wpe.weight", {P, D}, SynthInit::kNormal);
  for (int l = 0; l < c.n_layer; ++l) {
    b.layer(l, Role::kAttnNormWeight, "h.{}.ln_1.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kAttnNormBias, "h.{}.ln_1.bias", {D}, SynthInit::kZeros);
    // The Hub's files carry the causal mask buffers: synth writes them so its files have the real size.
    b.layer(l, Role::kBuffer, "h.{}.attn.bias", {1, 1, P, P}, SynthInit::kCausalMask);
    b.layer(l, Role::kQkvWeight, "h.{}.attn.c_attn.weight", {D, 3 * D}, SynthInit::kNormal);
    b.layer(l, Role::kQkvBias, "h.{}.attn.c_attn.bias", {3 * D}, SynthInit::kZeros);
    b.layer(l, Role::kAttnOutWeight, "h.{}.attn.c_proj.weight", {D, D}, SynthInit::kResidualNormal);
    b.layer(l, Role::kAttnOutBias, "h.{}.attn.c_proj.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kMlpNormWeight, "h.{}.ln_2.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kMlpNormBias, "h.{}.ln_2.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kMlpUpWeight, "h.{}.mlp.c_fc.weight", {D, F}, SynthInit::kNormal);
    b.layer(l, Role::kMlpUpBias, "h.{}.mlp.c_fc.bias", {F}, SynthInit::kZeros);
    b.layer(l, Role::kMlpDownWeight, "h.{}.mlp.c_proj.weight", {F, D}, SynthInit::kResidualNormal);
    b.layer(l, Role::kMlpDownBias, "h.{}.mlp.c_proj.bias", {D}, SynthInit::kZeros);
  }
  b.global(Role::kFinalNormWeight, "ln_f.weight", {D}, SynthInit::kFinalNormGain);
  b.global(Role::kFinalNormBias, "ln_f.bias", {D}, SynthInit::kZeros);
  b.top(Role::kTiedCopy, "lm_head.weight", {V, D}, SynthInit::kNormal, /*optional=*/true);
}

}  // namespace entroscope::model
