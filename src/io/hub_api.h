#pragma once
// The Hub's HTTP API as used for downloads:
//   GET  {endpoint}/api/models/{repo}/revision/{rev}?blobs=true   -> commit hash + file list with
//        sizes, git blob ids and, for LFS files, their sha256
//   HEAD {endpoint}/{repo}/resolve/{rev}/{file}                    -> X-Repo-Commit, ETag or
//        X-Linked-Etag/X-Linked-Size (LFS), and a Location when the content lives elsewhere (CDN)
// HTTP errors become one-line messages that say what is wrong (missing repo / revision / file,
// authentication, gating), using the Hub's X-Error-Code header.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/hub_http.h"
#include "io/hub_settings.h"

namespace entroscope::io::hub {

// An HTTP error status from the Hub (or from a download URL it redirected to).
class HubStatusError : public Error {
 public:
  HubStatusError(const std::string& message, long status, std::string error_code)
      : Error(message), status_(status), error_code_(std::move(error_code)) {}
  long status() const { return status_; }
  const std::string& error_code() const { return error_code_; }  // X-Error-Code, may be empty
  bool retryable() const { return status_ == 429 || status_ >= 500; }

 private:
  long status_;
  std::string error_code_;
};

struct RepoFile {
  std::string path;                        // "model.safetensors", "onnx/model.onnx"
  std::optional<std::uint64_t> size;       // real content size (LFS: the object, not the pointer)
  std::string blob_id;                     // git blob sha1 (of the pointer for LFS files); may be empty
  std::optional<std::string> lfs_sha256;   // sha256 of the content, for LFS files

  // The name the content has in the cache's blobs/ folder: the LFS sha256, else the git blob id.
  std::string content_hash() const { return lfs_sha256 ? *lfs_sha256 : blob_id; }
};

struct RepoRevision {
  std::string repo_id;
  std::string revision;  // as requested
  std::string commit;    // what it resolved to
  std::vector<RepoFile> files;

  const RepoFile* find(const std::string& path) const;
};

struct FileMetadata {
  std::string commit;                 // X-Repo-Commit
  std::string etag;                   // X-Linked-Etag or ETag, without quotes / W/ prefix
  std::optional<std::uint64_t> size;  // X-Linked-Size or Content-Length
  std::string location;               // where to GET the content (the resolve URL or a redirect target)
};

// Strips a weak-validator prefix and the quotes: W/"abc" -> abc.
std::string normalize_etag(const std::string& etag);

// A decimal size header value (Content-Length, X-Linked-Size); nullopt when empty, not all digits,
// or beyond 64 bits.
std::optional<std::uint64_t> parse_size_header(const std::optional<std::string>& value);

// The JSON answer of GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true (from `url`): the
// commit and the file list. Throws Error naming `url` when it is not such an answer.
RepoRevision parse_repo_revision(const std::string& body, long status, const std::string& url,
                                 const std::string& repo_id, const std::string& revision);

// The metadata in the final answer to HEAD `url` (a 2xx, or a redirect whose Location is where the
// content is). Throws Error naming `url` when the Location is not an absolute http(s) URL.
FileMetadata parse_file_metadata(const HttpResponse& response, const std::string& url);

class HubApi {
 public:
  HubApi(HubSettings settings, HttpClient& http);

  const HubSettings& settings() const { return settings_; }
  HttpClient& http() { return http_; }

  RepoRevision repo_revision(const std::string& repo_id, const std::string& revision);
  FileMetadata file_metadata(const std::string& repo_id, const std::string& revision, const std::string& file);

  std::string revision_url(const std::string& repo_id, const std::string& revision) const;
  std::string resolve_url(const std::string& repo_id, const std::string& revision, const std::string& file) const;

  // "Authorization: Bearer ..." when a token is set and `url` is on the endpoint's origin (a token is
  // never sent to a CDN or any other host).
  std::vector<std::string> auth_headers(const std::string& url) const;

  // Throws HubStatusError with a message naming the URL and, from X-Error-Code, what is missing.
  // `repo_id`, `revision`, `file` (may be empty) make the message specific. No-op for 2xx/3xx.
  void raise_for_status(const HttpResponse& response, const std::string& repo_id, const std::string& revision,
                        const std::string& file) const;

 private:
  HubSettings settings_;
  HttpClient& http_;
};

}  // namespace entroscope::io::hub
