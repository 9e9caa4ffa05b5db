#pragma once
// The weights of one model, by role, as pointers, plus the checkpoint they come from.
// Which tensors a family has, under which names and shapes, is its tensor table (architecture.h).
#include <array>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "model/architecture.h"
#include "model/config.h"

namespace entroscope::model {

// One weight tensor where it lies. Scalar is float for the compute path, whose projection
// matrices and embedding tables keep a 16-bit checkpoint's dtype (widened where read:
// kernels::WeightType); doctor builds double (float64 reference) and rounded float (fp16/bf16
// emulation) copies, held as Scalar. Vectors (norms, biases) and position tables are always Scalar.
template <typename Scalar>
struct WeightTensor {
  const void* data = nullptr;
  kernels::WeightType type = kernels::WeightType::kScalar;

  explicit operator bool() const { return data != nullptr; }
  // The elements as Scalar; only for a tensor held as Scalar (throws otherwise: a role read
  // without widening that load_model keeps 16-bit is a bug, caught where it happens).
  const Scalar* values() const;
};

// Tensors by role (architecture.h); null where the family's table has no such tensor (a bias it
// does not use, a fused qkv where it has separate ones).
template <typename Scalar>
struct LayerWeightsT {
  std::array<WeightTensor<Scalar>, kRoleCount> tensors{};
  const WeightTensor<Scalar>& tensor(Role r) const { return tensors[static_cast<int>(r)]; }
  WeightTensor<Scalar>& slot(Role r) { return tensors[static_cast<int>(r)]; }
  // A Scalar-held tensor's values, or null where absent.
  const Scalar* operator[](Role r) const { return tensor(r) ? tensor(r).values() : nullptr; }
};

// Whether load_model keeps a role's tensor in its stored 16-bit dtype: the matrices the GEMM packs
// and the token embedding (gathered row by row), which are nearly all of a model's bytes.
bool keeps_stored_dtype(Role r);

// The LM head packed for kernels::gemm on first use (the first forward) and kept: every block of
// logits rows reuses it, where packing it per block cost gpt2 8-10% of a forward. Not at load, which
// stays a memory map: `info` or `doctor` never need the 154-206 MB of fresh memory it takes. Once
// packed, `after_pack` runs (load_model: the mapped head's pages leave the resident set).
class PackedHeadCache {
 public:
  explicit PackedHeadCache(std::function<void()> after_pack = {}) : after_pack_(std::move(after_pack)) {}
  // The [V, D] head as the map D -> V, packed (widened to float) by the first caller. Thread-safe.
  const kernels::PackedMatrix& get(const WeightTensor<float>& lm_head, int D, int V);

 private:
  std::once_flag once_;
  kernels::PackedMatrix packed_;
  std::function<void()> after_pack_;
};

template <typename Scalar>
struct ModelWeightsT {
  kernels::WeightLayout layout;     // kInOut (GPT-2 Conv1D) or kOutIn (nn.Linear)
  LayerWeightsT<Scalar> model;      // model-level roles; kLmHead is the token embedding when tied
  std::vector<LayerWeightsT<Scalar>> layers;
  std::shared_ptr<PackedHeadCache> packed_head;  // set on fp32 weights (load_model, convert_weights)
  const Scalar* operator[](Role r) const { return model[r]; }
};

using LayerWeights = LayerWeightsT<float>;
using ModelWeights = ModelWeightsT<float>;

// A loaded model: config, checkpoint (keeps mappings and copies alive) and weights.
struct Model {
  std::filesystem::path dir;
  std::string name;                // for messages: the directory name or the spec the user gave
  ModelConfig config;
  std::unique_ptr<io::Checkpoint> checkpoint;
  ModelWeights weights;
};

// The memory a model's weights take as entroscope holds them, from the checkpoint's headers and
// the tensor table (nothing is read): for `info`, `bench` and the memory plan.
struct WeightMemory {
  std::uint64_t held_bytes = 0;         // every parameter tensor as held: mapped or copied, 16-bit kept 16-bit
  std::uint64_t packed_head_bytes = 0;  // the LM head packed as float32 at the first forward
  std::uint64_t released_bytes = 0;     // an untied mapped head's pages, released once packed
  std::string matrix_dtype;             // how the large matrices are held: "float32", "bfloat16", .. or "mixed"
  std::uint64_t resident_bytes() const { return held_bytes + packed_head_bytes - released_bytes; }
};
WeightMemory weight_memory(const ModelConfig& c, const io::Checkpoint& ckpt);

// What each tensor of a checkpoint is by the architecture's table ("attn.q", "mlp.down", "tied
// copy", ...): name -> role, under the base prefix the checkpoint uses. Names not in the table are
// absent (doctor reports them as buffers when is_ignored_buffer, else as unexpected).
std::map<std::string, std::pair<Role, int>> checkpoint_roles(const io::Checkpoint& ckpt, const ModelConfig& c);

// Loads config.json and the checkpoint in `dir`. Throws Error listing missing tensors,
// unexpected tensors, and shape mismatches (all at once, each with the expected shape).
Model load_model(const std::filesystem::path& dir, const std::string& display_name = "");

// A converted copy of a model's weights that owns its storage: every tensor passed through
// `convert(float) -> Scalar` (e.g. widening to double, or rounding through fp16).
template <typename Scalar>
struct OwnedWeights {
  ModelWeightsT<Scalar> weights;
  std::vector<std::vector<Scalar>> storage;
};
template <typename Scalar, typename Convert>
OwnedWeights<Scalar> convert_weights(const Model& m, Convert convert);

// The weights on the GPU (CUDA backend), uploaded once as float32: 16-bit checkpoints are widened
// exactly, as on the CPU. Throws Error when the build or the machine has no CUDA device.
struct DeviceWeights {
  ModelWeightsT<kernels::GpuFloat> weights;
  std::vector<std::unique_ptr<kernels::DeviceBuffer<kernels::GpuFloat>>> storage;
  std::uint64_t bytes = 0;
};
DeviceWeights upload_weights(const Model& m);

}  // namespace entroscope::model
