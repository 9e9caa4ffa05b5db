#pragma once
// The one-screen table printed at the end of `entroscope run`: per model its size, items and
// tokens, mean entropy per condition, each contrast's deltas with intervals; then the slope fits,
// failures with their reasons, and where the files are.
#include <string>
#include <vector>

#include "experiment/model_outcome.h"
#include "experiment/scaling_fit.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

std::string summary_table(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                          const std::vector<SlopeFit>& fits);

}  // namespace entroscope::experiment
