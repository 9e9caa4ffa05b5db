#pragma once
// Whether a model fits in memory before it is loaded, and the batch size that makes it fit: the
// weights as entroscope holds them (float32, plus the packed LM head) and the activations of one
// forward call of `batch_tokens` rows. Refusing here, with the figures, beats being OOM-killed in
// the middle of a run. The weights' part comes from the checkpoint's headers (weight_memory).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "model/config.h"
#include "model/weights.h"

namespace entroscope::model {

struct MemoryEstimate {
  std::uint64_t weight_bytes = 0;      // resident weights as held (WeightMemory::resident_bytes)
  std::uint64_t activation_bytes = 0;  // one forward call of batch_tokens rows, with per-thread buffers
  std::uint64_t total() const { return weight_bytes + activation_bytes + kBaseBytes; }
  static constexpr std::uint64_t kBaseBytes = 128ull << 20;  // the program, tokenizer, results
};
MemoryEstimate estimate_memory(const ModelConfig& config, const WeightMemory& weights, std::size_t batch_tokens,
                               int threads);

struct AvailableMemory {
  std::uint64_t bytes = 0;
  std::string source;  // "MemAvailable", "cgroup memory.max", "--max-memory"
};
// MemAvailable, lowered to the cgroup v2 limit's headroom when there is one; nullopt if unknown.
std::optional<AvailableMemory> available_memory();

struct MemoryPlan {
  MemoryEstimate estimate;    // at the chosen batch
  std::size_t batch_tokens = 0;
  std::string note;           // non-empty when the batch was lowered to fit
};
// The batch (at most `batch_tokens`, at least one full context window) that fits in
// min(available, max_memory). Throws Error with the figures when even that does not fit.
// `max_memory`: --max-memory in bytes (0 = none).
MemoryPlan plan_memory(const ModelConfig& config, const WeightMemory& weights, const std::string& model_name,
                       std::size_t batch_tokens, std::uint64_t max_memory, int threads,
                       const std::optional<AvailableMemory>& available);

// plan_memory for the checkpoint in `dir` before it is loaded: the weights' part from its headers
// (weight_memory), this process's thread count and the memory available now.
MemoryPlan plan_checkpoint_memory(const std::filesystem::path& dir, const ModelConfig& config,
                                  const std::string& model_name, std::size_t batch_tokens, std::uint64_t max_memory);

// "8G", "8GB", "512M", "1.5 GiB", "123456" (bytes); powers of 1024. Throws Error naming `option`.
std::uint64_t parse_memory_size(const std::string& text, const std::string& option);
std::string human_bytes(std::uint64_t bytes);  // "1.3 GB" (powers of 1024)

}  // namespace entroscope::model
