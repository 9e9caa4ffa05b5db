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
#include "experiment/svg_plot.h"

namespace entroscope::experiment {

std::string scaling_plot_svg(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                             const std::vector<SlopeFit>& fits, std::size_t contrast);

// Its axes, colours and markers come from the shared plotting module (svg_plot.h).
using plot::linear_ticks;
using plot::log_ticks;

}  // namespace entroscope::experiment
