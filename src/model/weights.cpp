#include "model/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <type_traits>

#include "common/error.h"

namespace entroscope::model {

namespace {

std::string shape_str(const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// The slot a table entry's tensor goes into (null for tied copies and buffers, which are never read).
template <typename Scalar>
WeightTensor<Scalar>* slot_of(ModelWeightsT<Scalar>& w, const TensorEntry& e) {
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

kernels::WeightType weight_type_of(io::DType dtype) {
  switch (dtype) {
    case io::DType::F16: return kernels::WeightType::kF16;
    case io::DType::BF16: return kernels::WeightType::kBF16;
    default: return kernels::WeightType::kScalar;  // load_stored hands out everything else as F32
  }
}

// The LM head's role: the token embedding when tied (a stored copy is ignored, as transformers
// does when tying).
Role head_role(const ModelConfig& c) { return c.tie_word_embeddings ? Role::kTokenEmbedding : Role::kLmHead; }

}  // namespace

template <typename Scalar>
const Scalar* WeightTensor<Scalar>::values() const {
  if (type != kernels::WeightType::kScalar)
    fail("internal error: a {} weight was read as {} without widening", kernels::weight_type_name(type),
         sizeof(Scalar) == 8 ? "float64" : "float32");
  return static_cast<const Scalar*>(data);
}
template struct WeightTensor<float>;
template struct WeightTensor<double>;
template struct WeightTensor<kernels::GpuFloat>;

bool keeps_stored_dtype(Role r) {
  switch (r) {
    case Role::kTokenEmbedding:
    case Role::kProjectIn:
    case Role::kProjectOut:
    case Role::kLmHead:
    case Role::kQkvWeight:
    case Role::kQWeight:
    case Role::kKWeight:
    case Role::kVWeight:
    case Role::kAttnOutWeight:
    case Role::kMlpUpWeight:
    case Role::kMlpGateWeight:
    case Role::kMlpDownWeight: return true;
    case Role::kPositionEmbedding:  // added element-wise to the residual, and small
    case Role::kFinalNormWeight:
    case Role::kFinalNormBias:
    case Role::kLmHeadBias:
    case Role::kAttnNormWeight:
    case Role::kAttnNormBias:
    case Role::kQkvBias:
    case Role::kQBias:
    case Role::kKBias:
    case Role::kVBias:
    case Role::kQNormWeight:
    case Role::kKNormWeight:
    case Role::kAttnOutBias:
    case Role::kAttnPostNormWeight:
    case Role::kMlpNormWeight:
    case Role::kMlpNormBias:
    case Role::kMlpUpBias:
    case Role::kMlpGateBias:
    case Role::kMlpDownBias:
    case Role::kMlpPostNormWeight:
    case Role::kTiedCopy:
    case Role::kBuffer:
    case Role::kCount: return false;
  }
  return false;
}

std::map<std::string, std::pair<Role, int>> checkpoint_roles(const io::Checkpoint& ckpt, const ModelConfig& c) {
  const std::vector<TensorEntry> table = tensor_table(c);
  const std::string prefix = detect_prefix(ckpt, family_info(c.arch), table);
  std::map<std::string, std::pair<Role, int>> roles;
  for (const auto& e : table) roles[full_name(prefix, e)] = {e.role, e.layer};
  return roles;
}

namespace {
// A copy of m's weights elsewhere: place(tensor, element count) returns the copy's data. Tied
// tensors (token embedding = LM head) are placed once.
template <typename Scalar, typename Place>
ModelWeightsT<Scalar> placed_weights(const Model& m, Place place) {
  ModelWeightsT<Scalar> out;
  out.layout = m.weights.layout;
  out.layers.resize(m.weights.layers.size());
  std::map<const void*, const void*> placed;
  for (const auto& e : tensor_table(m.config)) {
    if (!e.parameter()) continue;
    const WeightTensor<float>& src = e.layer < 0 ? m.weights.model.tensor(e.role) : m.weights.layers[e.layer].tensor(e.role);
    if (!src) continue;
    auto it = placed.find(src.data);
    const void* data = it != placed.end() ? it->second : (placed[src.data] = place(src, e.num_elements()));
    *slot_of(out, e) = WeightTensor<Scalar>{data};
  }
  out.model.slot(Role::kLmHead) = out.model.tensor(head_role(m.config));
  return out;
}
}  // namespace

template <typename Scalar, typename Convert>
OwnedWeights<Scalar> convert_weights(const Model& m, Convert convert) {
  OwnedWeights<Scalar> out;
  out.weights = placed_weights<Scalar>(m, [&](const WeightTensor<float>& src, std::size_t count) -> const void* {
    std::vector<float> widened(count);
    kernels::widen_weights(widened.data(), src.data, src.type, 0, count);
    std::vector<Scalar> buf(count);
    for (std::size_t k = 0; k < count; ++k) buf[k] = convert(widened[k]);
    out.storage.push_back(std::move(buf));
    return out.storage.back().data();
  });
  if constexpr (std::is_same_v<Scalar, float>) out.weights.packed_head = std::make_shared<PackedHeadCache>();
  return out;
}

DeviceWeights upload_weights(const Model& m) {
  kernels::require_cuda(m.name);
  DeviceWeights out;
  out.weights = placed_weights<kernels::GpuFloat>(m, [&](const WeightTensor<float>& src, std::size_t count) -> const void* {
    std::vector<float> widened(count);  // 16-bit checkpoints widened exactly, as on the CPU
    kernels::widen_weights(widened.data(), src.data, src.type, 0, count);
    auto buffer = std::make_unique<kernels::DeviceBuffer<kernels::GpuFloat>>();
    buffer->resize(count);
    kernels::copy_to_device(buffer->data(), widened.data(), count * sizeof(float));
    out.bytes += count * sizeof(float);
    out.storage.push_back(std::move(buffer));
    return out.storage.back()->data();
  });
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

  for (const auto& e : table) {
    WeightTensor<float>* slot = slot_of(w, e);
    if (!slot) continue;
    const std::string name = full_name(prefix, e);
    if (keeps_stored_dtype(e.role)) {
      const io::StoredTensor t = ckpt.load_stored(name);
      *slot = {t.data, weight_type_of(t.dtype)};
    } else {
      *slot = {ckpt.load_f32(name).data};
    }
  }
  w.model.slot(Role::kLmHead) = w.model.tensor(head_role(c));
  // Once packed, the head is read from the packed copy only; a tied head's rows are still
  // gathered as token embeddings, and fault back in one by one.
  const std::string head_name = full_name(prefix, *std::find_if(table.begin(), table.end(), [&](const TensorEntry& e) {
    return e.role == head_role(c);
  }));
  w.packed_head = std::make_shared<PackedHeadCache>([ckpt = m.checkpoint.get(), head_name] {
    ckpt->release_mapped_pages(head_name);
  });
  return m;
}

const kernels::PackedMatrix& PackedHeadCache::get(const WeightTensor<float>& lm_head, int D, int V) {
  std::call_once(once_, [&] {
    packed_.pack(kernels::WeightView{lm_head.data, D, V, kernels::WeightLayout::kOutIn, static_cast<std::size_t>(D),
                                     lm_head.type});
    if (after_pack_) after_pack_();
  });
  return packed_;
}

WeightMemory weight_memory(const ModelConfig& c, const io::Checkpoint& ckpt) {
  const std::vector<TensorEntry> table = tensor_table(c);
  const std::string prefix = detect_prefix(ckpt, family_info(c.arch), table);
  WeightMemory m;
  std::set<std::string> matrix_dtypes;
  for (const auto& e : table) {
    if (!e.parameter() || (e.role == Role::kLmHead && c.tie_word_embeddings)) continue;
    const io::TensorInfo* t = ckpt.find(full_name(prefix, e));
    if (!t) continue;
    const bool as_stored = keeps_stored_dtype(e.role);  // as load_model hands it out
    const kernels::WeightType held = as_stored ? weight_type_of(t->dtype) : kernels::WeightType::kScalar;
    const std::uint64_t bytes = e.num_elements() * (held == kernels::WeightType::kScalar ? 4 : 2);
    m.held_bytes += bytes;
    if (as_stored) matrix_dtypes.insert(std::string(kernels::weight_type_name(held)));
    // An untied head used in place is released once packed.
    if (e.role == Role::kLmHead && io::planned_residence(*t, as_stored) == io::Residence::kMapped)
      m.released_bytes = bytes;
  }
  m.packed_head_bytes = static_cast<std::uint64_t>(c.vocab_size) * static_cast<std::uint64_t>(c.embed_dim) * 4;
  m.matrix_dtype = matrix_dtypes.size() == 1 ? *matrix_dtypes.begin() : matrix_dtypes.empty() ? "none" : "mixed";
  return m;
}

}  // namespace entroscope::model
