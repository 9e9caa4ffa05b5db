#include "io/hub_pull.h"

#include <fmt/format.h>


#include "common/error.h"
#include "entroscope_version.h"
#include "io/hub_api.h"
#include "io/hub_cache.h"
#include "io/hub_fetch.h"
#include "io/hub_files.h"
#include "io/hub_http.h"
#include "io/hub_inventory.h"
#include "io/hub_progress.h"

namespace entroscope::io::hub {

namespace fs = std::filesystem;

namespace {

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

PullResult pull_offline(const HubModelRef& ref, const fs::path& root) {
  std::vector<std::string> tried;
  auto loc = locate_snapshot(root, ref, &tried);
  std::string detail;
  if (loc) {
    if (auto problem = snapshot_problem(loc->dir)) {
      detail = fmt::format("the cached snapshot {} is incomplete: {}", loc->commit, *problem);
    } else {
      PullResult result;
      result.repo_id = loc->repo_id;
      result.revision = ref.revision;
      result.commit = loc->commit;
      result.snapshot_dir = loc->dir;
      result.offline = true;
      CacheRepo repo(root, loc->repo_id);
      for (const auto& f : scan_snapshot(repo, loc->commit).files) {
        result.files.push_back({f.path, f.blob, f.size, FileOutcome::kCached});
      }
      return result;
    }
  } else {
    for (const auto& t : tried) detail += (detail.empty() ? "looked for " : "; ") + t;
  }
  fail("HF_HUB_OFFLINE is set and {} is not available in the cache at {} ({}); unset HF_HUB_OFFLINE to download it",
       ref.display(), root.string(), detail);
}

class Puller {
 public:
  Puller(const HubModelRef& ref, const HubSettings& settings, const PullOptions& options, TransferProgress& progress)
      : ref_(ref),
        options_(options),
        progress_(progress),
        http_(HttpClient::Options{settings.connect_timeout_s, settings.stall_timeout_s,
                                  std::string("entroscope/") + ENTROSCOPE_VERSION}),
        api_(settings, http_),
        repo_(options.cache_root, ref.repo_id) {}

  PullResult run() {
    with_retries(
        options_.retry, [&] { info_ = api_.repo_revision(ref_.repo_id, ref_.revision); }, retry_note("file list"));
    FileSelection sel = select_model_files(info_);
    result_.repo_id = ref_.repo_id;
    result_.revision = ref_.revision;
    result_.commit = info_.commit;
    result_.snapshot_dir = repo_.snapshots_dir() / info_.commit;
    // Like huggingface_hub: record the branch/tag -> commit mapping as soon as it is known.
    repo_.write_ref(ref_.revision, info_.commit);

    std::vector<std::string> files = sel.files;
    total_ = files.size();
    for (const auto& f : sel.files) fetch(f);
    if (sel.sharded) {
      auto shards = shard_files_from_index(result_.snapshot_dir / kSafetensorsIndexFile);
      total_ += shards.size();
      for (const auto& shard : shards) {
        if (info_.find(shard) == nullptr) {
          fail("{}@{}: model.safetensors.index.json names shard '{}', which is not in the repository (commit {})",
               ref_.repo_id, ref_.revision, shard, info_.commit);
        }
        fetch(shard);
      }
    }
    return result_;
  }

 private:
  std::function<void(int, std::chrono::milliseconds, const std::exception&)> retry_note(const std::string& what) {
    return [this, what](int retry, std::chrono::milliseconds delay, const std::exception& e) {
      progress_.note(fmt::format("{}: {}; retry {}/{} in {:.1f} s", what, e.what(), retry, options_.retry.max_retries,
                                 delay.count() / 1000.0));
    };
  }

  bool blob_usable(const std::string& hash, const std::optional<std::uint64_t>& size) const {
    if (!is_blob_hash(hash)) return false;
    std::error_code ec;
    fs::path blob = repo_.blob_path(hash);
    return fs::is_regular_file(blob, ec) && (!size || file_size_or_zero(blob) == *size);
  }

