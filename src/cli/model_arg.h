#pragma once
// Turning a --model argument into a loaded model, and the reproducibility metadata about it.
#include <map>
#include <string>

#include "model/weights.h"

namespace entroscope::cli {

model::Model load_model_arg(const std::string& spec);

// Metadata for output files: model name, path, dtype, entroscope version, threads, BLAS.
std::map<std::string, std::string> model_metadata(const model::Model& m);

}  // namespace entroscope::cli
