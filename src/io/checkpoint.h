#pragma once
// A Hugging Face checkpoint's weights: model.safetensors, or shards listed by
// model.safetensors.index.json. Hands out fp32 views of tensors; a tensor is used in place from the
// mapping only when it is stored as F32 at an absolute file offset aligned for float, otherwise it
// is decoded/copied once into 64-byte-aligned memory. Every hand-out is recorded (for `info` and
// `doctor`).
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "io/safetensors.h"

namespace entroscope::io {

// What kernels need of a float pointer. Misaligned floats are undefined behaviour in C++ and
// some BLAS paths assume at least this; never hand them a pointer that violates it.
inline constexpr std::size_t kFloatAlignment = alignof(float);

enum class Residence {
  kMapped,             // F32, aligned: used zero-copy from the mapping
  kCopiedMisaligned,   // F32 at a misaligned file offset: copied into aligned memory
  kConverted,          // F16 / BF16 / F64 decoded to fp32
};
std::string_view residence_name(Residence r);

struct Fp32Tensor {
  const float* data = nullptr;
  std::vector<std::int64_t> shape;
  std::uint64_t num_elements() const;
};

struct LoadRecord {
  std::string name;
  std::string file;  // file name within the checkpoint directory
  DType dtype;
  std::uint64_t file_offset;
  Residence residence;
};

class Checkpoint {
 public:
  // Opens `dir`/model.safetensors or `dir`/model.safetensors.index.json (+ shards). Throws Error
  // naming the directory/file if neither exists, a shard is missing, or a header is invalid.
  explicit Checkpoint(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  bool sharded() const { return sharded_; }

  std::vector<std::string> tensor_names() const;  // sorted
  const TensorInfo* find(const std::string& name) const;
  const SafetensorsFile& file_of(const std::string& name) const;

  // fp32 view valid for the Checkpoint's lifetime. Throws if absent or not a floating dtype.
  Fp32Tensor load_f32(const std::string& name);
  const std::vector<LoadRecord>& load_records() const { return records_; }

 private:
  std::filesystem::path dir_;
  bool sharded_ = false;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::size_t> file_index_;  // tensor name -> index into files_
  std::deque<AlignedBuffer<float>> owned_;         // decoded / realigned copies
  std::vector<LoadRecord> records_;
};

}  // namespace entroscope::io
