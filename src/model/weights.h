#pragma once
// The weights of one model, by role, as pointers, plus the checkpoint they come from.
// Which tensors a family has, under which names and shapes, is its tensor table (architecture.h).
#include <array>
#include <filesystem>
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

// Scalar is float for the compute path; doctor builds double (float64 reference) and rounded
// float (fp16/bf16 emulation) copies. Pointers by role (architecture.h); null where the family's
// table has no such tensor (a bias it does not use, a fused qkv where it has separate ones).
template <typename Scalar>
struct LayerWeightsT {
  std::array<const Scalar*, kRoleCount> tensors{};
  const Scalar* operator[](Role r) const { return tensors[static_cast<int>(r)]; }
  const Scalar*& slot(Role r) { return tensors[static_cast<int>(r)]; }
};

// The LM head packed for kernels::gemm on first use (the first forward) and kept: every block of
// logits rows reuses it, where packing it per block cost gpt2 8-10% of a forward. Not at load, which
// stays a memory map: `info` or `doctor` never need the 154-206 MB of fresh memory it takes.
class PackedHeadCache {
 public:
  // The [V, D] head as the map D -> V, packed by the first caller. Thread-safe.
  const kernels::PackedMatrix& get(const float* lm_head, int D, int V);

 private:
  std::once_flag once_;
  kernels::PackedMatrix packed_;
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

}  // namespace entroscope::model
