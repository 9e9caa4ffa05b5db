#pragma once
// entropy_analysis_<model>.txt: one model's results for a person to read: what was run, the
// per-condition means, every contrast with its interval and test, a plain-words reading of each
// difference, and the provenance needed to reproduce it.
#include <cstdint>
#include <map>
#include <string>

#include "experiment/model_result.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

std::string analysis_text(const ExperimentSpec& spec, const ModelResult& result, const std::string& results_file);

// How a condition builds its sequence: "{context} + [{target}]" with special tokens and their ids.
std::string describe_condition(const Condition& condition, const std::map<std::string, std::int32_t>& special_ids);

}  // namespace entroscope::experiment
