#include "io/hub_fetch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "io/hub_api.h"
#include "io/hub_cache.h"
#include "io/hub_hash.h"
#include "io/hub_http.h"
#include "io/hub_progress.h"

namespace entroscope::io::hub {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kShowHashProgressFrom = 64ull << 20;

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create folder: {}", dir.string(), ec.message());
}

// Exclusive lock on a lock file for the lifetime of the object.
class BlobLock {
 public:
  BlobLock(const fs::path& path, TransferProgress& progress, const std::string& what) {
    make_dirs(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("{}: cannot create lock file: {}", path.string(), std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    progress.note(fmt::format("{}: waiting for another process downloading it (lock {})", what, path.string()));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) fail("{}: cannot lock: {}", path.string(), std::strerror(errno));
    }
  }
  ~BlobLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays, as huggingface_hub leaves it
  }
  BlobLock(const BlobLock&) = delete;
  BlobLock& operator=(const BlobLock&) = delete;

 private:
  int fd_ = -1;
};

class OutFile {
 public:
  OutFile(const fs::path& path, bool append) : path_(path) {
    f_ = std::fopen(path.c_str(), append ? "ab" : "wb");
    if (f_ == nullptr) fail("{}: cannot open for writing: {}", path.string(), std::strerror(errno));
  }
  ~OutFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  void truncate() {
    std::fflush(f_);
    if (::ftruncate(::fileno(f_), 0) != 0) fail("{}: cannot truncate: {}", path_.string(), std::strerror(errno));
  }
  void write(const char* data, std::size_t n) {
    if (std::fwrite(data, 1, n, f_) != n) fail("{}: write failed: {}", path_.string(), std::strerror(errno));
  }
  void close_synced() {
    if (std::fflush(f_) != 0 || ::fsync(::fileno(f_)) != 0) {
      fail("{}: write failed: {}", path_.string(), std::strerror(errno));
    }
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) fail("{}: close failed: {}", path_.string(), std::strerror(errno));
  }

 private:
  fs::path path_;
  std::FILE* f_ = nullptr;
};

void check_free_space(const fs::path& dir, std::uint64_t needed, const std::string& file) {
  struct statvfs st{};
  if (::statvfs(dir.c_str(), &st) != 0) return;  // cannot tell; the write will fail clearly if it must
  std::uint64_t available = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  if (available < needed) {
    fail("not enough disk space for {} in {}: needs {}, {} free", file, dir.string(), format_bytes(needed),
         format_bytes(available));
  }
}

struct AttemptState {
  bool resumed = false;  // some bytes of the final file came from an earlier attempt or run
  std::uint64_t transferred = 0;
};

// One GET of the content into the .incomplete file, resuming what is there.
void download_attempt(HubApi& api, const CacheRepo& repo, const BlobSource& src, const fs::path& incomplete,
                      TransferProgress& progress, AttemptState& state) {
  std::uint64_t offset = file_size_or_zero(incomplete);
  if (src.size && offset > *src.size) {
    std::error_code ec;
    fs::remove(incomplete, ec);  // longer than the real file: cannot be a prefix of it
    offset = 0;
  }
  if (src.size && offset == *src.size && offset > 0) {
    state.resumed = true;
    return;  // all bytes are here from an earlier run; the hash check decides
  }
  if (src.size) check_free_space(incomplete.parent_path(), *src.size - offset, src.file);

  OutFile out(incomplete, /*append=*/true);
  HttpRequest req;
  req.url = src.url;
  req.headers = api.auth_headers(src.url);
  if (offset > 0) req.headers.push_back(fmt::format("Range: bytes={}-", offset));
  req.follow_redirects = true;
  bool started = false;
  std::uint64_t received = 0;  // in this attempt
  req.on_headers = [&](const HttpResponse& r) {
    if (r.status == 206) {
      std::optional<std::uint64_t> total;
      auto start = content_range_start(r.headers.get("Content-Range").value_or(""), &total);
      if (!start || *start != offset) {
        fail("{}: the server answered a Range request for bytes {}- with Content-Range '{}'", r.url, offset,
             r.headers.get("Content-Range").value_or(""));
      }
      if (src.size && total && *total != *src.size) {
        fail("{}: the server reports {} bytes, the Hub said {}", r.url, *total, *src.size);
      }
    } else if (r.status == 200) {
      if (offset > 0) {
        progress.note(fmt::format("{}: server ignored the resume request; downloading from the start", src.file));
        out.truncate();
        offset = 0;
      }
    } else {
      return false;  // an error status: keep the body for the message
    }
    if (offset > 0) state.resumed = true;
    progress.start(src.label, src.size.value_or(0), offset);
    started = true;
    return true;
  };
  req.on_data = [&](const char* data, std::size_t n) {
    out.write(data, n);
    received += n;
    state.transferred += n;
    progress.advance(n);
  };

  HttpResponse r;
  try {
    r = api.http().perform(req);
  } catch (const HttpTransportError& e) {
    if (!started) throw;
    progress.finish(false);
    // Say how far it got: what is kept is resumed by the next attempt.
    std::uint64_t have = offset + received;
    throw HttpTransportError(fmt::format("GET {}: connection ended after {} of {} bytes ({})", src.url, have,
                                         src.size ? std::to_string(*src.size) : std::string("?"), e.cause()),
                             e.curl_code(), e.retryable(), e.cause());
  } catch (...) {
    if (started) progress.finish(false);
    throw;
  }
  if (r.status == 416) {
    // The partial file does not fit what the server has: start over on the next attempt.
    out.truncate();
    throw HttpTransportError(fmt::format("{}: server refused to resume at byte {} (HTTP 416); restarting", r.url, offset),
                             0, true);
  }
  out.close_synced();
  if (!started) {
    std::error_code ec;
    if (offset == 0) fs::remove(incomplete, ec);  // nothing was kept: leave no empty partial file
    api.raise_for_status(r, repo.repo_id(), src.revision, src.file);
    fail("GET {}: unexpected HTTP {}", r.url, r.status);
  }
  std::uint64_t have = file_size_or_zero(incomplete);
  if (src.size && have != *src.size) {
    progress.finish(false);
    throw HttpTransportError(
        fmt::format("GET {}: connection ended after {} of {} bytes", r.url, have, *src.size), 0, true);
  }
  progress.finish(true);
}

}  // namespace

