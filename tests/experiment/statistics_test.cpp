// The statistics: the bootstrap against cases with closed-form answers, the t distribution
// against its closed forms, the sign-flip test against full enumeration, the random number
// generator's contract, and the per-model summaries on hand-made values.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "experiment/bootstrap.h"
#include "experiment/model_summary.h"
#include "experiment/paired_test.h"
#include "experiment/rng.h"
#include "experiment/spec_parser.h"
#include "experiment/student_t.h"

using namespace entroscope::experiment;

TEST(Rng, DeterministicPerSeedAndUniform) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
  }
  EXPECT_TRUE(differs);

  Rng r(0);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[r.below(6)];
  for (int k : counts) EXPECT_NEAR(k, 10000, 450);  // ~4.9 standard deviations
  for (int i = 0; i < 1000; ++i) {
    const double u = r.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  EXPECT_EQ(r.below(1), 0u);
}

TEST(Bootstrap, PercentileInterpolatesLikeNumpy) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 1.0), 4.0);
}

// Ten ones and ten zeros: a resampled mean is Binomial(20, 1/2) / 20. Its 2.5% and 97.5% quantiles
// are 6/20 and 14/20 (P(X<=5) = 0.021 < 0.025 < P(X<=6) = 0.058; P(X<=13) = 0.942 < 0.975 <
// P(X<=14) = 0.979), far enough from the cut that 10000 resamples land on them exactly.
TEST(Bootstrap, BinaryItemsGiveTheBinomialQuantiles) {
  std::vector<double> values(20, 0.0);
  std::fill(values.begin(), values.begin() + 10, 1.0);
  const PairedBootstrap bootstrap(values.size(), {10000, 0, 0.95});
  const auto means = bootstrap.resample_means({&values});
  const Interval ci = bootstrap.interval(means[0]);
  EXPECT_DOUBLE_EQ(ci.low, 0.30);
  EXPECT_DOUBLE_EQ(ci.high, 0.70);
}

// Progress reports along the way change nothing in the resamples.
TEST(Bootstrap, ProgressIsReportedWithoutChangingTheResamples) {
  std::vector<double> values{1, 4, 2, 8, 5, 7};
  const PairedBootstrap bootstrap(values.size(), {1000, 9, 0.95});
  std::vector<std::size_t> reports;
  const auto with = bootstrap.resample_means({&values}, [&](std::size_t done) { reports.push_back(done); });
  EXPECT_EQ(with, bootstrap.resample_means({&values}));
  ASSERT_FALSE(reports.empty());
  EXPECT_LE(reports.size(), 200u);
  EXPECT_EQ(reports.back(), 1000u);
  EXPECT_TRUE(std::is_sorted(reports.begin(), reports.end()));
}

// The bootstrap distribution of a mean has the sample mean as its centre and sqrt(plug-in
// variance / n) as its spread.
TEST(Bootstrap, SpreadMatchesThePlugInStandardError) {
  std::vector<double> values(10);
  std::iota(values.begin(), values.end(), 1.0);  // mean 5.5, plug-in variance 8.25
  const PairedBootstrap bootstrap(values.size(), {20000, 3, 0.95});
  const auto means = bootstrap.resample_means({&values})[0];
  const double m = mean_of(means);
  double ss = 0;
  for (double x : means) ss += (x - m) * (x - m);
  const double sd = std::sqrt(ss / static_cast<double>(means.size() - 1));
  const double expected_sd = std::sqrt(8.25 / 10.0);
  EXPECT_NEAR(m, 5.5, 4 * expected_sd / std::sqrt(20000.0));
  EXPECT_NEAR(sd, expected_sd, 0.03 * expected_sd);
  // A constant series has a degenerate interval.
  const std::vector<double> constant(10, 2.5);
  const Interval ci = bootstrap.interval(bootstrap.resample_means({&constant})[0]);
  EXPECT_DOUBLE_EQ(ci.low, 2.5);
  EXPECT_DOUBLE_EQ(ci.high, 2.5);
}

