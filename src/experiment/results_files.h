#pragma once
// The files one model's run leaves in the output folder, and finding a finished run to reuse:
//   experiment_results_<model>_<time>.json   results (written last: its presence means "finished")
//   entropy_analysis_<model>.txt             readable summary of the latest results
//   experiment_<model>_<time>.log            what happened, as it happened
//   per_token_<model>_<time>.csv / .jsonl    per-token values, when asked for
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "experiment/item_scoring.h"
#include "experiment/model_result.h"
#include "tokenizer/tokenizer.h"

namespace entroscope::experiment {

std::string results_file_name(const std::string& model, const std::string& timestamp);
std::string analysis_file_name(const std::string& model);
std::string log_file_name(const std::string& model, const std::string& timestamp);
std::string per_token_file_name(const std::string& model, const std::string& timestamp, PerTokenFormat format);

struct ReusableResult {
  std::filesystem::path file;
  ModelResult result;
};

// The newest results file of `model` in `dir` whose resume key matches (and whose per-token file,
// when one was requested, still exists). Unreadable or foreign files are skipped.
// After a model's run: its other results, per-token and log files in `dir` (earlier runs, other
// specs, --force) move into dir/previous/, so the folder holds one current set per model and a
// glob never counts a model twice. `keep`: the current files' names.
void retire_older_files(const std::filesystem::path& dir, const std::string& model, const std::vector<std::string>& keep);

std::optional<ReusableResult> find_reusable_result(const std::filesystem::path& dir, const std::string& model,
                                                   const std::string& resume_key);

// Per-token values: one row per measured token, units in the column names. Atomic; refuses
// non-finite values.
void write_per_token_file(const std::filesystem::path& path, PerTokenFormat format, const std::string& model,
                          const ExperimentSpec& spec,
                          const ItemSet& items, const tokenizer::Tokenizer& tokenizer,
                          const std::vector<TokenRecord>& tokens);

}  // namespace entroscope::experiment
