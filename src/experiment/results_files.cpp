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
std::string per_token_file_name(const std::string& model, const std::string& timestamp, PerTokenFormat format,
                                Unit unit) {
  return fmt::format("per_{}_{}_{}.{}", unit_name(unit), model, timestamp, per_token_format_name(format));
}
std::string items_file_name(const std::string& model) { return fmt::format("items_{}.csv", model); }

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
      {fmt::format("per_word_{}_", model), ".csv"},
      {fmt::format("per_word_{}_", model), ".jsonl"},
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

namespace entroscope::experiment {

void write_per_word_file(const fs::path& path, PerTokenFormat format, const std::string& model,
                         const ExperimentSpec& spec, const ItemSet& items, const std::vector<WordRecord>& words) {
  static constexpr const char* kColumns[] = {
      "model", "item_id", "condition", "word_index", "word", "char_start", "char_end", "byte_start", "byte_end",
      "token_start", "token_end", "unit_token_start", "position", "entropy_bits", "surprisal_bits",
      "surprisal_bow_bits", "surprisal_bow_wordsprobability_bits", "surprisal_bow_minicons_bits",
      "first_subword_entropy_bits", "boundary_inside_token"};
  const std::string label = path.string();
  std::string out;
  if (format == PerTokenFormat::kCsv) {
    for (std::size_t c = 0; c < std::size(kColumns); ++c) out += fmt::format("{}{}", c ? "," : "", kColumns[c]);
    out += "\n";
  }
  for (const WordRecord& r : words) {
    const WordMeasures& w = r.measures;
    const std::string& id = items.items.at(r.item).id;
    const std::string& condition = spec.conditions.at(r.condition).name;
    if (format == PerTokenFormat::kCsv) {
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(model), csv_field(id),
                         csv_field(condition), r.word_index, csv_field(w.word), w.char_span.begin, w.char_span.end,
                         w.byte_span.begin, w.byte_span.end, w.token_span.begin, w.token_span.end, w.unit_span.begin,
                         r.measured_begin + w.unit_span.begin, finite_number(w.unit_entropy_bits, label),
                         finite_number(w.surprisal_bits, label), finite_number(w.surprisal_bow_bits, label),
                         finite_number(w.surprisal_bow_wordsprobability_bits, label),
                         finite_number(w.surprisal_bow_minicons_bits, label),
                         finite_number(w.first_subword_entropy_bits, label), w.boundary_inside_token ? "TRUE" : "FALSE");
    } else {
      nlohmann::ordered_json row = {{"model", model},
                                    {"item_id", id},
                                    {"condition", condition},
                                    {"word_index", r.word_index},
                                    {"word", w.word},
                                    {"char_start", w.char_span.begin},
                                    {"char_end", w.char_span.end},
                                    {"byte_start", w.byte_span.begin},
                                    {"byte_end", w.byte_span.end},
                                    {"token_start", w.token_span.begin},
                                    {"token_end", w.token_span.end},
                                    {"unit_token_start", w.unit_span.begin},
                                    {"position", r.measured_begin + w.unit_span.begin},
                                    {"entropy_bits", w.unit_entropy_bits},
                                    {"surprisal_bits", w.surprisal_bits},
                                    {"surprisal_bow_bits", w.surprisal_bow_bits},
                                    {"surprisal_bow_wordsprobability_bits", w.surprisal_bow_wordsprobability_bits},
                                    {"surprisal_bow_minicons_bits", w.surprisal_bow_minicons_bits},
                                    {"first_subword_entropy_bits", w.first_subword_entropy_bits},
                                    {"boundary_inside_token", w.boundary_inside_token}};
      require_finite(row, label);
      out += row.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    }
  }
  write_file_atomic(path, out);
}

std::string items_csv(const ExperimentSpec& spec, const ModelResult& result) {
  const std::string label = items_file_name(result.model.name);
  std::string out = "model,item,condition,measure,value,n_units\n";
  const std::string model = csv_field(result.model.name);
  for (const ItemScores& item : result.items) {
    const std::string id = csv_field(item.id);
    for (std::size_t c = 0; c < item.conditions.size(); ++c) {
      const ItemConditionScores& v = item.conditions[c];
      const std::string condition = csv_field(spec.conditions.at(c).name);
      for (Measure m : kMeasures) {
        out += fmt::format("{},{},{},{},{},{}\n", model, id, condition, measure_key(m),
                           finite_number(v.mean_bits[index_of(m)], label), v.n_tokens);
      }
    }
  }
  return out;
}

}  // namespace entroscope::experiment
