#include "io/hub_api.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/json_file.h"

#include "io/hub_cache.h"
#include "io/hub_id.h"

namespace entroscope::io::hub {

namespace {

std::optional<std::uint64_t> json_size(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

std::string json_string(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// Collapses an error text from a response header or body to a short single line.
std::string one_line(std::string s, std::size_t max = 200) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

}  // namespace

const RepoFile* RepoRevision::find(const std::string& path) const {
  for (const auto& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::optional<std::uint64_t> parse_size_header(const std::optional<std::string>& v) {
  if (!v || v->empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;  // beyond 64 bits: not a usable size
    n = n * 10 + digit;
  }
  return n;
}

std::string normalize_etag(const std::string& etag) {
  std::string e = etag;
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

HubApi::HubApi(HubSettings settings, HttpClient& http) : settings_(std::move(settings)), http_(http) {}

std::string HubApi::revision_url(const std::string& repo_id, const std::string& revision) const {
  return fmt::format("{}/api/models/{}/revision/{}", settings_.endpoint, repo_id, url_encode(revision, false));
}

std::string HubApi::resolve_url(const std::string& repo_id, const std::string& revision,
                                const std::string& file) const {
  return fmt::format("{}/{}/resolve/{}/{}", settings_.endpoint, repo_id, url_encode(revision, false),
                     url_encode(file, true));
}

std::vector<std::string> HubApi::auth_headers(const std::string& url) const {
  if (!settings_.token || url_origin(url) != url_origin(settings_.endpoint)) return {};
  return {"Authorization: Bearer " + *settings_.token};
}

void HubApi::raise_for_status(const HttpResponse& r, const std::string& repo_id, const std::string& revision,
                              const std::string& file) const {
  if (r.status >= 200 && r.status < 400) return;
  std::string code = r.headers.get("X-Error-Code").value_or("");
  std::string hub_message = one_line(r.headers.get("X-Error-Message").value_or(""));
  std::string where = fmt::format("HTTP {} from {} {}", r.status, r.method, r.url);
  std::string subject = repo_id.empty() ? r.url : repo_id;
  std::string msg;
  bool have_token = settings_.token.has_value();

  if (code == "RevisionNotFound") {
    msg = fmt::format("{}: revision '{}' not found ({})", repo_id, revision, where);
  } else if (code == "EntryNotFound") {
    msg = fmt::format("{}@{}: file '{}' not found in the repository ({})", repo_id, revision, file, where);
  } else if (code == "GatedRepo") {
    msg = fmt::format("{} is a gated repository and {} ({}); request access at {}/{}", subject,
                      have_token ? fmt::format("the token from {} has not been granted access", settings_.token_source)
                                 : "no token is set (HF_TOKEN)",
                      where, settings_.endpoint, repo_id);
  } else if (r.status == 401 && hub_message.find("Invalid credentials") != std::string::npos) {
    msg = fmt::format("the Hub rejected the token from {} as invalid credentials ({})", settings_.token_source, where);
  } else if (code == "RepoNotFound" || r.status == 401) {
    // The Hub answers 401 for a missing repository as well as for a private one without access.
    if (have_token) {
      msg = fmt::format("{}: repository not found, or the token from {} has no access to it ({})", subject,
                        settings_.token_source, where);
    } else if (r.status == 401) {
      msg = fmt::format("{}: repository not found, or it is private/gated and needs a token ({}); check the id, "
                        "or set HF_TOKEN",
                        subject, where);
    } else {
      msg = fmt::format("{}: repository not found ({}); check the id", subject, where);
    }
  } else if (r.status == 403) {
    msg = fmt::format("{}: access denied ({}){}", subject, where, hub_message.empty() ? "" : ": " + hub_message);
  } else if (r.status == 404) {
    msg = fmt::format("{}: not found ({})", file.empty() ? subject : subject + "/" + file, where);
  } else if (r.status == 429) {
    msg = fmt::format("rate limited by the Hub ({}); wait and retry", where);
  } else if (r.status >= 500) {
    msg = fmt::format("server error ({}){}", where, hub_message.empty() ? "" : ": " + hub_message);
  } else {
    msg = fmt::format("unexpected answer ({}){}", where, hub_message.empty() ? "" : ": " + hub_message);
  }
  throw HubStatusError(msg, r.status, code);
}

RepoRevision HubApi::repo_revision(const std::string& repo_id, const std::string& revision) {
  std::string url = revision_url(repo_id, revision) + "?blobs=true";
  HttpRequest req;
  req.url = url;
  req.headers = auth_headers(url);
  req.headers.push_back("Accept: application/json");
  req.identity_encoding = false;
  // The API answers renamed repositories with a redirect to the new name; follow those.
  req.follow_redirects = true;
  HttpResponse r = http_.perform(req);
  raise_for_status(r, repo_id, revision, "");
  return parse_repo_revision(r.body, r.status, url, repo_id, revision);
}

RepoRevision parse_repo_revision(const std::string& body, long status, const std::string& url,
                                 const std::string& repo_id, const std::string& revision) {
  nlohmann::json j;
  try {
    j = parse_json(body, url);
  } catch (const nlohmann::json::exception&) {  // parse_error, or out_of_range for a number like 1e999
    fail("{}: the answer is not JSON (HTTP {}, {} bytes): is HF_ENDPOINT a Hugging Face Hub?", url, status,
         body.size());
  }
  if (!j.is_object()) fail("{}: unexpected answer: not a JSON object", url);

  RepoRevision out;
  out.repo_id = repo_id;
  out.revision = revision;
  out.commit = json_string(j, "sha");
  if (!is_commit_hash(out.commit)) {
    fail("{}: unexpected answer: no commit hash in \"sha\" (got '{}')", url, one_line(out.commit, 60));
  }
  auto siblings = j.find("siblings");
  if (siblings == j.end() || !siblings->is_array()) fail("{}: unexpected answer: no \"siblings\" file list", url);
  for (const auto& s : *siblings) {
    if (!s.is_object()) continue;
    RepoFile f;
    f.path = json_string(s, "rfilename");
    if (!is_safe_repo_path(f.path)) continue;  // never place a file outside the snapshot folder
    f.size = json_size(s, "size");
    f.blob_id = json_string(s, "blobId");
    if (!f.blob_id.empty() && !is_blob_hash(f.blob_id)) f.blob_id.clear();
    auto lfs = s.find("lfs");
    if (lfs != s.end() && lfs->is_object()) {
      std::string sha = json_string(*lfs, "sha256");
      if (sha.empty()) sha = json_string(*lfs, "oid");
      if (sha.size() == 64 && is_blob_hash(sha)) f.lfs_sha256 = sha;
      if (auto lfs_size = json_size(*lfs, "size")) f.size = lfs_size;
    }
    out.files.push_back(std::move(f));
  }
  return out;
}

FileMetadata HubApi::file_metadata(const std::string& repo_id, const std::string& revision,
                                   const std::string& file) {
  std::string url = resolve_url(repo_id, revision, file);
  HttpResponse r;
  // Follow redirects on the Hub itself (a renamed repo: relative Location), but not to the CDN: the
  // Hub's own answer carries the commit and the content hash.
  for (int hop = 0;; ++hop) {
    HttpRequest req;
    req.url = url;
    req.head = true;
    req.headers = auth_headers(url);
    r = http_.perform(req);
    auto location = r.headers.get("Location");
    bool redirect = r.status >= 300 && r.status < 400 && location;
    if (redirect && !location->empty() && location->front() == '/' && hop < 10) {
      url = url_origin(url) + *location;
      continue;
    }
    raise_for_status(r, repo_id, revision, file);
    break;
  }
  return parse_file_metadata(r, url);
}

FileMetadata parse_file_metadata(const HttpResponse& r, const std::string& url) {
  FileMetadata meta;
  auto location = r.headers.get("Location");
  const bool redirect = r.status >= 300 && r.status < 400 && location;
  meta.location = redirect ? *location : url;
  meta.commit = r.headers.get("X-Repo-Commit").value_or("");
  auto linked_etag = r.headers.get("X-Linked-Etag");
  meta.etag = normalize_etag(linked_etag ? *linked_etag : r.headers.get("ETag").value_or(""));
  auto linked_size = parse_size_header(r.headers.get("X-Linked-Size"));
  meta.size = linked_size ? linked_size : parse_size_header(r.headers.get("Content-Length"));
  if (meta.location.rfind("http://", 0) != 0 && meta.location.rfind("https://", 0) != 0) {
    fail("{}: unusable redirect Location '{}'", url, one_line(meta.location, 120));
  }
  return meta;
}

}  // namespace entroscope::io::hub
