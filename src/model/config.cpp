#include "model/config.h"

#include <cmath>

#include "common/error.h"
#include "common/json_file.h"
#include "model/architecture.h"

namespace entroscope::model {

std::string_view activation_name(Activation a) {
  switch (a) {
    case Activation::kGeluTanh: return "gelu (tanh approximation)";
    case Activation::kGeluErf: return "gelu (exact erf)";
    case Activation::kRelu: return "relu";
    case Activation::kSilu: return "silu";
  }
  return "?";
}

std::string_view norm_name(NormKind n) {
  switch (n) {
    case NormKind::kLayerNorm: return "LayerNorm";
    case NormKind::kRmsNorm: return "RMSNorm";
  }
  return "?";
}

std::string_view residual_name(ResidualWiring r) {
  switch (r) {
    case ResidualWiring::kSequential: return "sequential pre-norm";
    case ResidualWiring::kParallel: return "parallel (two norms)";
    case ResidualWiring::kParallelOneNorm: return "parallel (one shared norm)";
    case ResidualWiring::kPostLayerNorm: return "post-LN";
    case ResidualWiring::kPostNormInside: return "norm inside the residual (post-norm)";
  }
  return "?";
}

int ConfigFields::positive_int(const char* key) const {
  if (!has(key)) fail("{}: missing '{}'", label_, key);
  const auto& v = doc_[key];
  if (!v.is_number_integer() || v.get<long long>() <= 0 || v.get<long long>() > (1LL << 30))
    fail("{}: '{}' must be a positive integer, got {}", label_, key, v.dump());
  return v.get<int>();
}

int ConfigFields::layer_count(const char* key) const {
  const int n = positive_int(key);
  if (n > kMaxLayers) fail("{}: '{}' is {}; at most {} layers are supported (the limit)", label_, key, n, kMaxLayers);
  return n;
}

int ConfigFields::hidden_size(const char* key) const {
  const int n = positive_int(key);
  if (n > kMaxHiddenSize) fail("{}: '{}' is {}; at most {} is supported (the limit)", label_, key, n, kMaxHiddenSize);
  return n;
}

int ConfigFields::int_or(const char* key, int fallback) const { return has(key) ? positive_int(key) : fallback; }

double ConfigFields::number_or(const char* key, double fallback) const {
  if (!has(key)) return fallback;
  const auto& v = doc_[key];
  if (!v.is_number()) fail("{}: '{}' must be a number, got {}", label_, key, v.dump());
  return v.get<double>();
}

bool ConfigFields::bool_or(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = doc_[key];
  if (!v.is_boolean()) fail("{}: '{}' must be true or false, got {}", label_, key, v.dump());
  return v.get<bool>();
}

std::string ConfigFields::string_or(const char* key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const auto& v = doc_[key];
  if (!v.is_string()) fail("{}: '{}' must be a string, got {}", label_, key, v.dump());
  return v.get<std::string>();
}

int ConfigFields::token_id_or(const char* key) const {
  if (!has(key)) return -1;
  const auto& v = doc_[key];
  if (v.is_number_integer()) return v.get<int>();
  if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int>();
  return -1;
}

void ConfigFields::require_bool(const char* key, bool expected, const char* why) const {
  if (has(key) && bool_or(key, expected) != expected)
    fail("{}: {}={} is not supported ({})", label_, key, expected ? "false" : "true", why);
}

Activation parse_activation(const std::string& name, const ConfigFields& f, const char* key) {
  // transformers' ACT2FN: "gelu" is the exact erf form; gelu_new / gelu_fast / gelu_pytorch_tanh
  // the tanh approximation (gelu_fast computes the same function with a rearranged constant).
  if (name == "gelu") return Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_fast" || name == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (name == "relu") return Activation::kRelu;
  if (name == "silu" || name == "swish") return Activation::kSilu;
  fail("{}: {} '{}' is not supported (supported: gelu, gelu_new, gelu_fast, gelu_pytorch_tanh, relu, silu)", f.label(),
       key, name);
}

namespace {
// One rope object: rope_scaling (older transformers) or rope_parameters (newer: also rope_theta).
void parse_rope_object(const nlohmann::json& obj, const std::string& field, const ConfigFields& f, ModelConfig& c) {
  if (!obj.is_object()) fail("{}: '{}' must be an object or null", f.label(), field);
  ConfigFields r(obj, f.label());
  // "type" is the pre-4.40 spelling of "rope_type".
  std::string type = r.string_or("rope_type", r.string_or("type", "default"));
  c.rotary_base = r.number_or("rope_theta", c.rotary_base);
  auto number = [&](const char* key) {
    if (!r.has(key)) fail("{}: {}.{} is required for rope type '{}'", f.label(), field, key, type);
    double v = r.number_or(key, 0.0);
    if (!(v > 0.0 && std::isfinite(v))) fail("{}: {}.{} must be positive, got {}", f.label(), field, key, v);
    return v;
  };
  if (type == "default") {
    c.rope_scaling = {};
  } else if (type == "linear") {
    c.rope_scaling.type = RopeScaling::Type::kLinear;
    c.rope_scaling.factor = number("factor");
  } else if (type == "llama3") {
    c.rope_scaling.type = RopeScaling::Type::kLlama3;
    c.rope_scaling.factor = number("factor");
    c.rope_scaling.low_freq_factor = number("low_freq_factor");
    c.rope_scaling.high_freq_factor = number("high_freq_factor");
    c.rope_scaling.original_max_positions = number("original_max_position_embeddings");
    if (!(c.rope_scaling.high_freq_factor > c.rope_scaling.low_freq_factor))
      fail("{}: {}.high_freq_factor must exceed low_freq_factor", f.label(), field);
  } else {
    fail("{}: {} type '{}' is not supported (supported: default, linear, llama3)", f.label(), field, type);
  }
}
}  // namespace

void parse_rope(const ConfigFields& f, ModelConfig& c, double default_theta) {
  c.rotary_base = f.number_or("rope_theta", default_theta);
  if (f.has("rope_scaling")) parse_rope_object(f.doc()["rope_scaling"], "rope_scaling", f, c);
  if (f.has("rope_parameters")) parse_rope_object(f.doc()["rope_parameters"], "rope_parameters", f, c);
  if (!(c.rotary_base > 0.0 && std::isfinite(c.rotary_base)))
    fail("{}: rope_theta must be positive, got {}", f.label(), c.rotary_base);
}

ModelConfig parse_config(const nlohmann::json& doc, const std::string& label) {
  if (!doc.is_object()) fail("{}: config is not a JSON object", label);
  ConfigFields f(doc, label);
  std::string model_type = f.string_or("model_type", "");
  if (model_type.empty()) fail("{}: missing 'model_type'", label);
  ModelConfig c;
  if (!architecture_from_model_type(model_type, c.arch))
    fail("{}: unknown model_type '{}' (supported: {})", label, model_type, supported_model_types());
  c.torch_dtype = f.string_or("torch_dtype", f.string_or("dtype", ""));
  c.bos_token_id = f.token_id_or("bos_token_id");
  c.eos_token_id = f.token_id_or("eos_token_id");
  parse_family_config(f, c);

  // What every family must satisfy.
  if (c.n_kv_head == 0) c.n_kv_head = c.n_head;
  if (c.head_dim == 0) {
    if (c.d_model % c.n_head != 0)
      fail("{}: hidden size {} is not divisible by the number of heads {}", label, c.d_model, c.n_head);
    c.head_dim = c.d_model / c.n_head;
  }
  if (c.head_dim > kMaxHeadDim)
    fail("{}: attention head size {} exceeds the supported {} (the limit)", label, c.head_dim, kMaxHeadDim);
  if (c.embed_dim == 0) c.embed_dim = c.d_model;
  if (c.n_head % c.n_kv_head != 0)
    fail("{}: {} attention heads are not a multiple of {} key/value heads", label, c.n_head, c.n_kv_head);
  if (c.rotary_style != RotaryStyle::kNone && (c.rotary_ndims % 2 != 0 || c.rotary_ndims > c.head_dim))
    fail("{}: rotary dims {} must be even and at most the head size {}", label, c.rotary_ndims, c.head_dim);
  if (!(c.norm_eps > 0.0 && std::isfinite(c.norm_eps)))
    fail("{}: norm epsilon must be positive, got {}", label, c.norm_eps);
  if (c.layer_window.empty()) c.layer_window.assign(c.n_layer, 0);
  if (static_cast<int>(c.layer_window.size()) != c.n_layer)
    fail("{}: {} per-layer attention windows for {} layers", label, c.layer_window.size(), c.n_layer);
  return c;
}

ModelConfig load_config(const std::filesystem::path& model_dir) {
  auto path = model_dir / "config.json";
  if (!std::filesystem::exists(path)) fail("{}: missing config.json", model_dir.string());
  return parse_config(read_json_file(path), path.string());
}

double ModelConfig::attention_scale(int layer) const {
  double scale = scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(head_dim)) : 1.0;
  if (scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(layer + 1);
  return scale;
}

std::vector<double> ModelConfig::rotary_inv_freq() const {
  const int half = rotary_ndims / 2;
  std::vector<double> inv(half);
  for (int i = 0; i < half; ++i) inv[i] = 1.0 / std::pow(rotary_base, (2.0 * i) / rotary_ndims);
  switch (rope_scaling.type) {
    case RopeScaling::Type::kNone: break;
    case RopeScaling::Type::kLinear:
      for (double& f : inv) f /= rope_scaling.factor;  // positions / factor
      break;
    case RopeScaling::Type::kLlama3: {
      // Long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
      const RopeScaling& s = rope_scaling;
      const double lo_wavelen = s.original_max_positions / s.low_freq_factor;
      const double hi_wavelen = s.original_max_positions / s.high_freq_factor;
      for (double& f : inv) {
        const double wavelen = 2.0 * M_PI / f;
        if (wavelen < hi_wavelen) continue;
        if (wavelen > lo_wavelen) {
          f /= s.factor;
        } else {
          const double smooth =
              (s.original_max_positions / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          f = (1.0 - smooth) * f / s.factor + smooth * f;
        }
      }
      break;
    }
  }
  return inv;
}

}  // namespace entroscope::model
