#pragma once
// Tests of "the mean per-item difference is zero": the paired t-test, or a sign-flip
// randomization test (exact over all 2^n sign patterns when that is no more than the requested
// number of permutations, otherwise Monte Carlo with the usual +1 correction).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiment/spec.h"

namespace entroscope::experiment {

struct TestResult {
  std::string name;                 // "paired_t" / "sign_flip"
  std::optional<double> statistic;  // t (paired_t) or the mean difference (sign_flip); none when undefined
  std::optional<double> df;         // paired_t
  double p_value = 1.0;             // two-sided
  bool exact = false;               // sign_flip: all sign patterns enumerated
  std::int64_t permutations = 0;    // sign_flip: patterns evaluated
};

// nullopt for kind none, or when there are fewer than 2 differences.
std::optional<TestResult> paired_test(const std::vector<double>& differences, const TestSettings& settings,
                                      std::uint64_t seed);

}  // namespace entroscope::experiment
