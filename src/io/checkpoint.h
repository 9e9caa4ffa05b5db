#pragma once
// A Hugging Face checkpoint's weights: model.safetensors, or shards listed by
// model.safetensors.index.json. Hands out views of tensors, as fp32 (load_f32) or as stored when
// 16-bit (load_stored). A tensor is used in place from the mapping only when the view's type is its
// stored dtype and its absolute file offset is aligned for that type; otherwise it is decoded or
// copied once into 64-byte-aligned memory. Every hand-out is recorded (for `info` and `doctor`).
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

// Where an element of each type may lie: misaligned floats (or halves) are undefined behaviour in
// C++ and some BLAS paths assume at least this; never hand kernels a pointer that violates it.
inline constexpr std::size_t kFloatAlignment = alignof(float);
inline constexpr std::size_t kHalfAlignment = alignof(std::uint16_t);

enum class Residence {
  kMapped,             // used zero-copy from the mapping, as stored (F32, or F16/BF16 by load_stored)
  kCopiedMisaligned,   // at a misaligned file offset: copied, as stored, into aligned memory
  kConverted,          // F16 / BF16 / F64 decoded to fp32
};
std::string_view residence_name(Residence r);
// How a tensor is held when handed out by load_f32 (as_stored = false) or load_stored (true): in
// place only as stored and at a file offset aligned for its dtype (the mapping is page-aligned).
// The one rule, for the loaders and for memory estimates made before loading.
Residence planned_residence(const TensorInfo& info, bool as_stored);

struct Fp32Tensor {
  const float* data = nullptr;
  std::vector<std::int64_t> shape;
  std::uint64_t num_elements() const;
};

// A tensor as the forward may read it: F32, or F16 / BF16 kept 16-bit (widened where read).
struct StoredTensor {
  const void* data = nullptr;
  DType dtype = DType::F32;  // F32, F16 or BF16
  std::vector<std::int64_t> shape;
  std::uint64_t num_elements() const;
  std::uint64_t bytes() const { return num_elements() * dtype_size(dtype); }
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
  // F16 / BF16 as stored (in place when at an even file offset, else copied, still 16-bit); any
  // other floating dtype as load_f32 gives it. Throws if absent or not a floating dtype.
  StoredTensor load_stored(const std::string& name);
  const std::vector<LoadRecord>& load_records() const { return records_; }
  // Drops a tensor's pages from the resident set when it was handed out from the mapping, e.g.
  // once a packed copy replaces it; a later read faults them in again. Copies are kept.
  void release_mapped_pages(const std::string& name) const;

 private:
  std::filesystem::path dir_;
  bool sharded_ = false;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::size_t> file_index_;  // tensor name -> index into files_
  std::deque<AlignedBuffer<float>> owned_;         // decoded / realigned copies
  std::deque<AlignedBuffer<std::uint16_t>> owned_halves_;  // realigned 16-bit copies
  std::vector<LoadRecord> records_;
};

}  // namespace entroscope::io
