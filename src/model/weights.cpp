#include "model/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <set>
#include <type_traits>

#include "common/error.h"

namespace entroscope::model {

namespace {

std::string shape_str(const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// The slot a table entry's pointer goes into (null for tied copies and buffers, which are never read).
template <typename Scalar>
const Scalar** slot_of(ModelWeightsT<Scalar>& w, const TensorEntry& e) {
  if (!e.parameter()) return nullptr;
  return e.layer < 0 ? &w.model.slot(e.role) : &w.layers[e.layer].slot(e.role);
}

// The base prefix this checkpoint uses: the first candidate under which the table's first
// non-top-level tensor exists (else the first candidate, so that "missing" names the usual layout).
std::string detect_prefix(const io::Checkpoint& ckpt, const FamilyInfo& info, const std::vector<TensorEntry>& table) {
  for (const auto& e : table) {
    if (e.top_level || !e.parameter()) continue;
    for (const auto& p : info.base_prefixes)
      if (ckpt.find(p + e.name)) return p;
    break;
  }
  return info.base_prefixes.front();
}

std::string full_name(const std::string& prefix, const TensorEntry& e) { return e.top_level ? e.name : prefix + e.name; }

}  // namespace

std::map<std::string, std::pair<Role, int>> checkpoint_roles(const io::Checkpoint& ckpt, const ModelConfig& c) {
  const std::vector<TensorEntry> table = tensor_table(c);
  const std::string prefix = detect_prefix(ckpt, family_info(c.arch), table);
  std::map<std::string, std::pair<Role, int>> roles;
  for (const auto& e : table) roles[full_name(prefix, e)] = {e.role, e.layer};
  return roles;
}

template <typename Scalar, typename Convert>
OwnedWeights<Scalar> convert_weights(const Model& m, Convert convert) {
  OwnedWeights<Scalar> out;
  out.weights.layout = m.weights.layout;
  out.weights.layers.resize(m.weights.layers.size());
  std::map<const float*, const Scalar*> converted;  // tied tensors (token embedding = LM head) convert once
  auto convert_one = [&](const float* src, std::size_t count) -> const Scalar* {
    if (!src) return nullptr;
    if (auto it = converted.find(src); it != converted.end()) return it->second;
    std::vector<Scalar> buf(count);
    for (std::size_t k = 0; k < count; ++k) buf[k] = convert(src[k]);
    out.storage.push_back(std::move(buf));
    return converted[src] = out.storage.back().data();
  };
  for (const auto& e : tensor_table(m.config)) {
    if (!e.parameter()) continue;
    const float* src = e.layer < 0 ? m.weights.model[e.role] : m.weights.layers[e.layer][e.role];
    *slot_of(out.weights, e) = convert_one(src, e.num_elements());
  }
  if (m.config.tie_word_embeddings)
    out.weights.model.slot(Role::kLmHead) = out.weights.model[Role::kTokenEmbedding];
  if constexpr (std::is_same_v<Scalar, float>) out.weights.packed_head = std::make_shared<PackedHeadCache>();
  return out;
}

template OwnedWeights<double> convert_weights<double>(const Model&, double (*)(float));
template OwnedWeights<float> convert_weights<float>(const Model&, float (*)(float));

Model load_model(const std::filesystem::path& dir, const std::string& display_name) {
  Model m;
  m.dir = dir;
  m.name = display_name.empty() ? dir.filename().string() : display_name;
  if (m.name.empty()) m.name = dir.string();
  m.config = load_config(dir);
  m.checkpoint = std::make_unique<io::Checkpoint>(dir);
  const ModelConfig& c = m.config;
  const FamilyInfo& info = family_info(c.arch);
  io::Checkpoint& ckpt = *m.checkpoint;
  ModelWeights& w = m.weights;
  w = ModelWeights{};
  w.layout = info.layout;
  w.layers.assign(c.n_layer, LayerWeights{});

  const std::vector<TensorEntry> table = tensor_table(c);
  const std::string prefix = detect_prefix(ckpt, info, table);
  std::set<std::string> used;
  std::vector<std::string> missing, mismatched;
  for (const auto& e : table) {
    if (e.role == Role::kBuffer) continue;  // matched by the ignore pattern below
    const std::string name = full_name(prefix, e);
    const io::TensorInfo* t = ckpt.find(name);
    if (!t) {
      if (!e.optional) missing.push_back(name);
      continue;
    }
    used.insert(name);
    if (t->shape != e.shape)
      mismatched.push_back(fmt::format("{} has shape {}, expected {}", name, t->shape_string(), shape_str(e.shape)));
    else if (!io::is_float_dtype(t->dtype))
      mismatched.push_back(fmt::format("{} has dtype {}, expected a float type", name, io::dtype_name(t->dtype)));
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

  for (const auto& e : table)
    if (const float** slot = slot_of(w, e)) *slot = ckpt.load_f32(full_name(prefix, e)).data;
  // A tied head is the token embedding; a stored copy is ignored, as transformers does when tying.
  if (c.tie_word_embeddings) w.model.slot(Role::kLmHead) = w.model[Role::kTokenEmbedding];
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
