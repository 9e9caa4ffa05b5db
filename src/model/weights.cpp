#include "model/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <regex>
#include <set>
#include <type_traits>

#include "common/error.h"

namespace entroscope::model {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One expected tensor: checkpoint name, expected shape, where to put the pointer.
struct Expected {
  std::string name;
  std::vector<std::int64_t> shape;
  const float** slot;
  bool optional = false;
};

std::string shape_str(const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// GPT-2 hub names: "h.0.ln_1.weight" or "transformer.h.0.ln_1.weight". Conv1D weights [in, out].
std::vector<Expected> gpt2_expected(const ModelConfig& c, const std::string& prefix, ModelWeights& w) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size, P = c.max_positions;
  std::vector<Expected> e;
  e.push_back({prefix + "wte.weight", {V, D}, &w.token_embedding});
  e.push_back({prefix + "wpe.weight", {P, D}, &w.position_embedding});
  for (int l = 0; l < c.n_layer; ++l) {
    auto& L = w.layers[l];
    std::string p = fmt::format("{}h.{}.", prefix, l);
    e.push_back({p + "ln_1.weight", {D}, &L.ln1_weight});
    e.push_back({p + "ln_1.bias", {D}, &L.ln1_bias});
    e.push_back({p + "attn.c_attn.weight", {D, 3 * D}, &L.qkv_weight});
    e.push_back({p + "attn.c_attn.bias", {3 * D}, &L.qkv_bias});
    e.push_back({p + "attn.c_proj.weight", {D, D}, &L.attn_out_weight});
    e.push_back({p + "attn.c_proj.bias", {D}, &L.attn_out_bias});
    e.push_back({p + "ln_2.weight", {D}, &L.ln2_weight});
    e.push_back({p + "ln_2.bias", {D}, &L.ln2_bias});
    e.push_back({p + "mlp.c_fc.weight", {D, F}, &L.mlp_up_weight});
    e.push_back({p + "mlp.c_fc.bias", {F}, &L.mlp_up_bias});
    e.push_back({p + "mlp.c_proj.weight", {F, D}, &L.mlp_down_weight});
    e.push_back({p + "mlp.c_proj.bias", {D}, &L.mlp_down_bias});
  }
  e.push_back({prefix + "ln_f.weight", {D}, &w.final_norm_weight});
  e.push_back({prefix + "ln_f.bias", {D}, &w.final_norm_bias});
  return e;
}

// GPT-NeoX hub names under "gpt_neox."; nn.Linear weights [out, in]; embed_out at the top level.
std::vector<Expected> neox_expected(const ModelConfig& c, ModelWeights& w) {
  const std::int64_t D = c.d_model, F = c.d_ff, V = c.vocab_size;
  std::vector<Expected> e;
  e.push_back({"gpt_neox.embed_in.weight", {V, D}, &w.token_embedding});
  for (int l = 0; l < c.n_layer; ++l) {
    auto& L = w.layers[l];
    std::string p = fmt::format("gpt_neox.layers.{}.", l);
    e.push_back({p + "input_layernorm.weight", {D}, &L.ln1_weight});
    e.push_back({p + "input_layernorm.bias", {D}, &L.ln1_bias});
    e.push_back({p + "attention.query_key_value.weight", {3 * D, D}, &L.qkv_weight});
    if (c.attention_bias) e.push_back({p + "attention.query_key_value.bias", {3 * D}, &L.qkv_bias});
    e.push_back({p + "attention.dense.weight", {D, D}, &L.attn_out_weight});
    if (c.attention_bias) e.push_back({p + "attention.dense.bias", {D}, &L.attn_out_bias});
    e.push_back({p + "post_attention_layernorm.weight", {D}, &L.ln2_weight});
    e.push_back({p + "post_attention_layernorm.bias", {D}, &L.ln2_bias});
    e.push_back({p + "mlp.dense_h_to_4h.weight", {F, D}, &L.mlp_up_weight});
    e.push_back({p + "mlp.dense_h_to_4h.bias", {F}, &L.mlp_up_bias});
    e.push_back({p + "mlp.dense_4h_to_h.weight", {D, F}, &L.mlp_down_weight});
    e.push_back({p + "mlp.dense_4h_to_h.bias", {D}, &L.mlp_down_bias});
  }
  e.push_back({"gpt_neox.final_layer_norm.weight", {D}, &w.final_norm_weight});
  e.push_back({"gpt_neox.final_layer_norm.bias", {D}, &w.final_norm_bias});
  if (!c.tie_word_embeddings) e.push_back({"embed_out.weight", {V, D}, &w.lm_head});
  return e;
}

}  // namespace