  void fetch(const std::string& file) {
    ++index_;
    const RepoFile* rf = info_.find(file);
    std::string hash = rf->content_hash();
    std::optional<std::uint64_t> size = rf->size;
    const std::string& commit = info_.commit;

    if (blob_usable(hash, size)) {
      bool linked = repo_.linked_blob(commit, file) == hash;
      if (!linked) repo_.link_snapshot_file(commit, file, hash);
      result_.files.push_back({file, hash, file_size_or_zero(repo_.blob_path(hash)),
                               linked ? FileOutcome::kCached : FileOutcome::kLinked});
      return;
    }

    FileMetadata meta;
    with_retries(
        options_.retry, [&] { meta = api_.file_metadata(ref_.repo_id, commit, file); }, retry_note(file));
    std::string url = api_.resolve_url(ref_.repo_id, commit, file);
    if (meta.commit.empty()) {
      fail("HEAD {}: no X-Repo-Commit header in the answer; {} does not behave like a Hugging Face Hub", url,
           api_.settings().endpoint);
    }
    if (meta.commit != commit) {
      fail("HEAD {}: the Hub answered for commit {}, expected {}", url, meta.commit, commit);
    }
    if (hash.empty()) {
      hash = meta.etag;
    } else if (is_blob_hash(meta.etag) && meta.etag != hash) {
      fail("{}@{}: the Hub's metadata for {} disagree: the file list says {}, the ETag of {} says {}", ref_.repo_id,
           ref_.revision, file, hash, url, meta.etag);
    }
    if (!is_blob_hash(hash)) {
      fail("HEAD {}: no usable content hash (ETag '{}'), so the download could not be verified", url, meta.etag);
    }
    if (!size) {
      size = meta.size;
    } else if (meta.size && *meta.size != *size) {
      fail("{}@{}: the Hub's metadata for {} disagree: the file list says {} bytes, {} says {}", ref_.repo_id,
           ref_.revision, file, *size, url, *meta.size);
    }

    if (!blob_usable(hash, size)) {
      BlobSource src;
      src.url = meta.location;
      src.hash = hash;
      src.size = size;
      src.file = file;
      src.revision = ref_.revision;
      src.label = total_ > 1 ? fmt::format("[{}/{}] {}", index_, total_, file) : file;
      FetchOptions fo;
      fo.retry = options_.retry;
      fo.progress = &progress_;
      FetchResult fetched;
      try {
        fetched = fetch_blob(api_, repo_, src, fo);
      } catch (const Error& e) {
        std::uint64_t kept = file_size_or_zero(repo_.incomplete_path(hash));
        if (kept > 0) {
          throw Error(fmt::format("{} ({} of {} kept in {}; run the same pull again to resume)", e.what(),
                                  format_bytes(kept), size ? format_bytes(*size) : std::string("?"),
                                  repo_.incomplete_path(hash).string()));
        }
        throw;
      }
      result_.bytes_downloaded += fetched.bytes_transferred;
      repo_.link_snapshot_file(commit, file, hash);
      FileOutcome outcome = fetched.outcome == FetchOutcome::kResumed         ? FileOutcome::kResumed
                            : fetched.outcome == FetchOutcome::kAlreadyPresent ? FileOutcome::kLinked
                                                                               : FileOutcome::kDownloaded;
      result_.files.push_back({file, hash, fetched.size, outcome});
      return;
    }
    repo_.link_snapshot_file(commit, file, hash);
    result_.files.push_back({file, hash, file_size_or_zero(repo_.blob_path(hash)), FileOutcome::kLinked});
  }

  const HubModelRef& ref_;
  const PullOptions& options_;
  TransferProgress& progress_;
  HttpClient http_;
  HubApi api_;
  CacheRepo repo_;
  RepoRevision info_;
  PullResult result_;
  std::size_t index_ = 0;
  std::size_t total_ = 0;
};

}  // namespace

std::string_view file_outcome_name(FileOutcome outcome) {
  switch (outcome) {
    case FileOutcome::kDownloaded:
      return "downloaded";
    case FileOutcome::kResumed:
      return "resumed";
    case FileOutcome::kCached:
      return "cached";
    case FileOutcome::kLinked:
      return "linked";
  }
  return "?";
}

PullResult pull_model(const HubModelRef& ref, const HubSettings& settings, const PullOptions& options) {
  PullOptions opts = options;
  if (opts.cache_root.empty()) opts.cache_root = default_cache_root();
  if (settings.offline) return pull_offline(ref, opts.cache_root);
  auto silent = make_progress(stderr, ProgressStyle::kSilent);
  TransferProgress& progress = opts.progress != nullptr ? *opts.progress : *silent;
  Puller puller(ref, settings, opts, progress);
  return puller.run();
}

}  // namespace entroscope::io::hub
