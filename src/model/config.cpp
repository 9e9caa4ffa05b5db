#include "model/config.h"

#include <cmath>

#include "common/error.h"
#include "common/json_file.h"

namespace entroscope::model {

std::string_view architecture_name(Architecture a) { return a == Architecture::kGpt2 ? "gpt2" : "gpt_neox"; }
std::string_view activation_name(Activation a) { return a == Activation::kGeluTanh ? "gelu (tanh approximation)" : "gelu (exact erf)"; }

namespace {

class Fields {
 public:
  Fields(const nlohmann::json& doc, const std::string& label) : doc_(doc), label_(label) {}

  bool has(const char* key) const { return doc_.contains(key) && !doc_[key].is_null(); }

  int positive_int(const char* key) const {
    if (!has(key)) fail("{}: missing '{}'", label_, key);
    const auto& v = doc_[key];
    if (!v.is_number_integer() || v.get<long long>() <= 0 || v.get<long long>() > (1LL << 30))
      fail("{}: '{}' must be a positive integer, got {}", label_, key, v.dump());
    return v.get<int>();
  }
  int int_or(const char* key, int fallback) const { return has(key) ? positive_int(key) : fallback; }
  double number_or(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const auto& v = doc_[key];
    if (!v.is_number()) fail("{}: '{}' must be a number, got {}", label_, key, v.dump());
    return v.get<double>();
  }
  bool bool_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const auto& v = doc_[key];
    if (!v.is_boolean()) fail("{}: '{}' must be true or false, got {}", label_, key, v.dump());
    return v.get<bool>();
  }
  std::string string_or(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const auto& v = doc_[key];
    if (!v.is_string()) fail("{}: '{}' must be a string, got {}", label_, key, v.dump());
    return v.get<std::string>();
  }
  int token_id_or(const char* key) const {
    if (!has(key)) return -1;
    const auto& v = doc_[key];
    if (v.is_number_integer()) return v.get<int>();
    if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int>();
    return -1;
  }

 private:
  const nlohmann::json& doc_;
  const std::string& label_;
};

Activation parse_activation(const std::string& name, const std::string& label, const char* key) {
  // transformers' ACT2FN: "gelu" is the exact erf form; the others are the tanh approximation
  // (gelu_fast computes the same function with a rearranged constant).
  if (name == "gelu") return Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_fast" || name == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  fail("{}: {} '{}' is not supported (supported: gelu, gelu_new, gelu_fast, gelu_pytorch_tanh)", label, key, name);
}

}  // namespace

