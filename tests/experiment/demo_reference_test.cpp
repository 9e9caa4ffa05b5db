// examples/demo.yaml reproduces models/demo-experiment/reference_results.json (numpy float64
// forward): per-condition means and deltas (item- and token-weighted) within 0.005 bits, bootstrap
// intervals within 0.01 bits (different random streams, 10000 resamples each), per-item values
// within 1e-4 bits; and the run writes every promised file, with no non-finite number anywhere.
#include <gtest/gtest.h>

#include <cmath>

#include "common/json_file.h"
#include "common/temp_dir.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment;
using namespace entroscope::experiment_test;

namespace {

const ModelResult& result_for(const std::string& name) {
  for (const auto& m : demo_run().outcome.models)
    if (m.name == name && m.result) return *m.result;
  throw std::runtime_error("no result for " + name);
}

// Every number in a JSON document is finite (nlohmann keeps NaN as a float until it dumps).
bool all_finite(const nlohmann::json& j) {
  if (j.is_number_float()) return std::isfinite(j.get<double>());
  if (j.is_structured())
    for (const auto& v : j)
      if (!all_finite(v)) return false;
  return true;
}

}  // namespace

class DemoReference : public ::testing::TestWithParam<std::string> {};

TEST_P(DemoReference, MatchesFloat64Reference) {
  const nlohmann::json ref =
      read_json_file(kModelsDir / "demo-experiment" / "reference_results.json").at("models").at(GetParam());
  const ModelResult& r = result_for(GetParam());
  const ModelSummary& s = r.summary;
  constexpr double kMeanTol = 0.005, kCiTol = 0.01;
  constexpr auto H = static_cast<std::size_t>(Measure::kEntropy), S = static_cast<std::size_t>(Measure::kSurprisal);

  ASSERT_EQ(s.conditions.size(), 2u);
  EXPECT_EQ(s.n_items, ref.at("n_items").get<std::size_t>());
  for (const ConditionSummary& c : s.conditions) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.n_tokens, ref.at("n_target_tokens").get<std::size_t>());
    EXPECT_NEAR(c.item_weighted[H].mean, ref.at("mean_entropy_bits_item_weighted").at(c.name).get<double>(), kMeanTol);
    EXPECT_NEAR(c.token_weighted[H], ref.at("mean_entropy_bits_token_weighted").at(c.name).get<double>(), kMeanTol);
    EXPECT_NEAR(c.item_weighted[S].mean, ref.at("mean_surprisal_bits_item_weighted").at(c.name).get<double>(),
                kMeanTol);
  }
  const ContrastSummary& k = s.contrasts.at(0);
  EXPECT_EQ(k.name, "with_context - no_context");
  const DifferenceSummary& dh = k.measures[H];
  const DifferenceSummary& ds = k.measures[S];
  EXPECT_NEAR(dh.item_weighted.mean, ref.at("delta_entropy_bits_item_weighted").get<double>(), kMeanTol);
  EXPECT_NEAR(dh.token_weighted, ref.at("delta_entropy_bits_token_weighted").get<double>(), kMeanTol);
  EXPECT_NEAR(ds.item_weighted.mean, ref.at("delta_surprisal_bits_item_weighted").get<double>(), kMeanTol);
  EXPECT_NEAR(dh.item_weighted.ci.low, ref.at("delta_entropy_ci95")[0].get<double>(), kCiTol);
  EXPECT_NEAR(dh.item_weighted.ci.high, ref.at("delta_entropy_ci95")[1].get<double>(), kCiTol);
  EXPECT_NEAR(ds.item_weighted.ci.low, ref.at("delta_surprisal_ci95")[0].get<double>(), kCiTol);
  EXPECT_NEAR(ds.item_weighted.ci.high, ref.at("delta_surprisal_ci95")[1].get<double>(), kCiTol);
  EXPECT_EQ(dh.n_negative, ref.at("items_with_negative_delta_entropy").get<int>());

  // Per item: same ids in the same order, same token counts, values to fp32 accuracy.
  const auto& per_item = ref.at("per_item");
  ASSERT_EQ(r.items.size(), per_item.size());
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    const auto& ri = per_item[i];
    const ItemScores& item = r.items[i];
    ASSERT_EQ(item.id, ri.at("id").get<std::string>());
    EXPECT_EQ(item.conditions[0].n_tokens, ri.at("n_target_tokens").get<std::size_t>());
    EXPECT_EQ(item.conditions[0].n_preceding_tokens, ri.at("n_context_tokens").get<std::size_t>());
    EXPECT_EQ(item.conditions[1].n_preceding_tokens, 1u);  // <|endoftext|>
    EXPECT_NEAR(item.conditions[0].mean_bits[H], ri.at("entropy_with_context").get<double>(), 1e-4) << item.id;
    EXPECT_NEAR(item.conditions[1].mean_bits[H], ri.at("entropy_no_context").get<double>(), 1e-4) << item.id;
    EXPECT_NEAR(item.conditions[0].mean_bits[S], ri.at("surprisal_with_context").get<double>(), 1e-4) << item.id;
    EXPECT_NEAR(item.conditions[1].mean_bits[S], ri.at("surprisal_no_context").get<double>(), 1e-4) << item.id;
  }
}

