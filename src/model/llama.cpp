// Llama, Mistral, Qwen2 and Qwen3 (transformers' *ForCausalLM, eval mode): the pre-norm decoder
// (prenorm_forward.cpp) with RMSNorm, separate q/k/v projections, grouped-query attention, rotary
// (half split) over the whole head, and a SwiGLU MLP:
//   x = embed_tokens[ids]
//   per layer:  x = x + o_proj(attn(input_layernorm(x)))
//               h = post_attention_layernorm(x);  x = x + down_proj(silu(gate_proj(h)) * up_proj(h))
//   logits = norm(x) @ lm_head^T                        (embed_tokens^T when tied)
// What differs between the four is parsed here: biases (Llama attention_bias / mlp_bias; Qwen2
// always on q/k/v), Qwen3's per-head q_norm/k_norm before rotary, sliding windows (Mistral on every
// layer; Qwen2/3 only with use_sliding_window), head_dim defaults, rope scaling.
#include "common/error.h"
#include "model/architecture.h"

namespace entroscope::model {

namespace {
// Qwen2/Qwen3: the window applies only with use_sliding_window, and then to the layers whose
// layer_types entry is "sliding_attention" (default: layers >= max_window_layers).
void qwen_windows(const ConfigFields& f, ModelConfig& c) {
  if (!f.bool_or("use_sliding_window", false) || !f.has("sliding_window")) return;
  const int window = f.positive_int("sliding_window");
  c.layer_window.assign(c.n_layer, 0);
  if (f.has("layer_types")) {
    const auto& types = f.doc()["layer_types"];
    if (!types.is_array() || static_cast<int>(types.size()) != c.n_layer)
      fail("{}: 'layer_types' must list one type per layer ({})", f.label(), c.n_layer);
    for (int l = 0; l < c.n_layer; ++l) {
      const std::string t = types[l].is_string() ? types[l].get<std::string>() : types[l].dump();
      if (t == "sliding_attention")
        c.layer_window[l] = window;
      else if (t != "full_attention")
        fail("{}: layer_types[{}] '{}' is not supported (full_attention, sliding_attention)", f.label(), l, t);
    }
  } else {
    const int first = f.has("max_window_layers") ? f.positive_int("max_window_layers") : 0;
    for (int l = first; l < c.n_layer; ++l) c.layer_window[l] = window;
  }
}
}  // namespace

void parse_llama_style_config(const ConfigFields& f, ModelConfig& c, double default_eps) {
  c.vocab_size = f.positive_int("vocab_size");
  c.max_positions = f.positive_int("max_position_embeddings");
  c.d_model = f.hidden_size("hidden_size");
  c.n_head = f.positive_int("num_attention_heads");
  c.n_kv_head = f.int_or("num_key_value_heads", c.n_head);
  c.n_layer = f.layer_count("num_hidden_layers");
  c.d_ff = f.positive_int("intermediate_size");
  // head_dim: explicit, else hidden_size / heads (Qwen3's config class defaults it to 128).
  const int default_head_dim = c.arch == Architecture::kQwen3 ? 128 : 0;
  c.head_dim = f.int_or("head_dim", default_head_dim);
  if (c.head_dim == 0) {
    if (c.d_model % c.n_head != 0)
      fail("{}: hidden size {} is not divisible by the number of heads {}", f.label(), c.d_model, c.n_head);
    c.head_dim = c.d_model / c.n_head;
  }
  c.activation_string = f.string_or("hidden_act", "silu");
  c.activation = parse_activation(c.activation_string, f, "hidden_act");
  if (c.activation != Activation::kSilu)
    fail("{}: hidden_act '{}' is not supported for {} (silu)", f.label(), c.activation_string, architecture_name(c.arch));
  c.gated_mlp = true;
  c.mlp_bias = false;
  c.norm = NormKind::kRmsNorm;
  c.norm_eps = f.number_or("rms_norm_eps", default_eps);
  c.qkv_source = QkvSource::kSeparate;
  c.rotary_style = RotaryStyle::kHalfSplit;
  c.rotary_ndims = c.head_dim;
  parse_rope(f, c, 10000.0);
  if (f.has("partial_rotary_factor") && f.number_or("partial_rotary_factor", 1.0) != 1.0)
    fail("{}: partial_rotary_factor != 1 is not supported for {}", f.label(), architecture_name(c.arch));
  c.tie_word_embeddings = f.bool_or("tie_word_embeddings", false);
}

void llama_style_attention_tensors(TableBuilder& b, const ModelConfig& c, int l) {
  const std::int64_t D = c.d_model, Q = c.n_head * c.head_dim, KV = c.n_kv_head * c.head_dim;
  b.layer(l, Role::kQWeight, "layers.{}.self_attn.q_proj.weight", {Q, D}, SynthInit::kNormal);
  if (c.q_bias) b.layer(l, Role::kQBias, "layers.{}.self_attn.q_proj.bias", {Q}, SynthInit::kZeros);
  b.layer(l, Role::kKWeight, "layers.{}.self_attn.k_proj.weight", {KV, D}, SynthInit::kNormal);
  if (c.k_bias) b.layer(l, Role::kKBias, "layers.{}.self_attn.k_proj.bias", {KV}, SynthInit::kZeros);
  b.layer(l, Role::kVWeight, "layers.{}.self_attn.v_proj.weight", {KV, D}, SynthInit::kNormal);
  if (c.v_bias) b.layer(l, Role::kVBias, "layers.{}.self_attn.v_proj.bias", {KV}, SynthInit::kZeros);
  const std::int64_t q_norm = c.qk_norm == QkNorm::kPerHead ? c.head_dim : Q;
  const std::int64_t k_norm = c.qk_norm == QkNorm::kPerHead ? c.head_dim : KV;
  if (c.qk_norm != QkNorm::kNone) {
    b.layer(l, Role::kQNormWeight, "layers.{}.self_attn.q_norm.weight", {q_norm}, SynthInit::kOnes);
    b.layer(l, Role::kKNormWeight, "layers.{}.self_attn.k_norm.weight", {k_norm}, SynthInit::kOnes);
  }
  b.layer(l, Role::kAttnOutWeight, "layers.{}.self_attn.o_proj.weight", {D, Q}, SynthInit::kResidualNormal);
  if (c.out_bias) b.layer(l, Role::kAttnOutBias, "layers.{}.self_attn.o_proj.bias", {D}, SynthInit::kZeros);
}

void llama_style_mlp_tensors(TableBuilder& b, const ModelConfig& c, int l) {
  const std::int64_t D = c.d_model, F = c.d_ff;
  b.layer(l, Role::kMlpGateWeight, "layers.{}.mlp.gate_proj.weight", {F, D}, SynthInit::kNormal);
  if (c.mlp_bias) b.layer(l, Role::kMlpGateBias, "layers.{}.mlp.gate_proj.bias", {F}, SynthInit::kZeros);
  b.layer(l, Role::kMlpUpWeight, "layers.{}.mlp.up_proj.weight", {F, D}, SynthInit::kNormal);
  if (c.mlp_bias) b.layer(l, Role::kMlpUpBias, "layers.{}.mlp.up_proj.bias", {F}, SynthInit::kZeros);
  b.layer(l, Role::kMlpDownWeight, "layers.{}.mlp.down_proj.weight", {D, F}, SynthInit::kResidualNormal);
  if (c.mlp_bias) b.layer(l, Role::kMlpDownBias, "layers.{}.mlp.down_proj.bias", {D}, SynthInit::kZeros);
}

void llama_style_ends(TableBuilder& b, const ModelConfig& c, bool before_layers) {
  const std::int64_t D = c.d_model, V = c.vocab_size;
  if (before_layers) {
    b.global(Role::kTokenEmbedding, "embed_tokens.weight", {V, D}, SynthInit::kNormal);
    return;
  }
  b.global(Role::kFinalNormWeight, "norm.weight", {D}, SynthInit::kFinalNormGain);
  if (c.tie_word_embeddings)
    b.top(Role::kTiedCopy, "lm_head.weight", {V, D}, SynthInit::kNormal, /*optional=*/true);
  else
    b.top(Role::kLmHead, "lm_head.weight", {V, D}, SynthInit::kNormal);
}

void llama_parse_config(const ConfigFields& f, ModelConfig& c) {
  parse_llama_style_config(f, c, 1e-6);
  switch (c.arch) {
    case Architecture::kLlama: {
      const bool bias = f.bool_or("attention_bias", false);
      c.q_bias = c.k_bias = c.v_bias = c.out_bias = bias;
      c.mlp_bias = f.bool_or("mlp_bias", false);
      break;
    }
    case Architecture::kMistral:
      // Every layer sees keys i - sliding_window < j <= i (transformers' current masks).
      if (f.has("sliding_window")) c.layer_window.assign(c.n_layer, f.positive_int("sliding_window"));
      break;
    case Architecture::kQwen2:
      c.q_bias = c.k_bias = c.v_bias = true;  // Qwen2Attention: always on q/k/v, never on o_proj
      qwen_windows(f, c);
      break;
    case Architecture::kQwen3: {
      const bool bias = f.bool_or("attention_bias", false);
      c.q_bias = c.k_bias = c.v_bias = c.out_bias = bias;
      c.qk_norm = QkNorm::kPerHead;
      qwen_windows(f, c);
      break;
    }
    case Architecture::kGpt2:
    case Architecture::kGptNeoX:
    case Architecture::kGptNeo:
    case Architecture::kGptJ:
    case Architecture::kOpt:
    case Architecture::kOlmo2:
      fail("internal: {} parsed as a Llama-like config", architecture_name(c.arch));
  }
}

void llama_tensors(const ModelConfig& c, std::vector<TensorEntry>& t) {
  const std::int64_t D = c.d_model;
  TableBuilder b(t);
  llama_style_ends(b, c, /*before_layers=*/true);
  for (int l = 0; l < c.n_layer; ++l) {
    b.layer(l, Role::kAttnNormWeight, "layers.{}.input_layernorm.weight", {D}, SynthInit::kOnes);
    llama_style_attention_tensors(b, c, l);
    b.layer(l, Role::kMlpNormWeight, "layers.{}.post_attention_layernorm.weight", {D}, SynthInit::kOnes);
    llama_style_mlp_tensors(b, c, l);
  }
  llama_style_ends(b, c, /*before_layers=*/false);
}

}  // namespace entroscope::model
