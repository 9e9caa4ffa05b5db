#include "io/hub_cache.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <system_error>

#include "common/error.h"
#include "common/json_file.h"
#include "io/hub_id.h"
#include "io/hub_settings.h"

namespace entroscope::io::hub {

namespace fs = std::filesystem;

namespace {

fs::path home_dir() {
  if (auto h = env_value("HOME")) return *h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  fail("cannot locate the Hugging Face cache: HOME is not set; set HF_HUB_CACHE or HF_HOME");
}

// "~" and "~/x" -> home-relative, as huggingface_hub's expanduser does.
fs::path expand_user(const std::string& p) {
  if (p == "~") return home_dir();
  if (p.rfind("~/", 0) == 0) return home_dir() / p.substr(2);
  return p;
}

bool is_hex40_or_64(const std::string& s) {
  if (s.size() != 40 && s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create cache folder: {}", dir.string(), ec.message());
}

}  // namespace

fs::path default_cache_root() {
  if (auto v = env_value("HF_HUB_CACHE")) return expand_user(*v);
  if (auto v = env_value("HUGGINGFACE_HUB_CACHE")) return expand_user(*v);
  if (auto v = env_value("HF_HOME")) return expand_user(*v) / "hub";
  if (auto v = env_value("XDG_CACHE_HOME")) return expand_user(*v) / "huggingface" / "hub";
  return home_dir() / ".cache" / "huggingface" / "hub";
}

std::string repo_folder_name(const std::string& repo_id) {
  std::string out = "models";
  std::size_t start = 0;
  while (true) {
    auto slash = repo_id.find('/', start);
    out += "--";
    out += repo_id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::optional<std::string> repo_id_from_folder(const std::string& folder_name) {
  const std::string prefix = "models--";
  if (folder_name.rfind(prefix, 0) != 0 || folder_name.size() == prefix.size()) return std::nullopt;
  std::string rest = folder_name.substr(prefix.size());
  std::string id;
  std::size_t start = 0;
  while (true) {
    auto sep = rest.find("--", start);
    if (!id.empty()) id += '/';
    id += rest.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
    if (sep == std::string::npos) break;
    start = sep + 2;
  }
  if (!is_valid_repo_id(id)) return std::nullopt;
  return id;
}

bool is_blob_hash(const std::string& hash) { return is_hex40_or_64(hash); }

bool is_safe_repo_path(const std::string& path) {
  if (path.empty() || path.size() > 1024 || path.front() == '/') return false;
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

CacheRepo::CacheRepo(fs::path root, std::string repo_id)
    : root_(std::move(root)), repo_id_(std::move(repo_id)), dir_(root_ / repo_folder_name(repo_id_)) {}

fs::path CacheRepo::blob_path(const std::string& hash) const {
  if (!is_blob_hash(hash)) fail("{}: refusing blob name '{}': not a git-sha1 or sha256 hex digest", dir_.string(), hash);
  return blobs_dir() / hash;
}

fs::path CacheRepo::incomplete_path(const std::string& hash) const {
  fs::path p = blob_path(hash);
  p += ".incomplete";
  return p;
}

fs::path CacheRepo::snapshot_dir(const std::string& commit) const {
  if (!is_safe_repo_path(commit) || commit.find('/') != std::string::npos)
    fail("{}: invalid commit name '{}'", dir_.string(), commit);
  return snapshots_dir() / commit;
}

fs::path CacheRepo::ref_path(const std::string& revision) const {
  if (!is_safe_repo_path(revision)) fail("{}: invalid revision name '{}'", dir_.string(), revision);
  return refs_dir() / revision;
}

bool CacheRepo::exists() const {
  std::error_code ec;
  return fs::is_directory(dir_, ec);
}

std::optional<std::string> CacheRepo::resolve_revision(const std::string& revision) const {
  std::error_code ec;
  if (!is_safe_repo_path(revision)) return std::nullopt;
  if (is_commit_hash(revision) && fs::is_directory(snapshots_dir() / revision, ec)) return revision;
  fs::path ref = refs_dir() / revision;
  if (!fs::is_regular_file(ref, ec)) return std::nullopt;
  std::string commit = trim(read_text_file(ref));
  if (!is_safe_repo_path(commit) || commit.find('/') != std::string::npos) {
    fail("{}: corrupt ref file: expected a commit hash, found '{}'", ref.string(), commit.substr(0, 80));
  }
  return commit;
}

std::vector<std::pair<std::string, std::string>> CacheRepo::refs() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  fs::path dir = refs_dir();
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().lexically_relative(dir).generic_string();
    if (name.find(".tmp.") != std::string::npos) continue;
    try {
      out.emplace_back(name, trim(read_text_file(it->path())));
    } catch (const Error&) {
      // An unreadable ref is reported by `cache verify`; listing skips it.
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> CacheRepo::snapshot_commits() const {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(snapshots_dir(), ec)) return out;
  for (const auto& entry : fs::directory_iterator(snapshots_dir(), ec)) {
    if (entry.is_directory(ec)) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void CacheRepo::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  fs::path ref = ref_path(revision);
  std::error_code ec;
  if (fs::is_regular_file(ref, ec)) {
    try {
      if (trim(read_text_file(ref)) == commit) return;
    } catch (const Error&) {
      // rewrite below
    }
  }
  make_dirs(ref.parent_path());
  write_file_atomic(ref, commit);
}

void CacheRepo::link_snapshot_file(const std::string& commit, const std::string& file, const std::string& hash) const {
  if (!is_safe_repo_path(file)) fail("{}: refusing unsafe file name '{}'", dir_.string(), file);
  fs::path link = snapshot_dir(commit) / file;
  make_dirs(link.parent_path());
  // snapshots/<commit>/<a>/<b> -> ../../../blobs/<hash>: one "../" per folder level below the repo folder.
  std::string target;
  auto depth = static_cast<std::size_t>(std::count(file.begin(), file.end(), '/')) + 2;
  for (std::size_t i = 0; i < depth; ++i) target += "../";
  target += "blobs/" + hash;
  if (!is_blob_hash(hash)) fail("{}: refusing blob name '{}'", dir_.string(), hash);

  fs::path tmp = link;
  tmp += ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (ec) fail("{}: cannot create symlink to {}: {}", tmp.string(), target, ec.message());
  fs::rename(tmp, link, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail("{}: cannot place snapshot link: {}", link.string(), ec.message());
  }
}

std::optional<std::string> CacheRepo::linked_blob(const std::string& commit, const std::string& file) const {
  std::error_code ec;
  fs::path link = snapshots_dir() / commit / file;
  if (!fs::is_symlink(link, ec)) return std::nullopt;
  fs::path target = fs::read_symlink(link, ec);
  if (ec) return std::nullopt;
  std::string name = target.filename().string();
  if (!is_blob_hash(name) || target.parent_path().filename() != "blobs") return std::nullopt;
  return name;
}

std::optional<SnapshotLocation> locate_snapshot(const fs::path& root, const HubModelRef& ref,
                                                std::vector<std::string>* tried) {
  std::vector<std::string> ids = {ref.repo_id};
  if (ref.as_written != ref.repo_id && !ref.as_written.empty()) ids.push_back(ref.as_written);
  for (const auto& id : ids) {
    CacheRepo repo(root, id);
    if (!repo.exists()) {
      if (tried) tried->push_back(repo_folder_name(id) + " (absent)");
      continue;
    }
    auto commit = repo.resolve_revision(ref.revision);
    if (!commit) {
      std::string known;
      for (const auto& [name, c] : repo.refs()) known += (known.empty() ? "" : ", ") + name;
      if (tried) {
        tried->push_back(fmt::format("{} (no revision '{}'; cached refs: {})", repo_folder_name(id), ref.revision,
                                     known.empty() ? "none" : known));
      }
      continue;
    }
    std::error_code ec;
    fs::path dir = repo.snapshots_dir() / *commit;
    if (!fs::is_directory(dir, ec)) {
      if (tried) {
        tried->push_back(fmt::format("{} (revision '{}' -> {} but that snapshot folder is missing)",
                                     repo_folder_name(id), ref.revision, *commit));
      }
      continue;
    }
    return SnapshotLocation{id, *commit, dir};
  }
  return std::nullopt;
}

}  // namespace entroscope::io::hub
