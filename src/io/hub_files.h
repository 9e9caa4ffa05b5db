#pragma once
// Which files of a model repository entroscope needs (config, tokenizer, safetensors weights), and
// whether a local snapshot folder has them.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace entroscope::io::hub {

struct RepoRevision;

inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kSafetensorsFile = "model.safetensors";
inline constexpr const char* kSafetensorsIndexFile = "model.safetensors.index.json";

// Tokenizer and generation files fetched when the repository has them.
const std::vector<std::string>& tokenizer_file_names();

struct FileSelection {
  std::vector<std::string> files;  // in download order: config, tokenizer files, weights (or index)
  bool sharded = false;            // weights are the index; shards follow from its weight_map
};

// Picks the files to download from a repository listing. Throws Error with a clear message when
// there is no config.json, or no safetensors weights (naming pytorch_model.bin when that is all).
FileSelection select_model_files(const RepoRevision& repo);

// The shard file names an index's weight_map refers to (sorted, unique, validated as safe relative
// paths). Throws Error naming `index_path` when the file is not a valid index.
std::vector<std::string> shard_files_from_index(const std::filesystem::path& index_path);

// Why a local model folder (a snapshot) cannot be loaded: missing config.json, no safetensors
// weights (or only pytorch_model.bin), a shard named by the index missing, a dangling link.
// nullopt when it has config.json and complete safetensors weights.
std::optional<std::string> snapshot_problem(const std::filesystem::path& dir);

}  // namespace entroscope::io::hub
