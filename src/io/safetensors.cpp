#include "io/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"

namespace entroscope::io {

namespace {

// Refuse absurd headers before parsing (the reference implementation caps at 100 MB too).
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint64_t json_u64(const nlohmann::json& j, const std::string& label, const std::string& what) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer() && j.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(j.get<std::int64_t>());
  fail("{}: {} must be a non-negative integer, got {}", label, what, j.dump());
}

TensorInfo parse_tensor_entry(const std::string& name, const nlohmann::json& entry, const std::string& label) {
  if (!entry.is_object()) fail("{}: tensor '{}': header entry is not an object", label, name);
  TensorInfo info;
  info.name = name;
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
      fail("{}: tensor '{}': unknown header field '{}'", label, name, it.key());
  }
  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail("{}: tensor '{}': missing dtype", label, name);
  auto dtype = parse_dtype(dtype_it->get<std::string>());
  if (!dtype) fail("{}: tensor '{}': unknown dtype '{}'", label, name, dtype_it->get<std::string>());
  info.dtype = *dtype;

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) fail("{}: tensor '{}': missing shape", label, name);
  for (const auto& d : *shape_it) {
    std::uint64_t dim = json_u64(d, label, fmt::format("tensor '{}': shape entry", name));
    if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail("{}: tensor '{}': shape entry {} too large", label, name, dim);
    info.shape.push_back(static_cast<std::int64_t>(dim));
  }

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2)
    fail("{}: tensor '{}': data_offsets must be [begin, end]", label, name);
  info.data_begin = json_u64((*offsets_it)[0], label, fmt::format("tensor '{}': data_offsets[0]", name));
  info.data_end = json_u64((*offsets_it)[1], label, fmt::format("tensor '{}': data_offsets[1]", name));
  if (info.data_end < info.data_begin)
    fail("{}: tensor '{}': data_offsets end {} < begin {}", label, name, info.data_end, info.data_begin);

  // shape product x item size must equal the byte span (with overflow checks).
  std::uint64_t count = 1;
  for (std::int64_t d : info.shape) {
    auto ud = static_cast<std::uint64_t>(d);
    if (ud != 0 && count > std::numeric_limits<std::uint64_t>::max() / ud)
      fail("{}: tensor '{}': shape {} overflows", label, name, info.shape_string());
    count *= ud;
  }
  std::uint64_t item = dtype_size(info.dtype);
  if (count > std::numeric_limits<std::uint64_t>::max() / item)
    fail("{}: tensor '{}': shape {} overflows", label, name, info.shape_string());
  if (count * item != info.num_bytes())
    fail("{}: tensor '{}': shape {} x {} bytes = {} bytes but data_offsets span {} bytes", label, name,
         info.shape_string(), item, count * item, info.num_bytes());
  return info;
}

}  // namespace

std::uint64_t TensorInfo::num_elements() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

std::string TensorInfo::shape_string() const { return fmt::format("[{}]", fmt::join(shape, ", ")); }

