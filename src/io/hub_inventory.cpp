#include "io/hub_inventory.h"

#include <algorithm>

#include "io/hub_cache.h"
#include "io/hub_files.h"

namespace entroscope::io::hub {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

CachedSnapshot scan_snapshot(const CacheRepo& repo, const std::string& commit) {
  CachedSnapshot snap;
  snap.commit = commit;
  for (const auto& [name, target] : repo.refs()) {
    if (target == commit) snap.refs.push_back(name);
  }
  fs::path dir = repo.snapshots_dir() / commit;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code e2;
    bool is_link = it->is_symlink(e2);
    if (!is_link && !it->is_regular_file(e2)) continue;
    CachedFile f;
    f.path = it->path().lexically_relative(dir).generic_string();
    if (f.path.find(".tmp.") != std::string::npos) continue;  // an interrupted link placement
    if (is_link) f.blob = repo.linked_blob(commit, f.path).value_or("");
    auto size = fs::file_size(it->path(), e2);  // follows the link
    if (e2) {
      f.missing = true;
    } else {
      f.size = size;
    }
    snap.size += f.size;
    snap.files.push_back(std::move(f));
  }
  std::sort(snap.files.begin(), snap.files.end(), [](const CachedFile& a, const CachedFile& b) { return a.path < b.path; });
  snap.problem = snapshot_problem(dir).value_or("");
  return snap;
}

CachedRepo scan_repo(const CacheRepo& repo) {
  CachedRepo out;
  out.repo_id = repo.repo_id();
  out.dir = repo.dir();
  for (const auto& commit : repo.snapshot_commits()) out.snapshots.push_back(scan_snapshot(repo, commit));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(repo.blobs_dir(), ec)) {
    std::error_code e2;
    if (!entry.is_regular_file(e2)) continue;
    std::string name = entry.path().filename().string();
    std::uint64_t size = entry.file_size(e2);
    if (e2) continue;
    if (ends_with(name, ".incomplete")) {
      out.partial.push_back({name.substr(0, name.size() - std::string(".incomplete").size()), size});
      out.size_on_disk += size;
    } else if (is_blob_hash(name)) {
      ++out.blob_count;
      out.size_on_disk += size;
    }
  }
  std::sort(out.partial.begin(), out.partial.end(), [](const auto& a, const auto& b) { return a.blob < b.blob; });
  return out;
}

std::vector<CachedRepo> scan_cache(const fs::path& root) {
  std::vector<CachedRepo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::error_code e2;
    if (!entry.is_directory(e2)) continue;
    auto id = repo_id_from_folder(entry.path().filename().string());
    if (!id) continue;  // datasets--*, spaces--*, .locks, ...
    out.push_back(scan_repo(CacheRepo(root, *id)));
  }
  std::sort(out.begin(), out.end(), [](const CachedRepo& a, const CachedRepo& b) { return a.repo_id < b.repo_id; });
  return out;
}

nlohmann::json to_json(const CachedRepo& repo) {
  nlohmann::json j;
  j["repo_id"] = repo.repo_id;
  j["path"] = repo.dir.string();
  j["size_on_disk"] = repo.size_on_disk;
  j["blobs"] = repo.blob_count;
  j["snapshots"] = nlohmann::json::array();
  for (const auto& s : repo.snapshots) {
    nlohmann::json js;
    js["commit"] = s.commit;
    js["refs"] = s.refs;
    js["size"] = s.size;
    js["loadable"] = s.problem.empty();
    if (!s.problem.empty()) js["problem"] = s.problem;
    js["files"] = nlohmann::json::array();
    for (const auto& f : s.files) {
      nlohmann::json jf{{"path", f.path}, {"size", f.size}};
      if (!f.blob.empty()) jf["blob"] = f.blob;
      if (f.missing) jf["missing"] = true;
      js["files"].push_back(jf);
    }
    j["snapshots"].push_back(js);
  }
  j["partial_downloads"] = nlohmann::json::array();
  for (const auto& p : repo.partial) j["partial_downloads"].push_back({{"blob", p.blob}, {"size", p.size}});
  return j;
}

}  // namespace entroscope::io::hub