namespace {
// Every weight pointer of a model with its element count, in one place, so conversions cannot
// forget one.
template <typename W, typename Visit>
void for_each_weight(const ModelConfig& c, W& w, Visit visit) {
  const std::size_t D = c.d_model, F = c.d_ff, V = c.vocab_size, P = c.max_positions;
  visit(w.token_embedding, V * D);
  visit(w.position_embedding, P * D);
  for (auto& L : w.layers) {
    visit(L.ln1_weight, D);
    visit(L.ln1_bias, D);
    visit(L.qkv_weight, 3 * D * D);
    visit(L.qkv_bias, 3 * D);
    visit(L.attn_out_weight, D * D);
    visit(L.attn_out_bias, D);
    visit(L.ln2_weight, D);
    visit(L.ln2_bias, D);
    visit(L.mlp_up_weight, D * F);
    visit(L.mlp_up_bias, F);
    visit(L.mlp_down_weight, F * D);
    visit(L.mlp_down_bias, D);
  }
  visit(w.final_norm_weight, D);
  visit(w.final_norm_bias, D);
  visit(w.lm_head, V * D);
}
}  // namespace

template <typename Scalar, typename Convert>
OwnedWeights<Scalar> convert_weights(const Model& m, Convert convert) {
  OwnedWeights<Scalar> out;
  out.weights.layout = m.weights.layout;
  out.weights.layers.resize(m.weights.layers.size());
  // Walk source and destination pointer lists in the same order.
  std::vector<std::pair<const float*, std::size_t>> sources;
  for_each_weight(m.config, m.weights, [&](const float* p, std::size_t n) { sources.emplace_back(p, n); });
  std::map<const float*, const Scalar*> converted;  // tied tensors (wte = lm_head) convert once
  out.storage.reserve(sources.size());
  std::size_t i = 0;
  for_each_weight(m.config, out.weights, [&](const Scalar*& dst, std::size_t n) {
    auto [src, count] = sources[i++];
    if (!src) {
      dst = nullptr;
      return;
    }
    if (auto it = converted.find(src); it != converted.end()) {
      dst = it->second;
      return;
    }
    std::vector<Scalar> buf(count);
    for (std::size_t k = 0; k < count; ++k) buf[k] = convert(src[k]);
    out.storage.push_back(std::move(buf));
    dst = out.storage.back().data();
    converted[src] = dst;
  });
  if constexpr (std::is_same_v<Scalar, float>) out.weights.packed_head = std::make_shared<PackedHeadCache>();
  return out;
}

template OwnedWeights<double> convert_weights<double>(const Model&, double (*)(float));
template OwnedWeights<float> convert_weights<float>(const Model&, float (*)(float));

bool is_ignored_buffer(const std::string& name, Architecture arch) {
  if (arch == Architecture::kGpt2) {
    // "h.N.attn.bias" is the causal mask; "h.N.attn.c_attn.bias" is a real weight, so match the
    // whole component path, not just the suffix.
    static const std::regex mask(R"((transformer\.)?h\.\d+\.attn\.(bias|masked_bias))");
    return std::regex_match(name, mask);
  }
  return ends_with(name, ".attention.bias") || ends_with(name, ".attention.masked_bias") ||
         ends_with(name, ".attention.rotary_emb.inv_freq");
}

