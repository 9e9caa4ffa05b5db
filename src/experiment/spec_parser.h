#pragma once
// Reads an experiment YAML file into an ExperimentSpec and checks everything that can be checked
// without the items or the models: unknown or duplicate fields, wrong types, malformed templates,
// conditions without exactly one measured segment, contrasts naming unknown conditions. Every
// error is one line: "<file>:<line>:<column>: <problem>".
#include <filesystem>
#include <string>

#include "experiment/spec.h"

namespace entroscope::experiment {

ExperimentSpec parse_experiment_file(const std::filesystem::path& path);

// Same, from text; `path` is used for messages and to resolve the data file.
ExperimentSpec parse_experiment_text(const std::string& yaml, const std::filesystem::path& path);

}  // namespace entroscope::experiment
