// A finished model is reused on a rerun (same spec, data, weights, tokenizer) and recomputed with
// --force or when anything that decides its numbers changes. A model whose forward produces a NaN
// is marked failed with the place, leaves no file with numbers, and does not stop the others.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "common/error.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "experiment/summary_table.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment;
using namespace entroscope::experiment_test;

namespace {

void write_small_experiment(const test_util::TempDir& dir, const std::string& models, const std::string& extra = "") {
  write_demo_items(dir / "items.jsonl", 6);
  test_util::write_file(dir / "exp.yaml", "models: " + models + R"(
data: items.jsonl
conditions:
  with_context: ["{context}", {text: "{target}", measure: true}]
  no_context: ["<|endoftext|>", {text: "{target}", measure: true}]
contrasts: [with_context - no_context]
per_token: csv
statistics: {bootstrap: {samples: 500}}
)" + extra);
}

const std::string kGpt2S = "[" + (kModelsDir / "demo-gpt2-s").string() + "]";

}  // namespace

TEST(Resume, FinishedModelIsReusedUntilItsInputsChange) {
  test_util::TempDir dir;
  write_small_experiment(dir, kGpt2S);
  const fs::path out = dir / "out";

  const auto first = run_quietly(dir / "exp.yaml", out);
  ASSERT_EQ(first.models.size(), 1u);
  ASSERT_EQ(first.models[0].status, ModelStatus::kComputed) << first.models[0].failure;
  const std::string first_file = first.models[0].results_file;
  ASSERT_FALSE(first.models[0].result->per_token_file.empty());
  const std::string per_token = test_util::read_file(out / first.models[0].result->per_token_file);
  EXPECT_EQ(per_token.rfind("model,item_id,condition,token_index,position,token_id,token,entropy_bits,surprisal_bits\n", 0),
            0u);

  const auto second = run_quietly(dir / "exp.yaml", out);
  EXPECT_EQ(second.models[0].status, ModelStatus::kReused);
  EXPECT_EQ(second.models[0].results_file, first_file);
  EXPECT_EQ(second.models[0].result->items[3].conditions[1].mean_bits,
            first.models[0].result->items[3].conditions[1].mean_bits);
  EXPECT_EQ(files_starting_with(out, "experiment_results_").size(), 1u);

  const auto forced = run_quietly(dir / "exp.yaml", out, /*force=*/true);
  EXPECT_EQ(forced.models[0].status, ModelStatus::kComputed);
  // One current set of files per model: the earlier ones moved into previous/.
  EXPECT_EQ(files_starting_with(out, "experiment_results_").size(), 1u);
  EXPECT_EQ(files_starting_with(out, "per_token_").size(), 1u);
  EXPECT_EQ(files_starting_with(out, "experiment_demo").size(), 1u);  // the log
  EXPECT_EQ(files_starting_with(out / "previous", "experiment_results_").size(), 1u);
  // Recomputing gives the same numbers.
  EXPECT_EQ(forced.models[0].result->summary.contrasts[0].measures[0].item_weighted.mean,
            first.models[0].result->summary.contrasts[0].measures[0].item_weighted.mean);

  // A deleted per-token file means the run is not complete any more (the current and the earlier one).
  std::error_code ec;
  for (const auto& f : files_starting_with(out, "per_token_")) fs::remove(f, ec);
  for (const auto& f : files_starting_with(out / "previous", "per_token_")) fs::remove(f, ec);
  EXPECT_EQ(run_quietly(dir / "exp.yaml", out).models[0].status, ModelStatus::kComputed);

  // Changing a setting that decides the numbers (here the bootstrap seed) invalidates the result.
  write_small_experiment(dir, kGpt2S, "name: renamed\n");
  const auto renamed = run_quietly(dir / "exp.yaml", out);
  EXPECT_EQ(renamed.models[0].status, ModelStatus::kReused) << renamed.models[0].failure;  // a name decides nothing
  test_util::write_file(dir / "exp.yaml",
                        test_util::read_file(dir / "exp.yaml") + "window: {length: 64}\n");
  const auto windowed = run_quietly(dir / "exp.yaml", out);
  EXPECT_EQ(windowed.models[0].status, ModelStatus::kComputed);
  EXPECT_EQ(windowed.models[0].result->window.sequences_windowed, 6u);  // the 6 with_context sequences
  EXPECT_GT(windowed.models[0].result->items[0].conditions[0].windows, 1u);
  EXPECT_EQ(windowed.models[0].result->items[0].conditions[1].windows, 1u);  // <|endoftext|> + target fits
  // ... and so do the weights.
  test_util::copy_model_dir(kModelsDir / "demo-gpt2-s", dir / "model");
  write_small_experiment(dir, "[{model: model, name: demo-gpt2-s}]");
  EXPECT_EQ(run_quietly(dir / "exp.yaml", out).models[0].status, ModelStatus::kReused);  // same bytes, same key
  make_nan_model(dir / "nan-model");
  fs::copy_file(dir / "nan-model" / "model.safetensors", dir / "model" / "model.safetensors",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(run_quietly(dir / "exp.yaml", out).models[0].status, ModelStatus::kFailed);
}

TEST(NonFinite, NanModelFailsWithItsPlaceAndTheOthersStillRun) {
  test_util::TempDir dir;
  make_nan_model(dir / "broken");
  write_small_experiment(dir, "[{model: broken, name: broken-gpt2}, " + kGpt2S.substr(1));
  const fs::path out = dir / "out";
  const auto outcome = run_quietly(dir / "exp.yaml", out);
  ASSERT_EQ(outcome.models.size(), 2u);
  EXPECT_EQ(outcome.failed_count(), 1u);

  const ModelOutcome& broken = outcome.models[0];
  EXPECT_EQ(broken.status, ModelStatus::kFailed);
  EXPECT_FALSE(broken.result.has_value());
  // Sequences are packed in input order, so the first one to hit the NaN is the first item's first condition.
  for (const char* part : {"broken-gpt2: non-finite value (nan) in layer 0, step 'attn.qkv', channel 0, while scoring "
                           "item 'ts-heldout-000'",
                           "items.jsonl:1), condition 'with_context', token position 0 (token id 33, before the "
                           "measured span)"})
    EXPECT_NE(broken.failure.find(part), std::string::npos) << broken.failure;
  EXPECT_EQ(broken.failure.find('\n'), std::string::npos);
  // Nothing with numbers for the broken model: no results, no per-token values; the log says why.
  EXPECT_TRUE(files_starting_with(out, "experiment_results_broken-gpt2_").empty());
  EXPECT_TRUE(files_starting_with(out, "per_token_broken-gpt2_").empty());
  EXPECT_TRUE(files_starting_with(out, "entropy_analysis_broken-gpt2").empty());
  const auto logs = files_starting_with(out, "experiment_broken-gpt2_");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(test_util::read_file(logs[0]).find("FAILED: broken-gpt2: non-finite value"), std::string::npos);

  EXPECT_EQ(outcome.models[1].status, ModelStatus::kComputed);
  EXPECT_FALSE(files_starting_with(out, "experiment_results_demo-gpt2-s_").empty());

  const nlohmann::json summary = read_json_file(out / "scaling_summary.json");
  EXPECT_EQ(summary.at("models")[0].at("status"), "failed");
  EXPECT_NE(summary.at("models")[0].at("failure").get<std::string>().find("non-finite"), std::string::npos);
  EXPECT_FALSE(summary.at("models")[0].contains("contrasts"));
  const std::string csv = test_util::read_file(out / "scaling_summary.csv");
  EXPECT_NE(csv.find("\nbroken-gpt2,GPT-2,gpt2,failed,297536,150080,,,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("nan,"), std::string::npos);
  const std::string svg = test_util::read_file(out / "scaling_with_context-no_context.svg");
  EXPECT_NE(svg.find("Failed, not shown: broken-gpt2"), std::string::npos);

  // A rerun does not reuse a failure: the model is tried again (and fails again).
  EXPECT_EQ(run_quietly(dir / "exp.yaml", out).models[0].status, ModelStatus::kFailed);
}

TEST(PerToken, JsonlRowsAddUpToTheItemMeans) {
  test_util::TempDir dir;
  write_small_experiment(dir, kGpt2S);
  test_util::write_file(dir / "exp.yaml", test_util::read_file(dir / "exp.yaml") + "per_token: jsonl\n");
  // (per_token appears twice now; the parser must refuse that) ...
  EXPECT_THROW(run_quietly(dir / "exp.yaml", dir / "out"), Error);
  std::string yaml = test_util::read_file(dir / "exp.yaml");
  yaml.replace(yaml.find("per_token: csv\n"), 15, "");
  test_util::write_file(dir / "exp.yaml", yaml);
  const auto outcome = run_quietly(dir / "exp.yaml", dir / "out");
  ASSERT_EQ(outcome.models[0].status, ModelStatus::kComputed) << outcome.models[0].failure;
  const ModelResult& r = *outcome.models[0].result;
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> sums;  // (item, condition) -> sum, count
  std::istringstream rows(test_util::read_file(dir / "out" / r.per_token_file));
  std::string line;
  int n_rows = 0;
  while (std::getline(rows, line)) {
    const auto row = nlohmann::json::parse(line);
    auto& [sum, count] = sums[{row.at("item_id"), row.at("condition")}];
    sum += row.at("entropy_bits").get<double>();
    ++count;
    EXPECT_EQ(row.at("token_index").get<int>(), count - 1);
    ++n_rows;
  }
  EXPECT_EQ(n_rows, static_cast<int>(r.summary.conditions[0].n_tokens + r.summary.conditions[1].n_tokens));
  for (const ItemScores& item : r.items) {
    for (std::size_t c = 0; c < 2; ++c) {
      const auto& [sum, count] = sums.at({item.id, r.summary.conditions[c].name});
      EXPECT_EQ(static_cast<std::size_t>(count), item.conditions[c].n_tokens);
      EXPECT_NEAR(sum / count, item.conditions[c].mean_bits[0], 1e-12);
    }
  }
}

// With fewer than 10 items an interval is not read as a finding: the table says so, and the
// analysis never says "excludes 0" (6 items here; 1 item has no interval at all).
TEST(SmallSamples, IntervalsOverFewItemsAreFlagged) {
  test_util::TempDir dir;
  write_small_experiment(dir, kGpt2S);
  const auto outcome = run_quietly(dir / "exp.yaml", dir / "out");
  ASSERT_EQ(outcome.models[0].status, ModelStatus::kComputed) << outcome.models[0].failure;
  const std::string table = summary_table(outcome.spec, outcome.models, outcome.fits);
  EXPECT_NE(table.find("Note: with 6 items the intervals are not meaningful"), std::string::npos) << table;
  const std::string analysis = test_util::read_file(dir / "out" / "entropy_analysis_demo-gpt2-s.txt");
  EXPECT_NE(analysis.find("with only 6 items the 95% interval"), std::string::npos) << analysis;
  EXPECT_EQ(analysis.find("excludes 0"), std::string::npos) << analysis;
}

// Without contrasts the run table shows each condition's mean surprisal and perplexity too.
TEST(SummaryTable, WithoutContrastsShowsSurprisalAndPerplexity) {
  test_util::TempDir dir;
  write_demo_items(dir / "items.jsonl", 12);
  test_util::write_file(dir / "exp.yaml", "models: " + kGpt2S + R"(
data: items.jsonl
conditions:
  no_context: ["<|endoftext|>", {text: "{target}", measure: true}]
)");
  const auto outcome = run_quietly(dir / "exp.yaml", dir / "out");
  ASSERT_EQ(outcome.models[0].status, ModelStatus::kComputed) << outcome.models[0].failure;
  const std::string table = summary_table(outcome.spec, outcome.models, outcome.fits);
  EXPECT_NE(table.find("H no_context  S no_context  PPL no_context"), std::string::npos) << table;
  const double ppl = outcome.models[0].result->summary.conditions[0].perplexity;
  EXPECT_NE(table.find(fmt::format("{:.2f}", ppl)), std::string::npos) << table;
  EXPECT_EQ(table.find("Note: with"), std::string::npos);  // no intervals to warn about
}
