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

std::optional<ReusableResult> find_reusable_result(const fs::path& dir, const std::string& model,
                                                   const std::string& resume_key) {
  const std::string prefix = fmt::format("experiment_results_{}_", model);
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    // The timestamp part has no '_', so "a_b" never matches files of a model named "a".
    if (name.rfind(prefix, 0) != 0 || entry.path().extension() != ".json") continue;
    const std::string stamp = name.substr(prefix.size(), name.size() - prefix.size() - 5);
    if (stamp.find('_') != std::string::npos) continue;
    candidates.push_back(entry.path());
  }
  std::sort(candidates.rbegin(), candidates.rend());  // newest first (timestamps sort by time)
  for (const fs::path& file : candidates) {
    try {
      const nlohmann::json doc = read_json_file(file);
      if (doc.value("resume_key", std::string()) != resume_key) continue;
      ModelResult result = result_from_json(doc, file.string());
      if (!result.per_token_file.empty() && !fs::exists(dir / result.per_token_file, ec)) continue;
      return ReusableResult{file, std::move(result)};
    } catch (const Error&) {
      continue;  // an unreadable file is not a finished run
    }
  }
  return std::nullopt;
}


void write_per_token_file(const fs::path& path, PerTokenFormat format, const ExperimentSpec& spec,
                          const ItemSet& items, const tokenizer::Tokenizer& tokenizer,
                          const std::vector<TokenRecord>& tokens) {
  std::string out;
  const std::string label = path.string();
  if (format == PerTokenFormat::kCsv)
    out += "item_id,condition,token_index,position,token_id,token,entropy_bits,surprisal_bits\n";
  for (const TokenRecord& t : tokens) {
    const std::string& id = items.items.at(t.item).id;
    const std::string& condition = spec.conditions.at(t.condition).name;
    const std::string token = printable_bytes(tokenizer.token_bytes(t.token_id));
    if (format == PerTokenFormat::kCsv) {
      out += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(id), csv_field(condition), t.token_index, t.position,
                         t.token_id, csv_field(token), finite_number(t.entropy_bits, label),
                         finite_number(t.surprisal_bits, label));
    } else {
      nlohmann::ordered_json row = {{"item_id", id},           {"condition", condition},
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