INSTANTIATE_TEST_SUITE_P(DemoModels, DemoReference,
                         ::testing::Values("demo-gpt2-s", "demo-gpt2-m", "demo-gpt2-l", "demo-neox-m"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(DemoRun, WritesEveryOutputWithProvenanceAndNoNonFiniteNumber) {
  const DemoRun& run = demo_run();
  ASSERT_EQ(run.outcome.failed_count(), 0u);
  for (const ModelOutcome& m : run.outcome.models) {
    SCOPED_TRACE(m.name);
    const fs::path results = run.out_dir / m.results_file;
    ASSERT_TRUE(fs::exists(results));
    EXPECT_TRUE(fs::exists(run.out_dir / ("entropy_analysis_" + m.name + ".txt")));
    EXPECT_FALSE(files_starting_with(run.out_dir, "experiment_" + m.name + "_").empty());  // the log
    const nlohmann::json doc = read_json_file(results);
    EXPECT_TRUE(all_finite(doc));
    EXPECT_EQ(doc.at("status"), "complete");
    const auto& model = doc.at("model");
    EXPECT_EQ(model.at("weight_files")[0].at("file"), "model.safetensors");
    EXPECT_EQ(model.at("weight_files")[0].at("sha256").get<std::string>().size(), 64u);
    EXPECT_FALSE(model.at("tokenizer_files").empty());
    EXPECT_EQ(model.at("special_tokens").at("<|endoftext|>"), 2047);
    EXPECT_EQ(model.at("compute_dtype"), "float32");
    EXPECT_EQ(model.at("model_type"), model.at("config").at("model_type"));  // and the family for the plot
    EXPECT_EQ(model.at("family"), model.at("model_type") == "gpt2" ? "GPT-2" : "GPT-NeoX");
    EXPECT_TRUE(model.at("config").contains("vocab_size"));
    for (const char* key : {"entroscope_version", "git_hash", "threads", "seed", "started_utc", "finished_utc"})
      EXPECT_TRUE(doc.at("run").contains(key)) << key;
    EXPECT_EQ(doc.at("run").at("device"), "cpu");
    const std::string kernel = doc.at("run").value("gemm_kernel", "");
    EXPECT_TRUE(kernel == "avx512" || kernel == "avx2" || kernel == "portable") << kernel;
    EXPECT_NE(test_util::read_file(run.out_dir / ("entropy_analysis_" + m.name + ".txt")).find("GEMM kernel " + kernel),
              std::string::npos);
    EXPECT_EQ(doc.at("data").at("n_items"), 200);
  }
  const std::string analysis = test_util::read_file(run.out_dir / "entropy_analysis_demo-gpt2-s.txt");
  EXPECT_NE(analysis.find("with_context - no_context"), std::string::npos);
  EXPECT_NE(analysis.find("+0.078"), std::string::npos) << analysis;

  const std::string csv = test_util::read_file(run.out_dir / "scaling_summary.csv");
  EXPECT_EQ(csv.rfind("model,family,arch,status,params_total,params_non_embedding,n_items,", 0), 0u);
  EXPECT_NE(csv.find("with_context-no_context_delta_entropy_bits_ci_low"), std::string::npos);
  EXPECT_NE(csv.find("\ndemo-gpt2-s,GPT-2,gpt2,"), std::string::npos);
  EXPECT_NE(csv.find("\ndemo-neox-m,GPT-NeoX,gpt_neox,"), std::string::npos);
  EXPECT_EQ(csv.find("nan"), std::string::npos);

  const nlohmann::json summary = read_json_file(run.out_dir / "scaling_summary.json");
  EXPECT_TRUE(all_finite(summary));
  EXPECT_EQ(summary.at("models").size(), 4u);
  ASSERT_FALSE(summary.at("fits").empty());  // GPT-2 has three sizes; GPT-NeoX only one
  for (const auto& fit : summary.at("fits")) {
    EXPECT_EQ(fit.at("family"), "GPT-2");
    EXPECT_LE(fit.at("slope_ci_low").get<double>(), fit.at("slope_bits_per_decade").get<double>());
    EXPECT_GE(fit.at("slope_ci_high").get<double>(), fit.at("slope_bits_per_decade").get<double>());
  }
  const std::string svg = test_util::read_file(run.out_dir / "scaling_with_context-no_context.svg");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  for (const char* name : {"demo-gpt2-s", "demo-gpt2-m", "demo-gpt2-l", "demo-neox-m", "GPT-NeoX", "300K", "1M"})
    EXPECT_NE(svg.find(name), std::string::npos) << name;
}