SafetensorsHeader parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& label) {
  if (bytes.size() < 8) fail("{}: truncated: {} bytes, too short for the 8-byte header length", label, bytes.size());
  SafetensorsHeader h;
  h.header_length = read_u64_le(bytes.data());
  if (h.header_length > bytes.size() - 8)
    fail("{}: header length {} exceeds the file ({} bytes after the length field): truncated or not safetensors",
         label, h.header_length, bytes.size() - 8);
  if (h.header_length > kMaxHeaderBytes) fail("{}: header length {} exceeds the 100 MB limit", label, h.header_length);
  h.data_section_offset = 8 + h.header_length;
  h.data_section_size = bytes.size() - h.data_section_offset;

  std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), h.header_length);
  nlohmann::json doc;
  // The JSON parser keeps the last of duplicate keys; a header naming a tensor twice is ambiguous,
  // so refuse it (top-level keys are seen at depth 1).
  std::vector<std::string> top_level_keys;
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, const nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1) top_level_keys.push_back(parsed.get<std::string>());
  };
  try {
    doc = parse_json(text, label, on_event);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: header is not valid JSON (byte {} of the header)", label, e.byte);
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for any integer type
    fail("{}: header is not valid JSON: {}", label, e.what());
  }
  std::sort(top_level_keys.begin(), top_level_keys.end());
  auto dup = std::adjacent_find(top_level_keys.begin(), top_level_keys.end());
  if (dup != top_level_keys.end()) fail("{}: tensor '{}' appears twice in the header", label, *dup);
  if (!doc.is_object()) fail("{}: header is not a JSON object", label);

  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail("{}: __metadata__ is not an object", label);
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail("{}: __metadata__ value '{}' is not a string", label, m.key());
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    TensorInfo info = parse_tensor_entry(it.key(), *it, label);
    if (info.data_end > h.data_section_size)
      fail("{}: tensor '{}': data_offsets [{}, {}] outside the data section ({} bytes): truncated file or bad header",
           label, info.name, info.data_begin, info.data_end, h.data_section_size);
    info.file_offset = h.data_section_offset + info.data_begin;
    h.tensors.push_back(std::move(info));
  }
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.data_begin != b.data_begin ? a.data_begin < b.data_begin : a.data_end < b.data_end;
  });
  for (std::size_t i = 1; i < h.tensors.size(); ++i) {
    const auto& prev = h.tensors[i - 1];
    const auto& cur = h.tensors[i];
    if (cur.data_begin < prev.data_end && cur.num_bytes() > 0 && prev.num_bytes() > 0)
      fail("{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", label, prev.name, prev.data_begin, prev.data_end,
           cur.name, cur.data_begin, cur.data_end);
  }
  return h;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_(path) {
  header_ = parse_safetensors(file_.bytes(), path.string());
  for (std::size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

const TensorInfo& SafetensorsFile::at(const std::string& name) const {
  const TensorInfo* info = find(name);
  if (!info) fail("{}: no tensor named '{}'", path().string(), name);
  return *info;
}

std::span<const std::uint8_t> SafetensorsFile::raw(const TensorInfo& info) const {
  return file_.bytes().subspan(info.file_offset, info.num_bytes());
}

void decode_f32(const SafetensorsFile& file, const TensorInfo& info, float* out) {
  auto raw = file.raw(info);
  std::size_t n = info.num_elements();
  switch (info.dtype) {
    case DType::F32:
      std::memcpy(out, raw.data(), n * 4);  // memcpy: safe at any alignment
      break;
    case DType::F16:
    case DType::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t v;
        std::memcpy(&v, raw.data() + 2 * i, 2);
        out[i] = info.dtype == DType::F16 ? f16_to_f32(v) : bf16_to_f32(v);
      }
      break;
    case DType::F64:
      for (std::size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, raw.data() + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      break;
    default:
      fail("{}: tensor '{}' has dtype {}, expected a floating type", file.path().string(), info.name,
           dtype_name(info.dtype));
  }
}

std::vector<float> read_as_f32(const SafetensorsFile& file, const TensorInfo& info) {
  std::vector<float> out(info.num_elements());
  decode_f32(file, info, out.data());
  return out;
}

std::vector<double> read_as_f64(const SafetensorsFile& file, const TensorInfo& info) {
  if (info.dtype == DType::F64) {
    auto raw = file.raw(info);
    std::vector<double> out(info.num_elements());
    std::memcpy(out.data(), raw.data(), raw.size());
    return out;
  }
  auto f = read_as_f32(file, info);
  return {f.begin(), f.end()};
}

std::vector<std::int64_t> read_as_i64(const SafetensorsFile& file, const TensorInfo& info) {
  auto raw = file.raw(info);
  std::size_t n = info.num_elements();
  std::vector<std::int64_t> out(n);
  if (info.dtype == DType::I64) {
    std::memcpy(out.data(), raw.data(), n * 8);
  } else if (info.dtype == DType::I32) {
    for (std::size_t i = 0; i < n; ++i) {
      std::int32_t v;
      std::memcpy(&v, raw.data() + 4 * i, 4);
      out[i] = v;
    }
  } else {
    fail("{}: tensor '{}' has dtype {}, expected I64 or I32", file.path().string(), info.name, dtype_name(info.dtype));
  }
  return out;
}

std::string serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorToWrite*> order;
  for (const auto& t : tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    std::size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto* t : order) {
    std::uint64_t count = 1;
    for (auto d : t->shape) count *= static_cast<std::uint64_t>(d);
    if (count * dtype_size(t->dtype) != t->bytes.size())
      fail("internal: tensor '{}' has {} bytes but shape needs {}", t->name, t->bytes.size(), count * dtype_size(t->dtype));
    header[t->name] = {{"dtype", std::string(dtype_name(t->dtype))},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->bytes.size()}}};
    offset += t->bytes.size();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + json.size() + offset);
  std::uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  out += json;
  for (const auto* t : order) out.append(reinterpret_cast<const char*>(t->bytes.data()), t->bytes.size());
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

}  // namespace entroscope::io
