#pragma once
// What the Hugging Face cache holds (`entroscope ls`): model repositories, their snapshots (with the
// refs pointing at them), files, sizes, unfinished downloads, and whether a snapshot is loadable.
// Reads the disk only; hashes nothing (that is `cache verify`).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace entroscope::io::hub {

class CacheRepo;

struct CachedFile {
  std::string path;          // relative to the snapshot folder, '/'-separated
  std::string blob;          // blob hash it links to; empty for a plain file (no symlink)
  std::uint64_t size = 0;    // of the content (0 when missing)
  bool missing = false;      // a link whose blob is gone
};

struct CachedSnapshot {
  std::string commit;
  std::vector<std::string> refs;  // names pointing here ("main", "step143000")
  std::vector<CachedFile> files;
  std::uint64_t size = 0;         // sum of its files' sizes
  std::string problem;            // empty when loadable (see snapshot_problem)
};

struct PartialDownload {
  std::string blob;
  std::uint64_t size = 0;
};

struct CachedRepo {
  std::string repo_id;
  std::filesystem::path dir;
  std::vector<CachedSnapshot> snapshots;
  std::uint64_t size_on_disk = 0;  // blobs (each counted once) + partial downloads
  std::size_t blob_count = 0;
  std::vector<PartialDownload> partial;  // blobs/*.incomplete
};

CachedSnapshot scan_snapshot(const CacheRepo& repo, const std::string& commit);
CachedRepo scan_repo(const CacheRepo& repo);
// Every models--* folder under `root`, sorted by id. A missing root is an empty cache.
std::vector<CachedRepo> scan_cache(const std::filesystem::path& root);

nlohmann::json to_json(const CachedRepo& repo);

}  // namespace entroscope::io::hub
