#include "experiment/paired_test.h"

#include <algorithm>
#include <cmath>

#include "experiment/rng.h"
#include "experiment/student_t.h"

namespace entroscope::experiment {

namespace {

TestResult paired_t(const std::vector<double>& d) {
  const double n = static_cast<double>(d.size());
  double mean = 0;
  for (double v : d) mean += v;
  mean /= n;
  double ss = 0;
  for (double v : d) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / (n - 1));
  TestResult r;
  r.name = "paired_t";
  r.df = n - 1;
  if (sd == 0.0) {  // all differences equal: t is undefined (0/0) or infinite
    r.p_value = mean == 0.0 ? 1.0 : 0.0;
    return r;
  }
  const double t = mean / (sd / std::sqrt(n));
  r.statistic = t;
  r.p_value = student_t_two_sided_p(t, n - 1);
  return r;
}

TestResult sign_flip(const std::vector<double>& d, int permutations, std::uint64_t seed) {
  const std::size_t n = d.size();
  double observed = 0;
  for (double v : d) observed += v;
  TestResult r;
  r.name = "sign_flip";
  r.statistic = observed / static_cast<double>(n);
  // Sums equal to the observed one up to rounding count as "at least as extreme".
  double scale = 0;
  for (double v : d) scale += std::fabs(v);
  const double threshold = std::fabs(observed) - 1e-12 * scale;
  std::int64_t extreme = 0;
  if (n < 63 && (std::uint64_t{1} << n) <= static_cast<std::uint64_t>(permutations)) {
    const std::uint64_t patterns = std::uint64_t{1} << n;
    for (std::uint64_t mask = 0; mask < patterns; ++mask) {
      double s = 0;
      for (std::size_t i = 0; i < n; ++i) s += (mask >> i & 1) ? -d[i] : d[i];
      if (std::fabs(s) >= threshold) ++extreme;
    }
    r.exact = true;
    r.permutations = static_cast<std::int64_t>(patterns);
    r.p_value = static_cast<double>(extreme) / static_cast<double>(patterns);
    return r;
  }
  Rng rng(seed);
  for (int k = 0; k < permutations; ++k) {
    double s = 0;
    for (std::size_t i = 0; i < n; i += 64) {
      const std::uint64_t bits = rng.next();
      for (std::size_t j = i; j < std::min(n, i + 64); ++j) s += (bits >> (j - i) & 1) ? -d[j] : d[j];
    }
    if (std::fabs(s) >= threshold) ++extreme;
  }
  r.permutations = permutations;
  r.p_value = static_cast<double>(extreme + 1) / static_cast<double>(permutations + 1);
  return r;
}

}  // namespace

std::optional<TestResult> paired_test(const std::vector<double>& differences, const TestSettings& settings,
                                      std::uint64_t seed) {
  if (settings.kind == PairedTestKind::kNone || differences.size() < 2) return std::nullopt;
  if (settings.kind == PairedTestKind::kPairedT) return paired_t(differences);
  return sign_flip(differences, settings.permutations, seed);
}

}  // namespace entroscope::experiment
