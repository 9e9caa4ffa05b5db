// Experiments with `unit: word`: the per-word values of a condition "<|endoftext|> + {target}" are
// exactly `entroscope score --unit word` on the target (same rows, same bits), the per-item values
// are the means over those words, and the long tables (items_<model>.csv, scaling_summary_long.csv)
// hold the numbers of the results file and scaling_summary.json.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "common/temp_dir.h"
#include "experiment/spec_parser.h"
#include "experiment/text_scoring.h"
#include "experiment/word_units.h"
#include "experiment_test_support.h"

namespace entroscope::experiment {
namespace {

namespace fs = std::filesystem;
using experiment_test::files_starting_with;
using experiment_test::kDemoItems;
using experiment_test::kModelsDir;

constexpr std::size_t kItems = 24;

std::vector<nlohmann::json> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

std::vector<std::vector<std::string>> read_plain_csv(const fs::path& path) {  // no quoted cells expected
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

std::map<std::string, std::size_t> header_index(const std::vector<std::string>& header) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < header.size(); ++i) index[header[i]] = i;
  return index;
}

struct WordRun {
  test_util::TempDir dir;
  ExperimentOutcome outcome;
  fs::path out() const { return dir / "out"; }
};

const WordRun& word_run() {
  static WordRun* run = [] {
    auto* r = new WordRun;
    experiment_test::write_two_model_experiment(r->dir.path(), kItems, "unit: word\nper_token: jsonl\n");
    r->outcome = experiment_test::run_quietly(r->dir / "exp.yaml", r->out());
    return r;
  }();
  return *run;
}

TEST(WordExperiment, NoContextWordsEqualScoreUnitWordBitForBit) {
  const WordRun& run = word_run();
  ASSERT_EQ(run.outcome.failed_count(), 0u);
  std::vector<nlohmann::json> items;
  for (const nlohmann::json& item : read_jsonl(kDemoItems)) {
    if (items.size() < kItems) items.push_back(item);
  }
  for (const char* name : {"demo-gpt2-s", "demo-neox-m"}) {
    const auto files = files_starting_with(run.out(), std::string("per_word_") + name + "_");
    ASSERT_EQ(files.size(), 1u) << name;
    std::map<std::string, std::vector<nlohmann::json>> rows_by_item;
    for (const nlohmann::json& row : read_jsonl(files[0])) {
      EXPECT_EQ(row["model"], name);
      if (row["condition"] == "no_context") rows_by_item[row["item_id"]].push_back(row);
    }
    const fs::path dir = kModelsDir / name;
    const model::Model m = model::load_model(dir, name);
    const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(dir);
    metrics::Scorer scorer(m);
    const WordTokenClasses classes = word_token_classes(tok, m.config.vocab_size, resolve_eos(m, tok));
    scorer.set_token_classes(classes.masks, kWordClassCount);
    const std::int32_t bos = *tok.token_to_id("<|endoftext|>");
    std::size_t compared = 0;
    for (const nlohmann::json& item : items) {
      const std::string target = item["target"];
      const TextScores s = score_text(scorer, tok, target, bos, true);
      const TextWords tw = measure_words(target, s.ids, s.byte_spans, classes, s.rows);
      const auto& rows = rows_by_item[item["id"]];
      ASSERT_EQ(rows.size(), tw.words.size()) << name << " " << item["id"];
      for (std::size_t k = 0; k < rows.size(); ++k) {
        const WordMeasures& w = tw.words[k];
        const nlohmann::json& row = rows[k];
        EXPECT_EQ(row["word_index"], k);
        EXPECT_EQ(row["word"], w.word);
        EXPECT_EQ(row["char_start"], w.char_span.begin);
        EXPECT_EQ(row["token_end"], w.token_span.end);
        EXPECT_EQ(row["position"], 1 + w.unit_span.begin);  // after the <|endoftext|> segment
        // Exact: the same rows of the same forward (batching never changes a bit).
        EXPECT_EQ(row["entropy_bits"].get<double>(), w.unit_entropy_bits);
        EXPECT_EQ(row["surprisal_bits"].get<double>(), w.surprisal_bits);
        EXPECT_EQ(row["surprisal_bow_bits"].get<double>(), w.surprisal_bow_bits);
        EXPECT_EQ(row["surprisal_bow_wordsprobability_bits"].get<double>(), w.surprisal_bow_wordsprobability_bits);
        EXPECT_EQ(row["surprisal_bow_minicons_bits"].get<double>(), w.surprisal_bow_minicons_bits);
        EXPECT_EQ(row["first_subword_entropy_bits"].get<double>(), w.first_subword_entropy_bits);
        ++compared;
      }
    }
    EXPECT_GT(compared, 100u) << name;
  }
}

TEST(WordExperiment, ItemValuesAreMeansOverWordsAndTheLongTablesHoldTheSameNumbers) {
  const WordRun& run = word_run();
  ASSERT_EQ(run.outcome.failed_count(), 0u);
  const ModelOutcome& o = run.outcome.models.at(0);
  ASSERT_TRUE(o.result);
  const ModelResult& r = *o.result;

  // Per-word rows -> per-item means of first_subword_entropy_bits and surprisal_bow_bits.
  std::map<std::pair<std::string, std::string>, std::vector<double>> h, s;
  for (const nlohmann::json& row : read_jsonl(run.out() / r.per_token_file)) {
    const auto key = std::make_pair(row["item_id"].get<std::string>(), row["condition"].get<std::string>());
    h[key].push_back(row["first_subword_entropy_bits"]);
    s[key].push_back(row["surprisal_bow_bits"]);
  }
  ASSERT_EQ(r.items.size(), kItems);
  const auto rows = read_plain_csv(run.out() / ("items_" + o.name + ".csv"));
  ASSERT_EQ(rows.at(0), (std::vector<std::string>{"model", "item", "condition", "measure", "value", "n_units"}));
  ASSERT_EQ(rows.size(), 1 + kItems * 2 * 2);
  std::size_t line = 1;
  for (const ItemScores& item : r.items) {
    for (std::size_t c = 0; c < 2; ++c) {
      const std::string condition = c == 0 ? "with_context" : "no_context";
      const auto key = std::make_pair(item.id, condition);
      double sum_h = 0, sum_s = 0;
      for (double v : h[key]) sum_h += v;
      for (double v : s[key]) sum_s += v;
      const double n = static_cast<double>(h[key].size());
      EXPECT_EQ(item.conditions[c].n_tokens, h[key].size());
      EXPECT_EQ(item.conditions[c].mean_bits[index_of(Measure::kEntropy)], sum_h / n) << item.id;
      EXPECT_EQ(item.conditions[c].mean_bits[index_of(Measure::kSurprisal)], sum_s / n) << item.id;
      for (Measure m : kMeasures) {
        const auto& cells = rows.at(line++);
        EXPECT_EQ(cells, (std::vector<std::string>{o.name, item.id, condition, std::string(measure_key(m)),
                                                   fmt::format("{}", item.conditions[c].mean_bits[index_of(m)]),
                                                   std::to_string(h[key].size())}));
      }
    }
  }

  // scaling_summary_long.csv: the numbers of scaling_summary.json, one row per value.
  std::ifstream json_in(run.out() / "scaling_summary.json");
  const nlohmann::json summary = nlohmann::json::parse(json_in);
  const auto long_rows = read_plain_csv(run.out() / "scaling_summary_long.csv");
  const auto col = header_index(long_rows.at(0));
  for (const char* c : {"model", "unit", "kind", "name", "measure", "estimate", "ci_low", "ci_high", "token_weighted",
                        "p_value", "n_units"})
    ASSERT_TRUE(col.count(c)) << c;
  // 2 models x (2 conditions x (entropy, surprisal, perplexity) + 1 contrast x 2 measures)
  ASSERT_EQ(long_rows.size(), 1u + 2 * (6 + 2));
  std::size_t checked = 0;
  for (std::size_t i = 1; i < long_rows.size(); ++i) {
    const auto& cells = long_rows[i];
    EXPECT_EQ(cells.at(col.at("unit")), "word");
    const nlohmann::json* model = nullptr;
    for (const auto& mj : summary["models"])
      if (mj["model"] == cells.at(col.at("model"))) model = &mj;
    ASSERT_NE(model, nullptr);
    const std::string name = cells.at(col.at("name")), measure = cells.at(col.at("measure"));
    if (cells.at(col.at("kind")) == "condition") {
      const nlohmann::json& cj = (*model)["conditions"][name];
      if (measure == "perplexity") {
        EXPECT_EQ(cells.at(col.at("estimate")), fmt::format("{}", cj["perplexity"].get<double>()));
      } else {
        EXPECT_EQ(cells.at(col.at("estimate")), fmt::format("{}", cj[measure]["mean"].get<double>()));
        EXPECT_EQ(cells.at(col.at("ci_low")), fmt::format("{}", cj[measure]["ci_low"].get<double>()));
      }
      EXPECT_EQ(cells.at(col.at("n_units")), std::to_string(cj["n_tokens"].get<std::size_t>()));
    } else {
      EXPECT_EQ(cells.at(col.at("kind")), "contrast");
      const nlohmann::json& dj = (*model)["contrasts"][name][measure];
      EXPECT_EQ(cells.at(col.at("estimate")), fmt::format("{}", dj["delta"].get<double>()));
      EXPECT_EQ(cells.at(col.at("ci_high")), fmt::format("{}", dj["ci_high"].get<double>()));
      EXPECT_EQ(cells.at(col.at("p_value")), fmt::format("{}", dj["p_value"].get<double>()));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 16u);
}

TEST(WordExperiment, SpecRulesAndErrors) {
  const std::string base = R"(models: [demo-gpt2-s]
data: items.jsonl
conditions:
  a: ["<|endoftext|>", {text: "{target}", measure: true}]
)";
  const ExperimentSpec token = parse_experiment_text(base, "t.yaml");
  const ExperimentSpec word = parse_experiment_text(base + "unit: word\n", "w.yaml");
  EXPECT_EQ(token.unit, Unit::kToken);
  EXPECT_EQ(word.unit, Unit::kWord);
  // Word units change the numbers, so the resume key; token units keep earlier keys.
  EXPECT_FALSE(token.canonical().contains("unit"));
  EXPECT_EQ(word.canonical()["unit"], "word");
  try {
    parse_experiment_text(base + "unit: words\n", "w.yaml");
    FAIL() << "accepted unit: words";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("w.yaml:5:7: unit must be token or word, got 'words'"), std::string::npos)
        << e.what();
  }
  try {
    parse_experiment_text(R"(models: [demo-gpt2-s]
data: items.jsonl
unit: word
conditions:
  a: ["{target}", {special: "<|endoftext|>", measure: true}]
)", "s.yaml");
    FAIL() << "accepted a special measured segment with word units";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the measured segment must be text"), std::string::npos) << e.what();
  }
}

TEST(WordExperiment, AMeasuredSpanWithoutWordsNamesTheItem) {
  test_util::TempDir dir;
  test_util::write_file(dir / "items.jsonl", "{\"id\": \"ok\", \"target\": \" fine words\"}\n"
                                             "{\"id\": \"blank\", \"target\": \"  \"}\n");
  test_util::write_file(dir / "w.yaml", "models: [" + (kModelsDir / "demo-gpt2-s").string() + R"(]
data: items.jsonl
unit: word
conditions:
  a: ["<|endoftext|>", {text: "{target}", measure: true}]
statistics: {bootstrap: {samples: 100}}
)");
  const ExperimentOutcome o = experiment_test::run_quietly(dir / "w.yaml", dir / "out");
  ASSERT_EQ(o.failed_count(), 1u);
  EXPECT_NE(o.models[0].failure.find("items.jsonl:2: item 'blank': the measured span of condition 'a' has no words"),
            std::string::npos)
      << o.models[0].failure;
  EXPECT_TRUE(files_starting_with(dir / "out", "experiment_results_").empty());
}

}  // namespace
}  // namespace entroscope::experiment
