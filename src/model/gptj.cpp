// GPT-J (transformers' GPTJForCausalLM, eval mode): the pre-norm decoder (prenorm_forward.cpp) with
//   x = wte[ids]                                        (no position table)
//   per block:  h = ln_1(x);  x = x + out_proj(attn(h)) + fc_out(act(fc_in(h)))   (one shared norm)
//   logits = ln_f(x) @ lm_head^T + lm_head.bias        (untied, with bias)
// Rotary on the first rotary_dim dims of each head with INTERLEAVED pairs (2i, 2i+1), base 10000
// with the exponent over rotary_dim; q/k/v/out without bias; scores / sqrt(head_dim).
#include "common/error.h"
#include "model/architecture.h"

namespace entroscope::model {

void gptj_parse_config(const ConfigFields& f, ModelConfig& c) {
  parse_gpt2_style_config(f, c);  // GPTJConfig keeps GPT-2's field names
  c.qkv_source = QkvSource::kSeparate;
  c.residual = ResidualWiring::kParallelOneNorm;
  // transformers' GPT-J needs rotary_dim: with null its sin/cos tables do not fit the heads.
  if (!f.has("rotary_dim")) fail("{}: 'rotary_dim' is required for gptj", f.label());
  c.rotary_style = RotaryStyle::kInterleaved;
  c.rotary_ndims = f.positive_int("rotary_dim");
  c.rotary_base = 10000.0;  // fixed in GPTJAttention
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", false);
  if (c.tie_word_embeddings) fail("{}: tie_word_embeddings=true is not supported for gptj", f.label());
  c.lm_head_bias = true;
}

void gptj_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size;
  TableBuilder b(t);
  b.global(Role::kTokenEmbedding, "wte.weight", {V, D}, SynthInit::kNormal);
  for (int l = 0; l < c.n_layer; ++l) {
    b.layer(l, Role::kAttnNormWeight, "h.{}.ln_1.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kAttnNormBias, "h.{}.ln_1.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kQWeight, "h.{}.attn.q_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kKWeight, "h.{}.attn.k_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kVWeight, "h.{}.attn.v_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kAttnOutWeight, "h.{}.attn.out_proj.weight", {D, D}, SynthInit::kResidualNormal);
    b.layer(l, Role::kMlpUpWeight, "h.{}.mlp.fc_in.weight", {F, D}, SynthInit::kNormal);
    b.layer(l, Role::kMlpUpBias, "h.{}.mlp.fc_in.bias", {F}, SynthInit::kZeros);
    b.layer(l, Role::kMlpDownWeight, "h.{}.mlp.fc_out.weight", {D, F}, SynthInit::kResidualNormal);
    b.layer(l, Role::kMlpDownBias, "h.{}.mlp.fc_out.bias", {D}, SynthInit::kZeros);
  }
  b.global(Role::kFinalNormWeight, "ln_f.weight", {D}, SynthInit::kFinalNormGain);
  b.global(Role::kFinalNormBias, "ln_f.bias", {D}, SynthInit::kZeros);
  b.top(Role::kLmHead, "lm_head.weight", {V, D}, SynthInit::kNormal);
  b.top(Role::kLmHeadBias, "lm_head.bias", {V}, SynthInit::kZeros);
}

}  // namespace entroscope::model
