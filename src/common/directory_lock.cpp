#include "common/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "common/error.h"

namespace entroscope {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[512];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0 && text.size() < 4096;) text.append(buffer, static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

}  // namespace

DirectoryLock::DirectoryLock(const std::filesystem::path& dir, const std::string& what) {
  const std::filesystem::path file = dir / kFileName;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("{}: cannot create the lock file: {}", file.string(), std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = read_all(fd_);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      fail("{}: another entroscope process is writing to this folder ({}); wait for it to finish or choose another "
           "--out",
           dir.string(), holder.empty() ? "holder unknown" : holder);
    }
    fail("{}: cannot lock: {}", file.string(), std::strerror(error));
  }
  taken_over_from_ = read_all(fd_);  // a record left by a run that ended without releasing it
  const std::time_t now = std::time(nullptr);
  char when[32] = {};
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string record = fmt::format("pid {} on {}, started {}: {}\n", ::getpid(), host_name(), when, what);
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    fail("{}: cannot write the lock file: {}", file.string(), std::strerror(error));
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ < 0) return;
  // Empty record = released cleanly; the next run does not report a takeover.
  (void)!::ftruncate(fd_, 0);  // best effort: the record only words a takeover message
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace entroscope
