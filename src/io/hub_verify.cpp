#include "io/hub_verify.h"

#include <fmt/format.h>

#include <map>

#include "common/error.h"
#include "io/hub_cache.h"
#include "io/hub_hash.h"
#include "io/hub_inventory.h"
#include "io/hub_progress.h"

namespace entroscope::io::hub {

namespace fs = std::filesystem;

namespace {
constexpr std::uint64_t kShowProgressFrom = 64ull << 20;
}  // namespace

std::string_view blob_status_name(BlobStatus status) {
  switch (status) {
    case BlobStatus::kOk:
      return "ok";
    case BlobStatus::kCorrupt:
      return "corrupt";
    case BlobStatus::kMissing:
      return "missing";
    case BlobStatus::kUnreadable:
      return "unreadable";
  }
  return "?";
}

std::size_t RepoCheck::problems() const {
  std::size_t n = 0;
  for (const auto& b : blobs) n += b.status != BlobStatus::kOk;
  return n;
}

RepoCheck verify_repo(const fs::path& root, const std::string& repo_id, const VerifyOptions& options) {
  CacheRepo repo(root, repo_id);
  if (!repo.exists()) fail("{} is not in the Hugging Face cache at {} (no {} folder)", repo_id, root.string(),
                           repo_folder_name(repo_id));
  RepoCheck check;
  check.repo_id = repo_id;
  check.dir = repo.dir();

  std::vector<std::string> commits;
  if (options.revision) {
    auto commit = repo.resolve_revision(*options.revision);
    if (!commit) fail("{}: revision '{}' is not in the cache at {}", repo_id, *options.revision, repo.dir().string());
    commits.push_back(*commit);
  } else {
    commits = repo.snapshot_commits();
  }

  std::map<std::string, BlobCheck> blobs;
  for (const auto& commit : commits) {
    for (const auto& f : scan_snapshot(repo, commit).files) {
      if (f.blob.empty()) {
        check.notes.push_back(fmt::format("snapshots/{}/{} is a plain file, not a link to a blob: not verifiable",
                                          commit, f.path));
        continue;
      }
      BlobCheck& b = blobs[f.blob];
      b.blob = f.blob;
      b.used_by.push_back(commit + "/" + f.path);
      if (f.missing) b.status = BlobStatus::kMissing;
    }
  }
  CachedRepo inventory = scan_repo(repo);
  if (!options.revision) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(repo.blobs_dir(), ec)) {
      std::string name = entry.path().filename().string();
      if (is_blob_hash(name) && blobs.find(name) == blobs.end()) {
        blobs[name].blob = name;
        check.notes.push_back(fmt::format("blobs/{} is not used by any snapshot", name));
      }
    }
  }
  for (const auto& p : inventory.partial) {
    check.notes.push_back(fmt::format("blobs/{}.incomplete: unfinished download ({}); `entroscope pull` resumes it",
                                      p.blob, format_bytes(p.size)));
  }

  auto silent = make_progress(stderr, ProgressStyle::kSilent);
  TransferProgress& progress = options.progress != nullptr ? *options.progress : *silent;
  std::size_t index = 0;
  for (auto& [name, b] : blobs) {
    ++index;
    fs::path path = repo.blob_path(name);
    if (b.status == BlobStatus::kMissing) {
      check.blobs.push_back(b);
      continue;
    }
    std::error_code ec;
    b.size = fs::file_size(path, ec);
    HashKind kind = hash_kind_of(name);
    std::string what = b.used_by.empty() ? name.substr(0, 12) : b.used_by.front().substr(b.used_by.front().find('/') + 1);
    // Progress only for blobs that take a noticeable time to hash (weights), not for every config file.
    bool show = b.size >= kShowProgressFrom;
    if (show) progress.start(fmt::format("[{}/{}] {} ({})", index, blobs.size(), what, hash_kind_name(kind)), b.size, 0);
    try {
      b.actual = hash_file(path, kind, [&](std::uint64_t n) {
        if (show) progress.advance(n);
      });
      b.status = b.actual == name ? BlobStatus::kOk : BlobStatus::kCorrupt;
      if (show) progress.finish(true);
    } catch (const Error& e) {
      if (show) progress.finish(false);
      b.status = BlobStatus::kUnreadable;
      b.detail = e.what();
    }
    if (b.status == BlobStatus::kCorrupt && options.delete_corrupt) {
      fs::remove(path, ec);
      for (const auto& entry : b.used_by) fs::remove(repo.snapshots_dir() / entry, ec);
      b.deleted = true;
    }
    check.blobs.push_back(b);
  }
  return check;
}

nlohmann::json to_json(const RepoCheck& check) {
  nlohmann::json j;
  j["repo_id"] = check.repo_id;
  j["path"] = check.dir.string();
  j["ok"] = check.problems() == 0;
  j["blobs"] = nlohmann::json::array();
  for (const auto& b : check.blobs) {
    nlohmann::json jb{{"blob", b.blob}, {"status", blob_status_name(b.status)}, {"size", b.size}, {"used_by", b.used_by}};
    if (b.status == BlobStatus::kCorrupt) jb["actual"] = b.actual;
    if (!b.detail.empty()) jb["detail"] = b.detail;
    if (b.deleted) jb["deleted"] = true;
    j["blobs"].push_back(jb);
  }
  j["notes"] = check.notes;
  return j;
}

}  // namespace entroscope::io::hub
