#include "experiment/results_files.h"

#include <algorithm>

#include "common/json_file.h"
#include "experiment/checked_output.h"
#include "experiment/text_format.h"

namespace entroscope::experiment {

namespace fs = std::filesystem;

std::string results_file_name(const std::string& model, const std::string& timestamp) {
  return fmt::format("experiment_results_{}_{}.json", model, timestamp);
}
std::string analysis_file_name(const std::string& model) { return fmt::format("entropy_analysis_{}.txt", model); }
std::string log_file_name(const std::string& model, const std::string& timestamp) {
  return fmt::format("experiment_{}_{}.log", model, timestamp);
}
std::string per_token_file_name(const std::string& model, const std::string& timestamp, PerTokenFormat format) {
  return fmt::format("per_token_{}_{}.{}", model, timestamp, per_token_format_name(format));
}

namespace {

// Whether `name` is <prefix><stamp><suffix> with a stamp free of '_' (so the files of model "a"
// never match those of model "a_b").
bool is_model_file(const std::string& name, const std::string& prefix, const std::string& suffix) {
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  const std::string stamp = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return stamp.find('_') == std::string::npos;
}

}  // namespace

void retire_older_files(const fs::path& dir, const std::string& model, const std::vector<std::string>& keep) {
  const std::vector<std::pair<std::string, std::string>> patterns = {
      {fmt::format("experiment_results_{}_", model), ".json"},
      {fmt::format("per_token_{}_", model), ".csv"},
      {fmt::format("per_token_{}_", model), ".jsonl"},
      {fmt::format("experiment_{}_", model), ".log"}};
  std::error_code ec;
  std::vector<fs::path> older;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    for (const auto& [prefix, suffix] : patterns) {
      if (is_model_file(name, prefix, suffix)) {
        older.push_back(entry.path());
        break;
      }
    }
  }
  if (older.empty()) return;
  const fs::path previous = dir / "previous";
  fs::create_directories(previous, ec);
  if (ec) fail("{}: cannot create the folder for earlier results: {}", previous.string(), ec.message());
  for (const fs::path& file : older) {
    fs::rename(file, previous / file.filename(), ec);
    if (ec) fail("{}: cannot move it into {}: {}", file.string(), previous.string(), ec.message());
  }
}

std::optional<ReusableResult> find_reusable_result(const fs::path& dir, const std::string& model,
                                                   const std::string& resume_key) {
  const std::string prefix = fmt::format("experiment_results_{}_", model);
  std::vector<fs::path> candidates;
  std::error_code ec;
  // The current files first, then those retire_older_files moved aside.
  for (const fs::path& folder : {dir, dir / "previous"}) {
    std::vector<fs::path> here;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      if (is_model_file(entry.path().filename().string(), prefix, ".json")) here.push_back(entry.path());
    }
    std::sort(here.rbegin(), here.rend());  // newest first (timestamps sort by time)
    candidates.insert(candidates.end(), here.begin(), here.end());
  }
  for (const fs::path& file : candidates) {
    try {
      const nlohmann::json doc = read_json_file(file);
      if (doc.value("resume_key", std::string()) != resume_key) continue;
      ModelResult result = result_from_json(doc, file.string());
      const fs::path folder = file.parent_path();
      if (!result.per_token_file.empty() && !fs::exists(folder / result.per_token_file, ec)) continue;
      if (folder != dir) {
        // An earlier result that fits again becomes the current one.
        fs::rename(file, dir / file.filename(), ec);
        if (!ec && !result.per_token_file.empty()) fs::rename(folder / result.per_token_file, dir / result.per_token_file, ec);
        if (ec) continue;
      }
      return ReusableResult{dir / file.filename(), std::move(result)};
    } catch (const Error&) {
      continue;  // an unreadable file is not a finished run
    }
  }
  return std::nullopt;
}


void write_per_token_file(const fs::path& path, PerTokenFormat format, const std::string& model,
                          const ExperimentSpec& spec, const ItemSet& items, const tokenizer::Tokenizer& tokenizer,
                          const std::vector<TokenRecord>& tokens) {
  std::string out;
  const std::string label = path.string();
  if (format == PerTokenFormat::kCsv)
    out += "model,item_id,condition,token_index,position,token_id,token,entropy_bits,surprisal_bits\n";
  for (const TokenRecord& t : tokens) {
    const std::string& id = items.items.at(t.item).id;
    const std::string& condition = spec.conditions.at(t.condition).name;
    const std::string token = printable_bytes(tokenizer.token_bytes(t.token_id));
    if (format == PerTokenFormat::kCsv) {
      out += fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_field(model), csv_field(id), csv_field(condition),
                         t.token_index, t.position,
                         t.token_id, csv_field(token), finite_number(t.entropy_bits, label),
                         finite_number(t.surprisal_bits, label));
    } else {
      nlohmann::ordered_json row = {{"model", model},          {"item_id", id},           {"condition", condition},
                                    {"token_index", t.token_index}, {"position", t.position},
                                    {"token_id", t.token_id},  {"token", token},
                                    {"entropy_bits", t.entropy_bits}, {"surprisal_bits", t.surprisal_bits}};
      require_finite(row, label);
      out += row.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    }
  }
  write_file_atomic(path, out);
}

}  // namespace entroscope::experiment
