#pragma once
// The files one model's run leaves in the output folder, and finding a finished run to reuse:
//   experiment_results_<model>_<time>.json   results (written last: its presence means "finished")
//   entropy_analysis_<model>.txt             readable summary of the latest results
//   experiment_<model>_<time>.log            what happened, as it happened
//   per_token_<model>_<time>.csv / .jsonl    per-token values, when asked for (unit: token)
//   per_word_<model>_<time>.csv / .jsonl     per-word values, when asked for (unit: word)
//   items_<model>.csv                        per-item values of the latest results, long format
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
// per_token_… or per_word_… by the spec's unit.
std::string per_token_file_name(const std::string& model, const std::string& timestamp, PerTokenFormat format,
                                Unit unit);
std::string items_file_name(const std::string& model);

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

// Per-word values (unit: word): one row per measured word with the columns of `entroscope score
// --unit word` (spans within the measured segment). Atomic; refuses non-finite values.
void write_per_word_file(const std::filesystem::path& path, PerTokenFormat format, const std::string& model,
                         const ExperimentSpec& spec, const ItemSet& items, const std::vector<WordRecord>& words);

// items_<model>.csv: one row per item x condition x measure (model, item, condition, measure,
// value, n_units), in item, condition, measure order; values in bits (the measure names say so).
std::string items_csv(const ExperimentSpec& spec, const ModelResult& result);

}  // namespace entroscope::experiment
