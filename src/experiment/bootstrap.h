#pragma once
// Paired percentile bootstrap over items. One resample draws n item indices with replacement; every
// series (a condition's per-item means, a contrast's per-item differences, the same series for
// another model) is averaged over the same indices, which keeps the pairing between conditions
// and between models. The interval is the (1-level)/2 and (1+level)/2 percentiles of the resampled
// means, interpolated linearly between order statistics (numpy's default).
#include <cstddef>
#include <functional>
#include <vector>

#include "experiment/spec.h"

namespace entroscope::experiment {

struct Interval {
  double low = 0;
  double high = 0;
};

// q in [0, 1] of sorted values, linear interpolation between the closest ranks.
double percentile_of_sorted(const std::vector<double>& sorted, double q);

class PairedBootstrap {
 public:
  PairedBootstrap(std::size_t n_items, const BootstrapSettings& settings);

  // result[k][b] = mean of series k over resample b's indices. Every series must have n_items
  // values. Resample b draws the same indices whatever series are passed.
  // on_progress(resamples done), when given, is called about 200 times along the way.
  std::vector<std::vector<double>> resample_means(const std::vector<const std::vector<double>*>& series,
                                                  const std::function<void(std::size_t)>& on_progress = {}) const;

  // The percentile interval of resampled statistics (reorders `values`).
  Interval interval(std::vector<double> values) const;

  std::size_t n_items() const { return n_; }
  const BootstrapSettings& settings() const { return settings_; }

 private:
  std::size_t n_;
  BootstrapSettings settings_;
};

// Mean of values.
double mean_of(const std::vector<double>& values);

}  // namespace entroscope::experiment
