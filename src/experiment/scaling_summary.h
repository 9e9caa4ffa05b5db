#pragma once
// Across models: scaling_summary.csv (one row per model: parameters, every reported metric and
// contrast with its interval; failed models with their reason and empty cells), its long-format
// twin scaling_summary_long.csv, and
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
// The same numbers in long format (scaling_summary_long.csv), for R and pandas without reshaping:
// one row per model x (condition or contrast) x measure, columns model, family, arch, status,
// params_total, params_non_embedding, n_items, unit, kind (condition|contrast), name, measure
// (entropy_bits, surprisal_bits, perplexity), estimate, ci_low, ci_high, token_weighted, p_value,
// n_units, results_file, failure. A failed model has one row with its failure and no measure.
std::string scaling_long_csv(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes);
nlohmann::ordered_json scaling_json(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                                    const std::vector<SlopeFit>& fits);

}  // namespace entroscope::experiment
