#include "io/hub_files.h"

#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/json_file.h"
#include "io/hub_api.h"
#include "io/hub_cache.h"

namespace entroscope::io::hub {

namespace fs = std::filesystem;

namespace {

bool is_pytorch_weights(const std::string& name) {
  return name == "pytorch_model.bin" || name == "pytorch_model.bin.index.json" ||
         (name.rfind("pytorch_model-", 0) == 0 && name.size() > 4 && name.substr(name.size() - 4) == ".bin");
}

std::string repo_label(const RepoRevision& repo) { return repo.repo_id + "@" + repo.revision; }

// A regular file, or a symlink whose target exists.
bool present(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);  // follows symlinks: false for a dangling link
}

bool dangling_link(const fs::path& p) {
  std::error_code ec;
  return fs::is_symlink(p, ec) && !fs::exists(p, ec);
}

}  // namespace

const std::vector<std::string>& tokenizer_file_names() {
  static const std::vector<std::string> names = {
      "tokenizer.json",          "tokenizer_config.json", "vocab.json",
      "merges.txt",              "special_tokens_map.json", "added_tokens.json",
      "generation_config.json",
  };
  return names;
}

FileSelection select_model_files(const RepoRevision& repo) {
  FileSelection sel;
  if (repo.find(kConfigFile) == nullptr) {
    fail("{} has no config.json (commit {}); entroscope loads transformers causal-LM model repositories",
         repo_label(repo), repo.commit);
  }
  sel.files.push_back(kConfigFile);
  for (const auto& name : tokenizer_file_names()) {
    if (repo.find(name) != nullptr) sel.files.push_back(name);
  }
  // transformers' order: the single file first, then the sharded index.
  if (repo.find(kSafetensorsFile) != nullptr) {
    sel.files.push_back(kSafetensorsFile);
    return sel;
  }
  if (repo.find(kSafetensorsIndexFile) != nullptr) {
    sel.files.push_back(kSafetensorsIndexFile);
    sel.sharded = true;
    return sel;
  }
  std::vector<std::string> pytorch;
  for (const auto& f : repo.files) {
    if (is_pytorch_weights(f.path)) pytorch.push_back(f.path);
  }
  if (!pytorch.empty()) {
    std::sort(pytorch.begin(), pytorch.end());
    fail("{} has only PyTorch pickle weights ({}), no model.safetensors; entroscope reads safetensors only: use a "
         "revision that has safetensors weights (the Hub's conversion bot often offers one as a pull request: "
         "`entroscope pull {}@refs/pr/N`), or convert the checkpoint with the Python safetensors package and pass "
         "its folder to --model",
         repo_label(repo), pytorch.front(), repo.repo_id);
  }
  fail("{} has no model weights (no model.safetensors, model.safetensors.index.json or pytorch_model.bin; {} "
       "files in commit {})",
       repo_label(repo), repo.files.size(), repo.commit);
}

std::vector<std::string> shard_files_from_index(const fs::path& index_path) {
  nlohmann::json j = read_json_file(index_path);
  auto map = j.is_object() ? j.find("weight_map") : j.end();
  if (!j.is_object() || map == j.end() || !map->is_object() || map->empty()) {
    fail("{}: not a safetensors index: no \"weight_map\" object", index_path.string());
  }
  std::set<std::string> shards;
  for (const auto& [tensor, file] : map->items()) {
    if (!file.is_string() || !is_safe_repo_path(file.get<std::string>())) {
      fail("{}: weight_map entry '{}' does not name a file inside the repository", index_path.string(), tensor);
    }
    shards.insert(file.get<std::string>());
  }
  return {shards.begin(), shards.end()};
}

std::optional<std::string> snapshot_problem(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "folder " + dir.string() + " does not exist";
  fs::path config = dir / kConfigFile;
  if (dangling_link(config)) return "config.json links to a missing blob";
  if (!present(config)) return "no config.json in " + dir.string();

  fs::path single = dir / kSafetensorsFile;
  fs::path index = dir / kSafetensorsIndexFile;
  if (dangling_link(single)) return "model.safetensors links to a missing blob";
  if (present(single)) return std::nullopt;
  if (dangling_link(index)) return "model.safetensors.index.json links to a missing blob";
  if (present(index)) {
    std::vector<std::string> shards;
    try {
      shards = shard_files_from_index(index);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    for (const auto& shard : shards) {
      if (!present(dir / shard)) return "shard " + shard + " named by model.safetensors.index.json is missing";
    }
    return std::nullopt;
  }
  for (const char* pt : {"pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    if (fs::exists(dir / pt, ec)) {
      return std::string("only PyTorch pickle weights (") + pt + "), no model.safetensors";
    }
  }
  return "no model.safetensors or model.safetensors.index.json";
}

}  // namespace entroscope::io::hub
