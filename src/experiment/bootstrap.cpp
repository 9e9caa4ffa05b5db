#include "experiment/bootstrap.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "experiment/rng.h"

namespace entroscope::experiment {

double percentile_of_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) fail("percentile of an empty sample");
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

PairedBootstrap::PairedBootstrap(std::size_t n_items, const BootstrapSettings& settings)
    : n_(n_items), settings_(settings) {
  if (n_ == 0) fail("bootstrap over zero items");
}

std::vector<std::vector<double>> PairedBootstrap::resample_means(
    const std::vector<const std::vector<double>*>& series, const std::function<void(std::size_t)>& on_progress) const {
  for (const auto* s : series)
    if (s->size() != n_) fail("internal error: bootstrap series has {} values for {} items", s->size(), n_);
  const auto samples = static_cast<std::size_t>(settings_.samples);
  std::vector<std::vector<double>> means(series.size(), std::vector<double>(samples));
  std::vector<double> sums(series.size());
  Rng rng(settings_.seed);
  for (std::size_t b = 0; b < samples; ++b) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t pick = rng.below(n_);
      for (std::size_t k = 0; k < series.size(); ++k) sums[k] += (*series[k])[pick];
    }
    for (std::size_t k = 0; k < series.size(); ++k) means[k][b] = sums[k] / static_cast<double>(n_);
    if (on_progress && (b + 1) % std::max<std::size_t>(1, samples / 200) == 0) on_progress(b + 1);
  }
  return means;
}

Interval PairedBootstrap::interval(std::vector<double> values) const {
  std::sort(values.begin(), values.end());
  const double tail = (1.0 - settings_.level) / 2.0;
  return {percentile_of_sorted(values, tail), percentile_of_sorted(values, 1.0 - tail)};
}

}  // namespace entroscope::experiment
