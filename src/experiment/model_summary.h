#pragma once
// Per-model summaries from per-item values: for each condition the item-weighted mean (the
// primary number: every item counts once) with its bootstrap CI, the token-weighted mean and the
// perplexity; for each contrast the mean per-item difference with its CI, the token-weighted
// difference, the spread and sign counts of the differences, and the paired test.
#include <array>
#include <optional>
#include <string>
#include <functional>
#include <vector>

#include "experiment/bootstrap.h"
#include "experiment/measures.h"
#include "experiment/paired_test.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

struct Estimate {
  double mean = 0;
  Interval ci;
};

struct ConditionSummary {
  std::string name;
  std::size_t n_tokens = 0;
  std::array<Estimate, kMeasureCount> item_weighted;
  std::array<double, kMeasureCount> token_weighted{};
  double perplexity = 0;  // 2^(token-weighted mean surprisal): the usual corpus perplexity
};

struct DifferenceSummary {
  Estimate item_weighted;          // mean over items of (plus - minus)
  double token_weighted = 0;       // token-weighted mean of plus minus that of minus
  std::optional<double> sd_items;  // standard deviation of the per-item differences (n >= 2)
  int n_negative = 0, n_zero = 0, n_positive = 0;
  std::optional<TestResult> test;
};

struct ContrastSummary {
  std::string name, plus, minus;
  std::array<DifferenceSummary, kMeasureCount> measures;
};

struct ModelSummary {
  std::size_t n_items = 0;
  std::vector<ConditionSummary> conditions;
  std::vector<ContrastSummary> contrasts;
};

// Per-item differences plus - minus of one measure.
std::vector<double> item_differences(const std::vector<ItemScores>& items, std::size_t plus, std::size_t minus,
                                     Measure m);
// Per-item means of one measure under one condition.
std::vector<double> item_means(const std::vector<ItemScores>& items, std::size_t condition, Measure m);

// on_progress: the bootstrap's resamples done so far (see PairedBootstrap::resample_means).
ModelSummary summarize(const ExperimentSpec& spec, const std::vector<ItemScores>& items,
                       const std::function<void(std::size_t)>& on_progress = {});

}  // namespace entroscope::experiment
