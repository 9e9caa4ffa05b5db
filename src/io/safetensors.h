#pragma once
// safetensors: 8-byte little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data
// section. Everything in the header is validated before any tensor is touched.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "io/mapped_file.h"

namespace entroscope::io {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t data_begin = 0;   // relative to the data section
  std::uint64_t data_end = 0;
  std::uint64_t file_offset = 0;  // absolute: 8 + header length + data_begin

  std::uint64_t num_elements() const;
  std::uint64_t num_bytes() const { return data_end - data_begin; }
  std::string shape_string() const;  // "[2, 3]"
};

struct SafetensorsHeader {
  std::uint64_t header_length = 0;        // N
  std::uint64_t data_section_offset = 0;  // 8 + N
  std::uint64_t data_section_size = 0;
  std::vector<TensorInfo> tensors;        // in data order (sorted by data_begin)
  std::map<std::string, std::string> metadata;
};

// Parses and validates a complete file image. `label` (usually the path) prefixes every error:
// truncated file, header length beyond the file, invalid JSON, unknown dtype, bad shape,
// shape x item size != byte span, span outside the data section, overlapping spans, duplicate names.
SafetensorsHeader parse_safetensors(std::span<const std::uint8_t> file_bytes, const std::string& label);

// An opened, validated, memory-mapped safetensors file.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  const SafetensorsHeader& header() const { return header_; }
  const TensorInfo* find(const std::string& name) const;  // nullptr if absent
  const TensorInfo& at(const std::string& name) const;    // throws Error naming file and tensor
  // Raw bytes of a tensor inside the mapping (no alignment guarantee beyond the file offset's).
  std::span<const std::uint8_t> raw(const TensorInfo& info) const;
  std::uint64_t file_size() const { return file_.size(); }
  // Drops the tensor's mapped pages from the resident set (MappedFile::release_pages).
  void release_pages(const TensorInfo& info) const { file_.release_pages(raw(info)); }

 private:
  MappedFile file_;
  SafetensorsHeader header_;
  std::map<std::string, std::size_t> index_;
};

// Reads any floating tensor (F32/F16/BF16/F64) into fp32 values, exactly for F32/F16/BF16.
std::vector<float> read_as_f32(const SafetensorsFile& file, const TensorInfo& info);
// The same, decoded straight into `out` (num_elements floats; any alignment).
void decode_f32(const SafetensorsFile& file, const TensorInfo& info, float* out);
// Reads an I64 tensor (I32 accepted too).
std::vector<std::int64_t> read_as_i64(const SafetensorsFile& file, const TensorInfo& info);
std::vector<double> read_as_f64(const SafetensorsFile& file, const TensorInfo& info);

// Writing: tensors are laid out largest item size first, then by name (the Rust writer's order),
// and the header is space-padded to a multiple of 8, so every tensor is aligned to its item size.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::span<const std::uint8_t> bytes;  // must hold exactly num_elements x item size bytes
};
// Serializes to a byte string (used by tests and by write_safetensors).
std::string serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
// Writes atomically: nothing partial is ever visible at `path`.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

template <typename T>
std::span<const std::uint8_t> as_bytes_span(const std::vector<T>& v) {
  return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(T)};
}

}  // namespace entroscope::io
