#pragma once
// scaling_<contrast>.svg: the contrast's delta per model, with its interval as an error bar,
// against parameters on a log axis; one panel per reported measure (entropy, surprisal), one
// series (colour and marker) per family, every point labelled with its model, and the per-family
// least-squares line dashed. Plain SVG 1.1 with no scripts or external fonts, so it renders the
// same in browsers, rsvg-convert and Inkscape.
#include <string>
#include <vector>

#include "experiment/model_outcome.h"
#include "experiment/scaling_fit.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

std::string scaling_plot_svg(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                             const std::vector<SlopeFit>& fits, std::size_t contrast);

// Axis ticks, exposed for tests. Linear: multiples of a 1/2/2.5/5 x 10^k step covering [lo, hi].
std::vector<double> linear_ticks(double lo, double hi, int target_count);
// Log10 axis over [lo, hi] (in decades): labelled tick positions (log10 values).
std::vector<double> log_ticks(double lo, double hi, bool minor);

}  // namespace entroscope::experiment
