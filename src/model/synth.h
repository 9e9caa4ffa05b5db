#pragma once
// Synthetic checkpoints: a preset's config.json plus a random-initialized model.safetensors in the
// Hugging Face Hub file layout, written streaming (one chunk in memory at a time, so gpt2-xl's
// 6.4 GB needs a few MB) and atomically (temporary file + rename; config.json last).
//
// Layout: the architecture's tensor table (architecture.h) under the family's first base prefix,
// which is what the Hub's files use: GPT-2 without "transformer." and with the h.N.attn.bias causal
// mask buffers [1, 1, n_positions, n_positions] (lower-triangular ones) that the Hub's files carry,
// so the file has the real one's size (gpt2: 548 MB) and loaders must skip them, as with the real
// file; the others as save_pretrained writes them (gpt_neox.*, transformer.*, model.decoder.*,
// model.*). Tied heads are not written.
// Tensors are laid out by name (all one dtype) and the header is padded to 8 bytes, as
// io::serialize_safetensors does, so every tensor is aligned.
//
// Initialization (transformers' _init_weights): Linear/Conv1D weights and embeddings N(0, 0.02),
// biases 0, norm weights 1 / biases 0, and the residual output projections (the attention output
// and the MLP down projection of every family) N(0, 0.02 / sqrt(2 n_layer)) (transformers does
// this for GPT-2 only; applied to all so deep models' residual stream stays O(1)).
// One deliberate deviation: the final LayerNorm weight is final_norm_gain(D) instead of 1. With
// transformers' init the logits are nearly white noise of std 0.02 sqrt(D) (0.55 for gpt2), so every
// next-token distribution is within ~0.3 bits of uniform (log2 V = 15.6 bits); the gain scales the
// logits to std ~kSynthLogitStd for every width, which puts entropies in a realistic range (gpt2,
// gpt2-medium, pythia-160m: ~0.1 to ~8 bits, median 4-6) and keeps it comparable across presets.
// With a tied head and no position table (Llama 3.2, SmolLM2, Qwen) the final hidden state stays
// aligned with its own token's embedding, whose logit would then dominate every distribution
// (entropy ~0 everywhere): there the gain gets a random sign per element, which decorrelates
// them. OPT's project_out is N(0, 1/sqrt(D)) (norm-preserving) and the gain is over its width. Values are a pure function of (seed, tensor name, element index): the same
// seed gives the same checkpoint bit for bit on every machine and thread count, and an f16/bf16
// checkpoint is the f32 one rounded to nearest even.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "io/dtype.h"
#include "model/architecture.h"
#include "model/config.h"

namespace entroscope::model {

// Logit scale of synthetic checkpoints (see above): final LayerNorm weight = kSynthLogitStd / (0.02 sqrt(D)).
inline constexpr double kSynthLogitStd = 4.4;
double final_norm_gain(int d_model);

struct SynthTensor {
  std::string name;        // full checkpoint name
  std::vector<std::int64_t> shape;
  SynthInit init = SynthInit::kZeros;
  double value = 0.0;      // the normal inits: standard deviation; kFinalNormGain: the value
  bool parameter = true;   // false for buffers (GPT-2 causal masks)
  bool random_signs = false;  // kFinalNormGain: each element +-value (tied heads without a position table)
  std::uint64_t num_elements() const;
};

// The tensors of a Hub-layout checkpoint for `config` (its architecture's tensor table under the
// family's first base prefix, tied copies left out), sorted by name, with their initialization.
std::vector<SynthTensor> synth_plan(const ModelConfig& config);

// Sum of the plan's parameter element counts (equals config.parameter_count()).
long long synth_parameter_count(const std::vector<SynthTensor>& plan);

// Fills out[0..count) with elements [first, first + count) of tensor `name` ~ N(0, stddev).
// Deterministic: depends only on (seed, name, element index), not on how the range is chunked.
void synth_normal(std::uint64_t seed, std::string_view name, double stddev, std::uint64_t first, std::uint64_t count,
                  float* out);

struct SynthOptions {
  std::string preset;
  std::filesystem::path out;
  std::uint64_t seed = 0;
  io::DType dtype = io::DType::F32;  // F32, F16 or BF16
  bool force = false;                // replace a model already in `out`
  // Called after every chunk with (bytes written so far, total file bytes).
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

struct SynthResult {
  std::filesystem::path dir;
  std::uint64_t file_bytes = 0;   // model.safetensors
  long long parameters = 0;
  std::size_t tensors = 0;
};

// Writes out/config.json and out/model.safetensors. Throws Error (one line naming the path) for an
// unknown preset or dtype, an occupied directory (without force), too little disk space, or a
// failed write; nothing partial is left at the final names.
SynthResult synthesize(const SynthOptions& options);

}  // namespace entroscope::model
