#pragma once
// A `models:` entry made concrete before any weights are loaded: where the model is, what it is
// called in files and tables, which series it belongs to, its config, and the digests of every
// file that decides its numbers (weights, config, tokenizer).
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/model_result.h"
#include "experiment/spec.h"
#include "io/model_locator.h"
#include "model/config.h"

namespace entroscope::experiment {

struct ModelSource {
  ModelEntry entry;
  io::ResolvedModel resolved;
  std::string name;    // entry.name or derived from the model (sanitized for file names)
  std::string family;  // entry.family or from the architecture
  model::ModelConfig config;
  nlohmann::json config_json;
};

// Resolution order: a directory relative to the experiment file's folder; a bundled demo name in
// <experiment folder>/../models; then io::resolve_model (directory relative to the working
// folder, demo models next to the executable, the local Hugging Face cache). Throws Error
// "<file>:<line>:<col>: model '...': ..." when none applies or config.json is unusable.
// fetch: a Hub id that is not in the local cache is downloaded first (io::resolve_or_fetch_model).
ModelSource resolve_model_entry(const ModelEntry& entry, const std::filesystem::path& experiment_dir,
                                bool fetch = false);

// "GPT-2" / "GPT-NeoX".
std::string family_of(model::Architecture arch);

// Name usable in a file name: letters, digits, '-', '_', '.' kept, anything else becomes '_'.
std::string file_safe(const std::string& name);

// sha256 and size of the weight files (shards and index included), config.json and the
// tokenizer's source files. Hashing streams, so multi-GB weights need constant memory, and is
// remembered between runs for files that have not changed (io/file_digest.h).
struct ModelDigests {
  FileDigest config_file;
  std::vector<FileDigest> weight_files;
  std::vector<FileDigest> tokenizer_files;
};
ModelDigests digest_model_files(const std::filesystem::path& dir,
                                const std::vector<std::filesystem::path>& tokenizer_files);

}  // namespace entroscope::experiment