ModelConfig parse_config(const nlohmann::json& doc, const std::string& label) {
  if (!doc.is_object()) fail("{}: config is not a JSON object", label);
  Fields f(doc, label);
  std::string model_type = f.string_or("model_type", "");
  if (model_type.empty()) fail("{}: missing 'model_type'", label);
  ModelConfig c;
  c.torch_dtype = f.string_or("torch_dtype", "");
  c.bos_token_id = f.token_id_or("bos_token_id");
  c.eos_token_id = f.token_id_or("eos_token_id");
  if (model_type == "gpt2") {
    c.arch = Architecture::kGpt2;
    c.vocab_size = f.positive_int("vocab_size");
    c.max_positions = f.positive_int("n_positions");
    c.d_model = f.positive_int("n_embd");
    c.n_head = f.positive_int("n_head");
    c.n_layer = f.positive_int("n_layer");
    c.d_ff = f.int_or("n_inner", 4 * c.d_model);
    c.activation_string = f.string_or("activation_function", "gelu_new");
    c.activation = parse_activation(c.activation_string, label, "activation_function");
    c.layer_norm_eps = f.number_or("layer_norm_epsilon", 1e-5);
    c.scale_attn_weights = f.bool_or("scale_attn_weights", true);
    c.scale_attn_by_inverse_layer_idx = f.bool_or("scale_attn_by_inverse_layer_idx", false);
    c.tie_word_embeddings = f.bool_or("tie_word_embeddings", true);
    if (!c.tie_word_embeddings)
      fail("{}: tie_word_embeddings=false is not supported for gpt2 (GPT2LMHeadModel's head is wte)", label);
    if (f.has("add_cross_attention") && f.bool_or("add_cross_attention", false))
      fail("{}: add_cross_attention=true is not supported", label);
  } else if (model_type == "gpt_neox") {
    c.arch = Architecture::kGptNeoX;
    c.vocab_size = f.positive_int("vocab_size");
    c.max_positions = f.positive_int("max_position_embeddings");
    c.d_model = f.positive_int("hidden_size");
    c.n_head = f.positive_int("num_attention_heads");
    c.n_layer = f.positive_int("num_hidden_layers");
    c.d_ff = f.positive_int("intermediate_size");
    c.activation_string = f.string_or("hidden_act", "gelu");
    c.activation = parse_activation(c.activation_string, label, "hidden_act");
    c.layer_norm_eps = f.number_or("layer_norm_eps", 1e-5);
    // Defaults as in transformers' GPTNeoXConfig (rotary_pct 0.25, base 10000). Newer transformers
    // write them under rope_parameters as partial_rotary_factor / rope_theta.
    c.rotary_base = f.number_or("rotary_emb_base", 10000.0);
    double rotary_pct = f.number_or("rotary_pct", 0.25);
    if (f.has("rope_parameters")) {
      const auto& rope = doc["rope_parameters"];
      if (!rope.is_object()) fail("{}: 'rope_parameters' must be an object", label);
      Fields r(rope, label);
      std::string type = r.string_or("rope_type", "default");
      if (type != "default") fail("{}: rope_parameters.rope_type '{}' is not supported (only 'default')", label, type);
      c.rotary_base = r.number_or("rope_theta", c.rotary_base);
      rotary_pct = r.number_or("partial_rotary_factor", rotary_pct);
    }
    if (!(rotary_pct >= 0.0 && rotary_pct <= 1.0)) fail("{}: rotary_pct must be in [0, 1], got {}", label, rotary_pct);
    c.parallel_residual = f.bool_or("use_parallel_residual", true);
    c.tie_word_embeddings = f.bool_or("tie_word_embeddings", false);
    c.attention_bias = f.bool_or("attention_bias", true);
    if (f.has("rope_scaling")) fail("{}: rope_scaling is not supported", label);
    if (!(c.rotary_base > 0.0)) fail("{}: rotary_emb_base must be positive", label);
    c.head_dim = c.d_model / c.n_head;
    c.rotary_ndims = static_cast<int>(c.head_dim * rotary_pct);  // int() truncation as in transformers
    if (c.rotary_ndims % 2 != 0) fail("{}: rotary dims {} (head_size x rotary_pct) must be even", label, c.rotary_ndims);
  } else {
    fail("{}: unknown model_type '{}' (supported: gpt2, gpt_neox)", label, model_type);
  }
  if (c.d_model % c.n_head != 0)
    fail("{}: hidden size {} is not divisible by the number of heads {}", label, c.d_model, c.n_head);
  c.head_dim = c.d_model / c.n_head;
  if (!(c.layer_norm_eps > 0.0 && std::isfinite(c.layer_norm_eps)))
    fail("{}: layer norm epsilon must be positive, got {}", label, c.layer_norm_eps);
  return c;
}

ModelConfig load_config(const std::filesystem::path& model_dir) {
  auto path = model_dir / "config.json";
  if (!std::filesystem::exists(path)) fail("{}: missing config.json", model_dir.string());
  return parse_config(read_json_file(path), path.string());
}

long long ModelConfig::non_embedding_parameter_count() const {
  long long d = d_model, f = d_ff;
  long long per_layer = 0;
  per_layer += 2 * 2 * d;       // two layer norms
  per_layer += d * 3 * d + 3 * d;  // fused qkv
  per_layer += d * d + d;       // attention output
  per_layer += d * f + f;       // mlp up
  per_layer += f * d + d;       // mlp down
  if (arch == Architecture::kGptNeoX && !attention_bias) per_layer -= 3 * d + d;
  return per_layer * n_layer + 2 * d;  // + final layer norm
}

long long ModelConfig::parameter_count() const {
  long long embeddings = static_cast<long long>(vocab_size) * d_model;  // wte / embed_in
  if (arch == Architecture::kGpt2) embeddings += static_cast<long long>(max_positions) * d_model;  // wpe
  if (!tie_word_embeddings) embeddings += static_cast<long long>(vocab_size) * d_model;  // embed_out
  return non_embedding_parameter_count() + embeddings;
}

}  // namespace entroscope::model
