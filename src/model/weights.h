#pragma once
// The weights of one model, by role, as pointers, plus the checkpoint they come from.
// Hub tensor names differ per architecture; the mapping is spelled out in weights.cpp.
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "model/config.h"

namespace entroscope::model {

// Scalar is float for the compute path; doctor builds double (float64 reference) and rounded
// float (fp16/bf16 emulation) copies.
template <typename Scalar>
struct LayerWeightsT {
  const Scalar* ln1_weight;        // [D]   GPT-2 ln_1, NeoX input_layernorm
  const Scalar* ln1_bias;          // [D]
  const Scalar* qkv_weight;        // GPT-2 [D, 3D] (in,out); NeoX [3D, D] (out,in)
  const Scalar* qkv_bias;          // [3D] (null when NeoX attention_bias=false)
  const Scalar* attn_out_weight;   // [D, D]
  const Scalar* attn_out_bias;     // [D]
  const Scalar* ln2_weight;        // [D]   GPT-2 ln_2, NeoX post_attention_layernorm
  const Scalar* ln2_bias;          // [D]
  const Scalar* mlp_up_weight;     // GPT-2 [D, F]; NeoX [F, D]
  const Scalar* mlp_up_bias;       // [F]
  const Scalar* mlp_down_weight;   // GPT-2 [F, D]; NeoX [D, F]
  const Scalar* mlp_down_bias;     // [D]
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
  kernels::WeightLayout layout;     // kInOut (GPT-2 Conv1D) or kOutIn (NeoX Linear)
  const Scalar* token_embedding;    // [V, D] wte / embed_in
  const Scalar* position_embedding; // [P, D] wpe (GPT-2), null for NeoX
  std::vector<LayerWeightsT<Scalar>> layers;
  const Scalar* final_norm_weight;  // [D] ln_f / final_layer_norm
  const Scalar* final_norm_bias;    // [D]
  const Scalar* lm_head;            // [V, D] (wte when tied; embed_out for NeoX)
  std::shared_ptr<PackedHeadCache> packed_head;  // set on fp32 weights (load_model, convert_weights)
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

// True for checkpoint entries that are buffers, not parameters (causal masks, rotary inv_freq):
// GPT-2 h.N.attn.bias / h.N.attn.masked_bias, NeoX attention.bias / masked_bias / rotary_emb.inv_freq.
bool is_ignored_buffer(const std::string& name, Architecture arch);

}  // namespace entroscope::model
