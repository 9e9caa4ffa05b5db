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

// Like io::resolve_model, but a Hub id that is not in the local cache is downloaded first (with
// the `pull` machinery and its progress on stderr), as transformers users expect; unless
// `offline` or HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set, in which case it is the same error.
io::ResolvedModel resolve_or_fetch_model(const std::string& spec, bool offline);
model::Model load_model_arg(const std::string& spec);

// Metadata for output files: model name, path, dtype, entroscope version, threads, BLAS.
std::map<std::string, std::string> model_metadata(const model::Model& m);

}  // namespace entroscope::cli
