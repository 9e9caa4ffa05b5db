#pragma once
// `entroscope run`: parse and check the experiment, check every model before any is run (so a typo
// in the last model does not surface after hours), run the models one by one (a failed model does
// not stop the others), then write the cross-model summary files and plots.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/directory_lock.h"
#include "experiment/items.h"
#include "experiment/model_outcome.h"
#include "experiment/model_run.h"
#include "experiment/scaling_fit.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

struct ExperimentOutcome {
  ExperimentSpec spec;
  std::vector<ModelOutcome> models;
  std::vector<SlopeFit> fits;
  std::vector<std::filesystem::path> summary_files;  // scaling_summary.csv / .json, plots
  std::size_t failed_count() const;
};

// Throws Error for bad input (experiment file, items, unknown model, unusable config or
// tokenizer); model failures are reported in the outcome instead.
ExperimentOutcome run_experiment(const std::filesystem::path& experiment_file, const RunSettings& settings);

// After the models: the scaling fits, summary files, plots and (settings.report) report.html.
void write_across_models(ExperimentOutcome& out, const RunSettings& settings);

// Creates settings.out_dir and takes its lock (one writer per folder; a killed writer's lock is
// taken over, its temporary files removed, each with a note on the console).
std::unique_ptr<DirectoryLock> lock_output_folder(const RunSettings& settings, const std::string& what);

// The checks before any model runs, exposed for tests: resolves every model, loads configs and
// tokenizers, resolves special tokens, checks window settings and that model names are unique.
// Every model of the spec resolved and checked before anything runs; all the models that cannot
// be found are named in one error. fetch: Hub ids not in the cache are downloaded first.
std::vector<PreparedModel> prepare_models(const ExperimentSpec& spec, bool fetch = false);

// Writes scaling_summary.csv, scaling_summary.json and one scaling_<contrast>.svg per contrast
// (when at least one model finished). Returns the files written.
std::vector<std::filesystem::path> write_summary_files(const ExperimentSpec& spec,
                                                       const std::vector<ModelOutcome>& outcomes,
                                                       const std::vector<SlopeFit>& fits,
                                                       const std::filesystem::path& out_dir);

}  // namespace entroscope::experiment
