#pragma once
// How a contrast moves with model size: per family, the least-squares line
// delta = intercept + slope * log10(parameters) through the models' item-weighted deltas, and a
// percentile interval for the slope from the paired item bootstrap (every model's delta is
// recomputed on the same resampled items, then the line is refitted). The interval covers the
// uncertainty from the choice of items with the models held fixed; it says nothing about
// seed-to-seed variation between training runs.
#include <optional>
#include <string>
#include <vector>

#include "experiment/bootstrap.h"
#include "experiment/measures.h"
#include "experiment/model_result.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

struct LineFit {
  double slope = 0;      // bits per factor of 10 in parameters
  double intercept = 0;  // at 1 parameter (log10 = 0)
};

// Least squares through (x, y); nullopt when fewer than 2 distinct x.
std::optional<LineFit> fit_line(const std::vector<double>& x, const std::vector<double>& y);

struct SlopeFit {
  std::string family;
  std::size_t contrast = 0;  // index into spec.contrasts
  Measure measure = Measure::kEntropy;
  std::vector<std::string> models;
  LineFit line;
  std::optional<Interval> slope_ci;  // absent when the models do not share the same items
  std::string note;                  // why there is no interval
};

// One fit per family with at least two model sizes, per contrast and measure.
// `x` of a result: log10 of its parameters on the spec's scaling axis.
std::vector<SlopeFit> fit_scaling(const ExperimentSpec& spec, const std::vector<const ModelResult*>& results);

double scaling_x(const ExperimentSpec& spec, const ModelResult& r);  // log10(parameters on the axis)
long long axis_parameters(const ExperimentSpec& spec, const ModelResult& r);

}  // namespace entroscope::experiment