TEST(Bootstrap, SeriesArePairedAndResamplingIsReproducible) {
  const std::vector<double> a = {1.0, 4.0, 2.0, 8.0, 5.0}, b = {0.5, 3.0, 2.5, 6.0, 1.0};
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  const PairedBootstrap bootstrap(a.size(), {500, 11, 0.9});
  const auto m = bootstrap.resample_means({&a, &b, &d});
  for (std::size_t k = 0; k < 500; ++k) EXPECT_NEAR(m[0][k] - m[1][k], m[2][k], 1e-12);
  // The indices of a resample do not depend on which series are passed.
  EXPECT_EQ(bootstrap.resample_means({&d})[0], m[2]);
  const PairedBootstrap other_seed(a.size(), {500, 12, 0.9});
  EXPECT_NE(other_seed.resample_means({&d})[0], m[2]);
}

TEST(StudentT, ClosedForms) {
  // df = 1 (Cauchy): P(|T| >= t) = 1 - 2 atan(t) / pi.
  for (double t : {0.1, 1.0, 3.0, 40.0}) EXPECT_NEAR(student_t_two_sided_p(t, 1), 1 - 2 * std::atan(t) / M_PI, 1e-12);
  // df = 2: P(|T| >= t) = 1 - t / sqrt(t^2 + 2).
  for (double t : {0.5, 2.0, 10.0}) EXPECT_NEAR(student_t_two_sided_p(t, 2), 1 - t / std::sqrt(t * t + 2), 1e-12);
  // Large df approaches the normal distribution.
  EXPECT_NEAR(student_t_two_sided_p(1.959963984540054, 1e7), 0.05, 1e-6);
  EXPECT_DOUBLE_EQ(student_t_two_sided_p(0.0, 5), 1.0);
  EXPECT_NEAR(student_t_two_sided_p(-2.0, 2), student_t_two_sided_p(2.0, 2), 1e-15);
  // I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b.
  EXPECT_NEAR(regularized_incomplete_beta(0.3, 2.5, 1.0), std::pow(0.3, 2.5), 1e-13);
  EXPECT_NEAR(regularized_incomplete_beta(0.8, 1.0, 3.5), 1 - std::pow(0.2, 3.5), 1e-13);
}

TEST(PairedTest, TTestOnKnownData) {
  // d = 1..5: mean 3, sd sqrt(2.5), t = 3 / (sqrt(2.5) / sqrt(5)) = sqrt(18), df 4.
  const auto r = paired_test({1, 2, 3, 4, 5}, {PairedTestKind::kPairedT, 0}, 0);
  ASSERT_TRUE(r && r->statistic && r->df);
  EXPECT_NEAR(*r->statistic, std::sqrt(18.0), 1e-12);
  EXPECT_EQ(*r->df, 4.0);
  EXPECT_NEAR(r->p_value, student_t_two_sided_p(std::sqrt(18.0), 4), 1e-15);
  EXPECT_GT(r->p_value, 0.01);
  EXPECT_LT(r->p_value, 0.02);
  // Identical differences: t is undefined; p is 0 (all the same non-zero value) or 1 (all zero).
  const auto same = paired_test({0.5, 0.5, 0.5}, {PairedTestKind::kPairedT, 0}, 0);
  EXPECT_FALSE(same->statistic.has_value());
  EXPECT_EQ(same->p_value, 0.0);
  EXPECT_EQ(paired_test({0, 0}, {PairedTestKind::kPairedT, 0}, 0)->p_value, 1.0);
  EXPECT_FALSE(paired_test({1.0}, {PairedTestKind::kPairedT, 0}, 0).has_value());
  EXPECT_FALSE(paired_test({1.0, 2.0}, {PairedTestKind::kNone, 0}, 0).has_value());
}

