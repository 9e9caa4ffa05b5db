#pragma once
// Across models: scaling_summary.csv (one row per model: parameters, every reported metric and
// contrast with its interval; failed models with their reason and empty cells) and
// scaling_summary.json (the same plus the slope fits).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/model_outcome.h"
#include "experiment/scaling_fit.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

// "with_context - no_context" -> "with_context-no_context": for file and column names.
std::string contrast_slug(const std::string& contrast_name);

// Measures with a reported summary, in `metrics:` order (entropy when none is listed).
std::vector<Measure> reported_measures(const ExperimentSpec& spec);

std::string scaling_csv(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes);
nlohmann::ordered_json scaling_json(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                                    const std::vector<SlopeFit>& fits);

}  // namespace entroscope::experiment
