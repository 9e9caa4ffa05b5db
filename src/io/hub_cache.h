#pragma once
// The Hugging Face Hub cache layout (shared with huggingface_hub / transformers):
//
//   <root>/models--<org>--<name>/
//     blobs/<hash>                  file contents, named by git-sha1 (small files) or sha256 (LFS)
//     refs/<revision>               a branch or tag name; content: the commit hash it points to
//     snapshots/<commit>/<file>     relative symlinks ../../blobs/<hash>
//
// <root> follows the Hub's precedence: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE (legacy), HF_HOME/hub,
// XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace entroscope::io::hub {

std::filesystem::path default_cache_root();

// "openai-community/gpt2" -> "models--openai-community--gpt2"; and back (nullopt if not a model folder).
std::string repo_folder_name(const std::string& repo_id);
std::optional<std::string> repo_id_from_folder(const std::string& folder_name);

// A blob name we are willing to use as a file name: 40 (git-sha1) or 64 (sha256) lower-case hex digits.
bool is_blob_hash(const std::string& hash);

// A file name from a repository listing that is safe to place under a snapshot folder: relative,
// '/'-separated, no empty, "." or ".." segments, no backslashes or control characters.
bool is_safe_repo_path(const std::string& path);

// One repository's folder in the cache. Only reads the disk when asked.
class CacheRepo {
 public:
  CacheRepo(std::filesystem::path root, std::string repo_id);

  const std::string& repo_id() const { return repo_id_; }
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path blobs_dir() const { return dir_ / "blobs"; }
  std::filesystem::path refs_dir() const { return dir_ / "refs"; }
  std::filesystem::path snapshots_dir() const { return dir_ / "snapshots"; }
  std::filesystem::path blob_path(const std::string& hash) const;        // throws on a bad hash
  std::filesystem::path incomplete_path(const std::string& hash) const;  // blobs/<hash>.incomplete
  std::filesystem::path snapshot_dir(const std::string& commit) const;
  std::filesystem::path ref_path(const std::string& revision) const;

  bool exists() const;

  // The commit a revision names locally: a commit hash that has a snapshot, or the content of
  // refs/<revision>. nullopt when neither exists. Never touches the network.
  std::optional<std::string> resolve_revision(const std::string& revision) const;

  // All refs as (name, commit), names relative to refs/ ("main", "refs/pr/1"), sorted by name.
  std::vector<std::pair<std::string, std::string>> refs() const;
  // All snapshot folder names (commits), sorted.
  std::vector<std::string> snapshot_commits() const;

  // Records that `revision` points at `commit` (atomic; a no-op when revision == commit).
  void write_ref(const std::string& revision, const std::string& commit) const;

  // Makes snapshots/<commit>/<file> a relative symlink to blobs/<hash>, atomically replacing any
  // existing entry. Creates the folders as needed.
  void link_snapshot_file(const std::string& commit, const std::string& file, const std::string& hash) const;

  // The blob hash a snapshot entry links to (nullopt if it is not a symlink into blobs/).
  std::optional<std::string> linked_blob(const std::string& commit, const std::string& file) const;

 private:
  std::filesystem::path root_;
  std::string repo_id_;
  std::filesystem::path dir_;
};

struct HubModelRef;

// Where a model reference lives in the cache: the repo folder (the canonical id's, else the legacy
// un-namespaced one that older transformers versions wrote, e.g. models--gpt2) and the commit its
// revision names there.
struct SnapshotLocation {
  std::string repo_id;  // the id of the folder it was found in
  std::string commit;
  std::filesystem::path dir;  // <root>/models--.../snapshots/<commit>
};

// Looks `ref` up in the cache at `root` without any network access. `tried` (optional) receives a
// short description of each place looked at, for error messages.
std::optional<SnapshotLocation> locate_snapshot(const std::filesystem::path& root, const HubModelRef& ref,
                                                std::vector<std::string>* tried = nullptr);

}  // namespace entroscope::io::hub
