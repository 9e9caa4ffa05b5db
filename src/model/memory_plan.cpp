#include "model/memory_plan.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "kernels/threads.h"
#include "model/blocks.h"

namespace entroscope::model {
namespace {

std::optional<std::uint64_t> read_number_file(const char* path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    return std::stoull(word);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

MemoryEstimate estimate_memory(const ModelConfig& c, const WeightMemory& weights, std::size_t batch_tokens,
                               int threads) {
  MemoryEstimate e;
  const auto f = sizeof(float);
  e.weight_bytes = weights.resident_bytes();
  const std::uint64_t rows = batch_tokens;
  const std::uint64_t T = static_cast<std::uint64_t>(std::max(1, c.max_positions));
  const std::uint64_t per_row = 5ull * c.d_model + static_cast<std::uint64_t>(c.qkv_width()) +
                                static_cast<std::uint64_t>(c.n_head) * c.head_dim +
                                (c.gated_mlp ? 2ull : 1ull) * c.d_ff + (c.embed_dim != c.d_model ? c.embed_dim : 0);
  const std::uint64_t logits = std::min<std::uint64_t>(rows, kLogitsBlockRows) * static_cast<std::uint64_t>(c.vocab_size);
  // Per thread: a 64-query block of scores over the keys, and the packed keys and values.
  const std::uint64_t per_thread = 64ull * T + 2ull * T * static_cast<std::uint64_t>(c.head_dim);
  e.activation_bytes = (rows * per_row + logits + static_cast<std::uint64_t>(std::max(1, threads)) * per_thread) * f;
  // Per-row scores (doubles) and the results the scorer hands back.
  e.activation_bytes += rows * 64;
  return e;
}

std::optional<AvailableMemory> available_memory() {
  std::optional<AvailableMemory> out;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      std::uint64_t kb = 0;
      if (fields >> kb) out = AvailableMemory{kb * 1024, "MemAvailable"};
    }
  }
  const auto limit = read_number_file("/sys/fs/cgroup/memory.max");
  const auto current = read_number_file("/sys/fs/cgroup/memory.current");
  if (limit && current && *limit > *current) {
    const std::uint64_t headroom = *limit - *current;
    if (!out || headroom < out->bytes) out = AvailableMemory{headroom, "the cgroup's memory.max"};
  }
  return out;
}

MemoryPlan plan_memory(const ModelConfig& config, const WeightMemory& weights, const std::string& model_name,
                       std::size_t batch_tokens, std::uint64_t max_memory, int threads,
                       const std::optional<AvailableMemory>& available) {
  std::optional<AvailableMemory> limit = available;
  if (max_memory > 0 && (!limit || max_memory < limit->bytes)) limit = AvailableMemory{max_memory, "--max-memory"};
  MemoryPlan plan;
  plan.batch_tokens = std::max<std::size_t>(batch_tokens, 1);
  plan.estimate = estimate_memory(config, weights, plan.batch_tokens, threads);
  if (!limit || plan.estimate.total() <= limit->bytes) return plan;

  // Lower the batch, but not below one full window: a sequence as long as the context must fit.
  const std::size_t floor = std::min<std::size_t>(plan.batch_tokens, std::max(1, config.max_positions));
  std::size_t batch = plan.batch_tokens;
  while (batch > floor && estimate_memory(config, weights, batch, threads).total() > limit->bytes) batch = std::max(floor, batch / 2);
  const MemoryEstimate at_floor = estimate_memory(config, weights, batch, threads);
  if (at_floor.total() > limit->bytes) {
    fail("{}: needs about {} (weights {} with {} matrices + activations {} for {} tokens per forward call) but only "
         "{} {}; use a machine with more memory or a smaller model",
         model_name, human_bytes(at_floor.total()), human_bytes(at_floor.weight_bytes), weights.matrix_dtype,
         human_bytes(at_floor.activation_bytes), batch, human_bytes(limit->bytes),
         limit->source == "--max-memory" ? "are allowed (--max-memory)" : "are available (" + limit->source + ")");
  }
  plan.note = fmt::format("{}: batches of at most {} tokens (not {}) so that about {} fit in the {} {}", model_name,
                          batch, plan.batch_tokens, human_bytes(at_floor.total()), human_bytes(limit->bytes),
                          limit->source == "--max-memory" ? "allowed by --max-memory" : "available");
  plan.batch_tokens = batch;
  plan.estimate = at_floor;
  return plan;
}

MemoryPlan plan_checkpoint_memory(const std::filesystem::path& dir, const ModelConfig& config,
                                  const std::string& model_name, std::size_t batch_tokens, std::uint64_t max_memory) {
  return plan_memory(config, weight_memory(config, io::Checkpoint(dir)), model_name, batch_tokens, max_memory,
                     kernels::thread_count(), available_memory());
}

std::uint64_t parse_memory_size(const std::string& text, const std::string& option) {
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    fail("{} {}: expected a size such as 8G, 512M or 1.5GiB", option, text);
  }
  std::string unit;
  for (char ch : text.substr(pos))
    if (!std::isspace(static_cast<unsigned char>(ch))) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K" || unit == "KB" || unit == "KIB") scale = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MIB") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GIB") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TIB") scale = 1024.0 * 1024 * 1024 * 1024;
  if (scale == 0 || !std::isfinite(value) || value <= 0 || value * scale > 1.8e19)
    fail("{} {}: expected a positive size such as 8G, 512M or 1.5GiB", option, text);
  return static_cast<std::uint64_t>(value * scale);
}

std::string human_bytes(std::uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.0f} MB", b / (1024.0 * 1024));
  return fmt::format("{:.0f} KB", b / 1024.0);
}

}  // namespace entroscope::model
