#pragma once
// Turning a --model argument into a loaded model, and the reproducibility metadata about it.
#include <filesystem>
#include <map>
#include <string>

#include "io/model_locator.h"
#include "model/weights.h"

namespace entroscope::cli {

// The directory a --model argument names: a directory, a bundled demo name, or a Hub id found in
// the local Hugging Face cache (io/model_locator.h).
std::filesystem::path resolve_model_dir(const std::string& spec);

model::Model load_model_arg(const std::string& spec);

// Metadata for output files: model name, path, dtype, entroscope version, threads, BLAS.
std::map<std::string, std::string> model_metadata(const model::Model& m);

}  // namespace entroscope::cli
