#include "io/checkpoint.h"

#include <cstring>

#include "common/error.h"
#include "common/json_file.h"

namespace entroscope::io {

namespace fs = std::filesystem;

std::string_view residence_name(Residence r) {
  switch (r) {
    case Residence::kMapped: return "mapped";
    case Residence::kCopiedMisaligned: return "copied (misaligned)";
    case Residence::kConverted: return "converted to F32";
  }
  return "?";
}

Residence planned_residence(const TensorInfo& info, bool as_stored) {
  const bool half = info.dtype == DType::F16 || info.dtype == DType::BF16;
  if (info.dtype != DType::F32 && !(as_stored && half)) return Residence::kConverted;
  const std::size_t alignment = half ? kHalfAlignment : kFloatAlignment;
  return info.file_offset % alignment == 0 ? Residence::kMapped : Residence::kCopiedMisaligned;
}

namespace {
std::uint64_t product(const std::vector<std::int64_t>& shape) {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}
}  // namespace

std::uint64_t Fp32Tensor::num_elements() const { return product(shape); }
std::uint64_t StoredTensor::num_elements() const { return product(shape); }

Checkpoint::Checkpoint(const fs::path& dir) : dir_(dir) {
  fs::path single = dir / "model.safetensors";
  fs::path index = dir / "model.safetensors.index.json";
  auto add_file = [&](const fs::path& path) {
    files_.push_back(std::make_unique<SafetensorsFile>(path));
    std::size_t idx = files_.size() - 1;
    for (const auto& t : files_.back()->header().tensors) {
      auto [it, inserted] = file_index_.emplace(t.name, idx);
      if (!inserted)
        fail("{}: tensor '{}' is also in {}", path.string(), t.name, files_[it->second]->path().filename().string());
    }
  };
  if (fs::exists(single)) {
    add_file(single);
  } else if (fs::exists(index)) {
    sharded_ = true;
    auto doc = read_json_file(index);
    auto map_it = doc.find("weight_map");
    if (map_it == doc.end() || !map_it->is_object()) fail("{}: missing 'weight_map' object", index.string());
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto it = map_it->begin(); it != map_it->end(); ++it) {
      if (!it->is_string()) fail("{}: weight_map['{}'] is not a file name", index.string(), it.key());
      by_shard[it->get<std::string>()].push_back(it.key());
    }
    for (const auto& [shard, names] : by_shard) {
      fs::path shard_path = dir / shard;
      if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
        fail("{}: shard name '{}' is not a plain file name", index.string(), shard);
      std::error_code ec;  // e.g. a name longer than the file system allows
      const bool present = fs::exists(shard_path, ec);
      if (ec) fail("{}: shard '{}' cannot be looked up: {}", index.string(), shard, ec.message());
      if (!present)
        fail("{}: shard '{}' is listed in the index ({} tensors) but the file is missing", index.string(), shard,
             names.size());
      add_file(shard_path);
      for (const auto& name : names) {
        if (!files_.back()->find(name))
          fail("{}: index says '{}' is in {}, but that file has no such tensor", index.string(), name, shard);
      }
    }
  } else {
    std::string hint;
    if (fs::exists(dir / "pytorch_model.bin"))
      hint = " (only pytorch_model.bin is present: entroscope reads safetensors only; convert the checkpoint)";
    if (!fs::is_directory(dir)) fail("{}: not a directory", dir.string());
    fail("{}: no model.safetensors or model.safetensors.index.json{}", dir.string(), hint);
  }
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& [name, idx] : file_index_) names.push_back(name);
  return names;
}

const TensorInfo* Checkpoint::find(const std::string& name) const {
  auto it = file_index_.find(name);
  return it == file_index_.end() ? nullptr : files_[it->second]->find(name);
}

const SafetensorsFile& Checkpoint::file_of(const std::string& name) const {
  auto it = file_index_.find(name);
  if (it == file_index_.end()) fail("{}: no tensor named '{}'", dir_.string(), name);
  return *files_[it->second];
}

Fp32Tensor Checkpoint::load_f32(const std::string& name) {
  const SafetensorsFile& file = file_of(name);
  const TensorInfo& info = file.at(name);
  if (!is_float_dtype(info.dtype))
    fail("{}: tensor '{}' has dtype {}, expected F32/F16/BF16", file.path().string(), name, dtype_name(info.dtype));
  Fp32Tensor out;
  out.shape = info.shape;
  const Residence residence = planned_residence(info, false);
  if (residence == Residence::kMapped) {
    out.data = reinterpret_cast<const float*>(file.raw(info).data());
  } else {
    // Decoded (or copied) once, straight into 64-byte-aligned memory.
    owned_.emplace_back(info.num_elements());
    if (info.num_elements() > 0) decode_f32(file, info, owned_.back().data());
    out.data = owned_.back().data();
  }
  records_.push_back({name, file.path().filename().string(), info.dtype, info.file_offset, residence});
  return out;
}

StoredTensor Checkpoint::load_stored(const std::string& name) {
  const SafetensorsFile& file = file_of(name);
  const TensorInfo& info = file.at(name);
  if (info.dtype != DType::F16 && info.dtype != DType::BF16) {
    Fp32Tensor f = load_f32(name);
    return {f.data, DType::F32, std::move(f.shape)};
  }
  StoredTensor out{nullptr, info.dtype, info.shape};
  const auto raw = file.raw(info);
  const Residence residence = planned_residence(info, true);
  if (residence == Residence::kMapped) {
    out.data = raw.data();
  } else {  // an odd file offset: copied once, still 16-bit
    owned_halves_.emplace_back(info.num_elements());
    if (!raw.empty()) std::memcpy(owned_halves_.back().data(), raw.data(), raw.size());
    out.data = owned_halves_.back().data();
  }
  records_.push_back({name, file.path().filename().string(), info.dtype, info.file_offset, residence});
  return out;
}

void Checkpoint::release_mapped_pages(const std::string& name) const {
  // Only a tensor handed out in place, and never also as a copy (its pointer would be the copy).
  bool mapped = false;
  for (const auto& r : records_) {
    if (r.name != name) continue;
    if (r.residence != Residence::kMapped) return;
    mapped = true;
  }
  if (!mapped) return;
  const SafetensorsFile& file = file_of(name);
  file.release_pages(file.at(name));
}

}  // namespace entroscope::io
