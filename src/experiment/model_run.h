#pragma once
// One model's part of an experiment: hash its files, reuse a finished run with the same resume key
// (spec + data + weights + config + tokenizer), or load it, score every item, summarize and write
// the results, analysis, per-token and log files. A failure (non-finite values included) is
// returned as a failed outcome with its reason; nothing with numbers is written for that model.
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "experiment/item_scoring.h"
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

class RunLog;

// A model loaded for scoring: refused before loading when it cannot fit (the batch lowered when
// that makes it fit), the scorer set up with the word classes when the unit is words. score() may
// be called on any subset of the items: each item gets the same bits as in a run over all of
// them (the scorer's batching invariance), which is what sharded runs rely on.
class LoadedModel {
 public:
  // Notes (memory, device) go to `console` prefixed by `counter`, and to `log`.
  LoadedModel(const ExperimentSpec& spec, const PreparedModel& prepared, const RunSettings& settings,
              const std::string& counter, RunLog& log);
  ~LoadedModel();
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;

  // keep_units: fill the per-token (or per-word) records. Throws NumericError naming the place of
  // a non-finite value, with the item's data-file line.
  ScoredItems score(const ItemSet& items, bool keep_units, Progress* progress);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Scores computed elsewhere: the units of a sharded run concatenated in item order (merge).
struct PrecomputedScores {
  ScoredItems scored;
  RunInfo run;  // threads, kernel, device and times as the units recorded them
  std::size_t units = 0;
};

// Computes (or reuses) one model's results and writes its files. With `precomputed`, nothing is
// loaded or scored: its scores are summarized and written exactly as a run's own would be.
ModelOutcome run_model(const ExperimentSpec& spec, const ItemSet& items, const PreparedModel& prepared,
                       const RunSettings& settings, const std::string& counter,
                       const PrecomputedScores* precomputed = nullptr);

// A model's outcome with its identity filled in (name, family, architecture, parameters); failed.
ModelOutcome outcome_of(const ModelSource& src);

// What this process records about how it runs (version, kernel, threads, device); no times.
RunInfo this_run(const ExperimentSpec& spec, kernels::Device device);

// The per-unit file a run writes: as the spec asks, else CSV when the report needs it.
PerTokenFormat unit_file_format(const ExperimentSpec& spec, bool report);

}  // namespace entroscope::experiment
