#pragma once
// Shared pieces of the experiment tests: paths, writing small experiments, the demo run (computed
// once and then reused through entroscope's own resume mechanism, so that every test process after
// the first one reads it back in well under a second), and running the CLI.
#include <filesystem>
#include <string>
#include <vector>

#include "experiment/experiment_runner.h"

namespace entroscope::experiment_test {

namespace fs = std::filesystem;

inline const fs::path kSourceDir = ES_SOURCE_DIR;
inline const fs::path kModelsDir = kSourceDir / "models";
inline const fs::path kDemoItems = kModelsDir / "demo-experiment" / "items.jsonl";
inline const fs::path kDemoExperiment = kSourceDir / "examples" / "demo.yaml";

// The first `n` lines of the demo items, written to `path`.
void write_demo_items(const fs::path& path, std::size_t n);

// Runs an experiment with progress and status lines suppressed and one thread (results do not
// depend on threads; one thread keeps a busy shared machine from slowing the tests down).
experiment::ExperimentOutcome run_quietly(const fs::path& experiment, const fs::path& out_dir, bool force = false);

// examples/demo.yaml run into a cache folder under the build directory. The folder is wiped when the
// test executable changed since it was filled, so cached numbers always come from the code under
// test.
struct DemoRun {
  fs::path out_dir;
  experiment::ExperimentOutcome outcome;
};
const DemoRun& demo_run();

// Runs `command` with /bin/sh; returns the exit status and stdout+stderr (2>&1).
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_command(const std::string& command);

// dir/exp.yaml + dir/items.jsonl: `models` (a YAML list) over the first `items` demo items, with
// context and without, one contrast, 300 bootstrap samples, plus `options` (YAML lines).
void write_experiment(const fs::path& dir, const std::string& models, std::size_t items, const std::string& options);
// dir/exp.yaml + dir/items.jsonl: demo-gpt2-s and demo-neox-m over the first `items` demo items,
// with context and without, one contrast, 300 bootstrap samples, plus `options` (YAML lines).
void write_two_model_experiment(const fs::path& dir, std::size_t items = 6,
                                const std::string& options = "per_token: csv\n");
// `entroscope run dir/exp.yaml --out OUT --threads 1 --progress none`; `env` goes before the command
// ("ENTROSCOPE_FAULT_POINT=... ").
CommandResult run_cli_experiment(const fs::path& dir, const fs::path& out, const std::string& env = "");

// A copy of models/demo-gpt2-s in `dir` with one weight of layer 0's attention set to NaN.
fs::path make_nan_model(const fs::path& dir);

std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix);

}  // namespace entroscope::experiment_test