TEST(PairedTest, SignFlipEnumeratesSmallSamples) {
  // Signs of {1, 2, 3}: |sum| is 6 for 2 of the 8 patterns.
  const auto r = paired_test({1, 2, 3}, {PairedTestKind::kSignFlip, 10000}, 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->exact);
  EXPECT_EQ(r->permutations, 8);
  EXPECT_DOUBLE_EQ(r->p_value, 0.25);
  // Large samples: random patterns with the +1 correction.
  std::vector<double> shifted(40), centred(40);
  for (int i = 0; i < 40; ++i) {
    shifted[i] = 1.0 + 0.1 * (i % 7);
    centred[i] = (i % 2 ? 1.0 : -1.0) * (1 + i / 2);
  }
  const auto s = paired_test(shifted, {PairedTestKind::kSignFlip, 2000}, 5);
  EXPECT_FALSE(s->exact);
  EXPECT_DOUBLE_EQ(s->p_value, 1.0 / 2001.0);
  EXPECT_DOUBLE_EQ(paired_test(centred, {PairedTestKind::kSignFlip, 2000}, 5)->p_value, 1.0);
}

TEST(ModelSummary, WeightsAndContrastsOnHandMadeValues) {
  const ExperimentSpec spec = parse_experiment_text(R"(models: [m]
data: d.jsonl
conditions:
  a: ["x", {text: "{t}", measure: true}]
  b: ["<|endoftext|>", {text: "{t}", measure: true}]
contrasts: [a - b]
statistics: {bootstrap: {samples: 1000}}
)",
                                                    "/x/e.yaml");
  // Item 1: 1 token; item 2: 3 tokens. Means in bits [entropy, surprisal].
  std::vector<ItemScores> items(2);
  items[0] = {"i1", 1, {{1, 0, 1, {2.0, 3.0}}, {1, 0, 1, {1.0, 4.0}}}};
  items[1] = {"i2", 2, {{3, 0, 1, {4.0, 5.0}}, {3, 0, 1, {4.0, 7.0}}}};
  const ModelSummary s = summarize(spec, items);
  ASSERT_EQ(s.conditions.size(), 2u);
  const ConditionSummary& a = s.conditions[0];
  EXPECT_EQ(a.n_tokens, 4u);
  EXPECT_DOUBLE_EQ(a.item_weighted[0].mean, 3.0);         // (2 + 4) / 2
  EXPECT_DOUBLE_EQ(a.token_weighted[0], (2.0 + 12.0) / 4);  // 3.5
  EXPECT_DOUBLE_EQ(a.token_weighted[1], (3.0 + 15.0) / 4);  // 4.5
  EXPECT_DOUBLE_EQ(a.perplexity, std::exp2(4.5));
  EXPECT_GE(a.item_weighted[0].mean, a.item_weighted[0].ci.low);
  EXPECT_LE(a.item_weighted[0].mean, a.item_weighted[0].ci.high);
  const DifferenceSummary& dh = s.contrasts[0].measures[0];
  EXPECT_DOUBLE_EQ(dh.item_weighted.mean, 0.5);  // differences 1 and 0
  EXPECT_DOUBLE_EQ(dh.token_weighted, 3.5 - 3.25);
  EXPECT_EQ(dh.n_positive, 1);
  EXPECT_EQ(dh.n_zero, 1);
  EXPECT_EQ(dh.n_negative, 0);
  EXPECT_NEAR(*dh.sd_items, std::sqrt(0.5), 1e-15);
  const DifferenceSummary& ds = s.contrasts[0].measures[1];
  EXPECT_DOUBLE_EQ(ds.item_weighted.mean, -1.5);  // differences -1 and -2
  EXPECT_EQ(ds.n_negative, 2);
  // With two items the bootstrap can only produce -1, -1.5 and -2.
  EXPECT_GE(ds.item_weighted.ci.low, -2.0);
  EXPECT_LE(ds.item_weighted.ci.high, -1.0);
  EXPECT_EQ(s.contrasts[0].name, "a - b");
}