namespace {
// Decimal digits at `pos` (at least one, no sign, no overflow), advancing `pos`.
std::optional<std::uint64_t> read_decimal(const std::string& s, std::size_t& pos) {
  const std::size_t start = pos;
  std::uint64_t n = 0;
  for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
    const auto digit = static_cast<std::uint64_t>(s[pos] - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
  }
  if (pos == start) return std::nullopt;
  return n;
}
}  // namespace

std::optional<std::uint64_t> content_range_start(const std::string& value, std::optional<std::uint64_t>* total) {
  // Strict: sscanf's %llu would accept "-1" (as 2^64 - 1) and saturate on overflow.
  const std::string prefix = "bytes ";
  if (value.rfind(prefix, 0) != 0) return std::nullopt;
  std::size_t pos = prefix.size();
  const auto first = read_decimal(value, pos);
  if (!first || pos >= value.size() || value[pos] != '-') return std::nullopt;
  ++pos;
  const auto last = read_decimal(value, pos);
  if (!last || *last < *first || pos >= value.size() || value[pos] != '/') return std::nullopt;
  ++pos;
  if (value.compare(pos, std::string::npos, "*") == 0) return first;
  const auto whole = read_decimal(value, pos);
  if (!whole || pos != value.size() || *last >= *whole) return std::nullopt;
  *total = whole;
  return first;
}

FetchResult fetch_blob(HubApi& api, const CacheRepo& repo, const BlobSource& src, const FetchOptions& options) {
  TransferProgress& progress = *options.progress;
  fs::path blob = repo.blob_path(src.hash);
  fs::path incomplete = repo.incomplete_path(src.hash);
  make_dirs(repo.blobs_dir());
  BlobLock lock(repo.root() / ".locks" / repo_folder_name(repo.repo_id()) / (src.hash + ".lock"), progress, src.file);

  FetchResult result;
  std::error_code ec;
  if (fs::is_regular_file(blob, ec) && (!src.size || file_size_or_zero(blob) == *src.size)) {
    result.outcome = FetchOutcome::kAlreadyPresent;  // another process finished it while we waited
    result.size = file_size_or_zero(blob);
    return result;
  }

  HashKind kind = hash_kind_of(src.hash);
  for (int pass = 0;; ++pass) {
    AttemptState state;
    with_retries(
        options.retry, [&] { download_attempt(api, repo, src, incomplete, progress, state); },
        [&](int retry, std::chrono::milliseconds delay, const std::exception& e) {
          progress.note(fmt::format("{}: {}; retry {}/{} in {:.1f} s (resuming at {})", src.file, e.what(), retry,
                                    options.retry.max_retries, delay.count() / 1000.0,
                                    format_bytes(file_size_or_zero(incomplete))));
        });
    result.bytes_transferred += state.transferred;

    std::uint64_t size = file_size_or_zero(incomplete);
    std::string actual;
    if (size >= kShowHashProgressFrom) {
      progress.start(fmt::format("{} (checking {})", src.label, hash_kind_name(kind)), size, 0);
      actual = hash_file(incomplete, kind, [&](std::uint64_t n) { progress.advance(n); });
      progress.finish(true);
    } else {
      actual = hash_file(incomplete, kind);
    }
    if (actual == src.hash) {
      fs::rename(incomplete, blob, ec);
      if (ec) fail("{}: cannot move the verified download into place: {}", blob.string(), ec.message());
      result.outcome = state.resumed ? FetchOutcome::kResumed : FetchOutcome::kDownloaded;
      result.size = size;
      return result;
    }
    fs::remove(incomplete, ec);
    if (state.resumed && pass == 0) {
      // The bytes kept from an earlier attempt may be what is wrong: one fresh download.
      progress.note(fmt::format("{}: {} mismatch after resuming; downloading it again from the start", src.file,
                                hash_kind_name(kind)));
      continue;
    }
    fail("{}@{}: {} mismatch for {}: expected {} (as the Hub reports), got {} for {} bytes from {}; the download "
         "was discarded and nothing was placed in the cache",
         repo.repo_id(), src.revision, hash_kind_name(kind), src.file, src.hash, actual, size, src.url);
  }
}

}  // namespace entroscope::io::hub
