#pragma once
// One model's part of an experiment: hash its files, reuse a finished run with the same resume key
// (spec + data + weights + config + tokenizer), or load it, score every item, summarize and write
// the results, analysis, per-token and log files. A failure (non-finite values included) is
// returned as a failed outcome with its reason; nothing with numbers is written for that model.
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "experiment/items.h"
#include "experiment/model_outcome.h"
#include "experiment/model_source.h"
#include "experiment/progress.h"
#include "experiment/spec.h"
#include "experiment/window_plan.h"
#include "kernels/device.h"
#include "tokenizer/tokenizer.h"

namespace entroscope::experiment {

// A model checked before the run starts: resolved, config read, tokenizer loaded, special tokens
// and window shape validated.
struct PreparedModel {
  ModelSource source;
  std::optional<tokenizer::Tokenizer> tokenizer;
  WindowShape window;
};

struct RunSettings {
  std::filesystem::path out_dir;
  bool force = false;                          // recompute even when a finished run matches
  ProgressStyle progress = ProgressStyle::kLines;
  std::FILE* console = stderr;                 // status lines and progress
  bool fetch = false;                          // download Hub ids that are not cached (before anything runs)
  std::uint64_t max_memory = 0;                // --max-memory in bytes; 0: what the machine has available
  kernels::Device device = kernels::Device::kCpu;  // --device: where the forward runs
  // Write report.html after the summary, and keep per-token (or per-word) files for its heat maps
  // even when the spec asks for none (as CSV).
  bool report = false;
};

// sha256 over everything that decides this model's numbers.
// The device is part of it: GPU and CPU results agree within tolerance, not bit for bit.
std::string resume_key(const ExperimentSpec& spec, const ItemSet& items, const ModelDigests& digests,
                       kernels::Device device);

ModelOutcome run_model(const ExperimentSpec& spec, const ItemSet& items, const PreparedModel& prepared,
                       const RunSettings& settings, const std::string& counter);

}  // namespace entroscope::experiment