Model load_model(const std::filesystem::path& dir, const std::string& display_name) {
  Model m;
  m.dir = dir;
  m.name = display_name.empty() ? dir.filename().string() : display_name;
  if (m.name.empty()) m.name = dir.string();
  m.config = load_config(dir);
  m.checkpoint = std::make_unique<io::Checkpoint>(dir);
  const ModelConfig& c = m.config;
  io::Checkpoint& ckpt = *m.checkpoint;
  ModelWeights& w = m.weights;
  w = ModelWeights{};
  w.layers.assign(c.n_layer, LayerWeights{});

  std::vector<Expected> expected;
  std::set<std::string> allowed_extra;  // present-but-redundant tensors that must match something
  std::string tied_head_name;
  if (c.arch == Architecture::kGpt2) {
    w.layout = kernels::WeightLayout::kInOut;
    // save_pretrained writes the "transformer." prefix; the hub's original files do not.
    std::string prefix = ckpt.find("transformer.wte.weight") ? "transformer." : "";
    expected = gpt2_expected(c, prefix, w);
    tied_head_name = "lm_head.weight";  // optional; equals wte when present
  } else {
    w.layout = kernels::WeightLayout::kOutIn;
    expected = neox_expected(c, w);
    if (c.tie_word_embeddings) tied_head_name = "embed_out.weight";
  }

  std::set<std::string> used;
  std::vector<std::string> missing, mismatched;
  for (const auto& e : expected) {
    const io::TensorInfo* info = ckpt.find(e.name);
    if (!info) {
      if (!e.optional) missing.push_back(e.name);
      continue;
    }
    used.insert(e.name);
    if (info->shape != e.shape) {
      mismatched.push_back(fmt::format("{} has shape {}, expected {}", e.name, info->shape_string(), shape_str(e.shape)));
      continue;
    }
    if (!io::is_float_dtype(info->dtype)) {
      mismatched.push_back(fmt::format("{} has dtype {}, expected a float type", e.name, io::dtype_name(info->dtype)));
      continue;
    }
  }
  if (!tied_head_name.empty()) {
    if (const io::TensorInfo* head = ckpt.find(tied_head_name)) {
      used.insert(tied_head_name);
      std::vector<std::int64_t> want{c.vocab_size, c.d_model};
      if (head->shape != want)
        mismatched.push_back(fmt::format("{} has shape {}, expected {}", tied_head_name, head->shape_string(), shape_str(want)));
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& name : ckpt.tensor_names())
    if (!used.count(name) && !is_ignored_buffer(name, c.arch)) unexpected.push_back(name);

  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::vector<std::string> parts;
    auto list = [](const std::vector<std::string>& v) {
      std::vector<std::string> shown(v.begin(), v.begin() + std::min<std::size_t>(v.size(), 8));
      std::string s = fmt::format("{}", fmt::join(shown, ", "));
      if (v.size() > shown.size()) s += fmt::format(", ... ({} in all)", v.size());
      return s;
    };
    if (!missing.empty()) parts.push_back("missing tensors: " + list(missing));
    if (!mismatched.empty()) parts.push_back("wrong tensors: " + list(mismatched));
    if (!unexpected.empty()) parts.push_back("unexpected tensors: " + list(unexpected));
    fail("{}: checkpoint does not match its {} config.json: {}", dir.string(), architecture_name(c.arch),
         fmt::format("{}", fmt::join(parts, "; ")));
  }

  for (const auto& e : expected)
    if (ckpt.find(e.name)) *e.slot = ckpt.load_f32(e.name).data;
  // The LM head: GPT-2 (and tied NeoX) use the token embedding; a stored copy is ignored as
  // transformers does when tying.
  if (c.arch == Architecture::kGpt2 || c.tie_word_embeddings) w.lm_head = w.token_embedding;
  w.packed_head = std::make_shared<PackedHeadCache>();
  return m;
}

const kernels::PackedMatrix& PackedHeadCache::get(const float* lm_head, int D, int V) {
  std::call_once(once_, [&] {
    packed_.pack(kernels::WeightView{lm_head, D, V, kernels::WeightLayout::kOutIn, static_cast<std::size_t>(D)});
  });
  return packed_;
}

}  // namespace entroscope::model
