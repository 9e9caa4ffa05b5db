#pragma once
// `entroscope cache verify [ID[@REV]]`: re-hashes cached blobs against their names (sha256 for LFS
// files, git blob sha1 for the others) and reports corrupt or truncated blobs, snapshot links to
// missing blobs and unfinished downloads. Optionally deletes corrupt blobs and the links to them so
// that the next `entroscope pull` fetches them again.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace entroscope::io::hub {

class TransferProgress;

enum class BlobStatus {
  kOk,
  kCorrupt,     // content hash differs from the blob's name
  kMissing,     // a snapshot links to it but the file is gone
  kUnreadable,  // I/O error while hashing
};
std::string_view blob_status_name(BlobStatus status);

struct BlobCheck {
  std::string blob;                  // the hash it is named by
  std::vector<std::string> used_by;  // "commit/file" of the snapshot entries linking to it
  std::uint64_t size = 0;
  BlobStatus status = BlobStatus::kOk;
  std::string actual;                // the hash computed (for kCorrupt)
  std::string detail;                // error text (for kUnreadable)
  bool deleted = false;              // removed by delete_corrupt
};

struct RepoCheck {
  std::string repo_id;
  std::filesystem::path dir;
  std::vector<BlobCheck> blobs;
  std::vector<std::string> notes;  // partial downloads, plain (non-link) snapshot files, unused blobs
  std::size_t problems() const;    // blobs that are not kOk
};

struct VerifyOptions {
  std::optional<std::string> revision;   // only blobs of this revision's snapshot (branch, tag or commit)
  bool delete_corrupt = false;
  TransferProgress* progress = nullptr;  // null: silent
};

// Checks one repository in the cache at `root`. Throws Error when the repository (or the revision)
// is not in the cache.
RepoCheck verify_repo(const std::filesystem::path& root, const std::string& repo_id, const VerifyOptions& options);

nlohmann::json to_json(const RepoCheck& check);

}  // namespace entroscope::io::hub
