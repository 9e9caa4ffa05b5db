#include "io/file_digest.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/durable_file.h"
#include "common/error.h"
#include "common/json_file.h"
#include "io/hub_hash.h"

namespace entroscope::io {

namespace fs = std::filesystem;

namespace {

// Entries kept: far more files than anyone's model collection, small enough to read in a blink.
constexpr std::size_t kMaxEntries = 4096;

std::string stat_identity(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail("{}: cannot stat: {}", path.string(), std::strerror(errno));
  return fmt::format("{}:{}:{}:{}.{:09}:{}.{:09}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

nlohmann::json read_cache(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return nlohmann::json::object();
  try {
    nlohmann::json doc = parse_json(read_text_file(file), file.string());
    if (doc.is_object() && doc.contains("files") && doc["files"].is_object()) return doc["files"];
  } catch (const std::exception&) {
  }
  return nlohmann::json::object();  // unreadable or foreign: start over
}

}  // namespace

fs::path file_digest_cache_path() {
  if (const char* dir = std::getenv("ENTROSCOPE_CACHE_DIR"); dir && *dir) return fs::path(dir) / "file-digests.json";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return fs::path(xdg) / "entroscope" / "file-digests.json";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "entroscope" / "file-digests.json";
  return {};
}

std::string file_sha256(const fs::path& path) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  const fs::path cache = file_digest_cache_path();
  if (ec || cache.empty()) return hub::hash_file(path, hub::HashKind::kSha256);
  const std::string key = canonical.string();
  const std::string identity = stat_identity(canonical);
  nlohmann::json files = read_cache(cache);
  if (auto it = files.find(key); it != files.end() && it->is_object() && it->value("stat", "") == identity) {
    const std::string sha = it->value("sha256", "");
    if (sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == std::string::npos) return sha;
  }
  const std::string sha = hub::hash_file(canonical, hub::HashKind::kSha256);
  // The file must not have changed while it was hashed, or the entry would pair old bytes with
  // the new identity.
  if (stat_identity(canonical) != identity) return sha;
  if (files.size() >= kMaxEntries) files = nlohmann::json::object();
  files[key] = {{"stat", identity}, {"sha256", sha}};
  try {
    fs::create_directories(cache.parent_path());
    write_file_atomic(cache, nlohmann::json{{"files", files}}.dump(1) + "\n");
  } catch (const std::exception&) {
    // A read-only or full home folder costs only the next run's hashing.
  }
  return sha;
}

}  // namespace entroscope::io
