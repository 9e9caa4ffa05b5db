// GPT-Neo (transformers' GPTNeoForCausalLM, eval mode):
//   x = wte[ids] + wpe[0..T-1]
//   per block:  x = x + out_proj(attn(ln_1(x)));  x = x + c_proj(act(c_fc(ln_2(x))))
//   logits = ln_f(x) @ wte^T                      (tied)
// Attention scores are q.k with NO 1/sqrt(head_dim); layer i is global or local per
// attention_layers[i] (local: keys i - window_size < j <= i). q/k/v without bias, out_proj with.
#include "common/error.h"
#include "model/architecture.h"

namespace entroscope::model {

namespace {
// attention_types [[["global", "local"], 12]] expands to ["global", "local", "global", ...].
std::vector<std::string> expand_attention_types(const ConfigFields& f, int n_layer) {
  const auto& types = f.doc()["attention_types"];
  std::vector<std::string> layers;
  if (!types.is_array()) fail("{}: 'attention_types' must be a list", f.label());
  for (const auto& entry : types) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_array() || !entry[1].is_number_integer() ||
        entry[1].get<int>() < 0)
      fail("{}: 'attention_types' entries must be [[types...], repeat], got {}", f.label(), entry.dump());
    for (int r = 0; r < entry[1].get<int>(); ++r)
      for (const auto& t : entry[0]) {
        if (!t.is_string()) fail("{}: 'attention_types' holds a non-string {}", f.label(), t.dump());
        // Bounded by num_layers as it expands: a repeat count of 1e9 must not fill memory first.
        if (static_cast<int>(layers.size()) == n_layer)
          fail("{}: 'attention_types' names more than num_layers ({}) layers", f.label(), n_layer);
        layers.push_back(t.get<std::string>());
      }
  }
  return layers;
}
}  // namespace

void gpt_neo_parse_config(const ConfigFields& f, ModelConfig& c) {
  c.vocab_size = f.positive_int("vocab_size");
  c.max_positions = f.positive_int("max_position_embeddings");
  c.d_model = f.hidden_size("hidden_size");
  c.n_head = f.positive_int("num_heads");
  c.n_layer = f.layer_count("num_layers");
  c.d_ff = f.int_or("intermediate_size", 4 * c.d_model);
  c.activation_string = f.string_or("activation_function", "gelu_new");
  c.activation = parse_activation(c.activation_string, f, "activation_function");
  if (c.activation == Activation::kSilu) fail("{}: activation_function silu is not supported for gpt_neo", f.label());
  c.norm = NormKind::kLayerNorm;
  c.norm_eps = f.number_or("layer_norm_epsilon", 1e-5);
  c.qkv_source = QkvSource::kSeparate;
  c.out_bias = true;
  c.learned_positions = true;
  c.scale_attn_weights = false;  // GPTNeoSelfAttention does not scale the scores
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", true);

  // Per-layer windows: attention_layers (the expanded list transformers writes) or attention_types.
  std::vector<std::string> kinds;
  if (f.has("attention_types")) kinds = expand_attention_types(f, c.n_layer);
  if (f.has("attention_layers")) {
    const auto& v = f.doc()["attention_layers"];
    std::vector<std::string> listed;
    if (!v.is_array()) fail("{}: 'attention_layers' must be a list", f.label());
    for (const auto& t : v) {
      if (!t.is_string()) fail("{}: 'attention_layers' holds a non-string {}", f.label(), t.dump());
      listed.push_back(t.get<std::string>());
    }
    if (!kinds.empty() && kinds != listed)
      fail("{}: 'attention_layers' disagrees with the expansion of 'attention_types'", f.label());
    kinds = listed;
  }
  if (kinds.empty()) fail("{}: missing 'attention_types' / 'attention_layers'", f.label());
  if (static_cast<int>(kinds.size()) != c.n_layer)
    fail("{}: attention types name {} layers, num_layers is {}", f.label(), kinds.size(), c.n_layer);
  const int window = f.positive_int("window_size");
  for (const auto& k : kinds) {
    if (k == "global")
      c.layer_window.push_back(0);
    else if (k == "local")
      c.layer_window.push_back(window);
    else
      fail("{}: attention type '{}' is not supported (global, local)", f.label(), k);
  }
}

void gpt_neo_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, P = c.max_positions;
  TableBuilder b(t);
  b.global(Role::kTokenEmbedding, "wte.weight", {V, D}, SynthInit::kNormal);
  b.global(Role::kPositionEmbedding, "wpe.weight", {P, D}, SynthInit::kNormal);
  for (int l = 0; l < c.n_layer; ++l) {
    b.layer(l, Role::kAttnNormWeight, "h.{}.ln_1.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kAttnNormBias, "h.{}.ln_1.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kQWeight, "h.{}.attn.attention.q_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kKWeight, "h.{}.attn.attention.k_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kVWeight, "h.{}.attn.attention.v_proj.weight", {D, D}, SynthInit::kNormal);
    b.layer(l, Role::kAttnOutWeight, "h.{}.attn.attention.out_proj.weight", {D, D}, SynthInit::kResidualNormal);
    b.layer(l, Role::kAttnOutBias, "h.{}.attn.attention.out_proj.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kMlpNormWeight, "h.{}.ln_2.weight", {D}, SynthInit::kOnes);
    b.layer(l, Role::kMlpNormBias, "h.{}.ln_2.bias", {D}, SynthInit::kZeros);
    b.layer(l, Role::kMlpUpWeight, "h.{}.mlp.c_fc.weight", {F, D}, SynthInit::kNormal);
    b.layer(l, Role::kMlpUpBias, "h.{}.mlp.c_fc.bias", {F}, SynthInit::kZeros);
    b.layer(l, Role::kMlpDownWeight, "h.{}.mlp.c_proj.weight", {D, F}, SynthInit::kResidualNormal);
    b.layer(l, Role::kMlpDownBias, "h.{}.mlp.c_proj.bias", {D}, SynthInit::kZeros);
  }
  b.global(Role::kFinalNormWeight, "ln_f.weight", {D}, SynthInit::kFinalNormGain);
  b.global(Role::kFinalNormBias, "ln_f.bias", {D}, SynthInit::kZeros);
  if (c.tie_word_embeddings)
    b.top(Role::kTiedCopy, "lm_head.weight", {V, D}, SynthInit::kNormal, /*optional=*/true);
  else
    b.top(Role::kLmHead, "lm_head.weight", {V, D}, SynthInit::kNormal);
}

}  // namespace entroscope::model
