#include "common/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"
#include "common/fault_point.h"

namespace entroscope {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_write(const fs::path& path, const fs::path& tmp, int fd, int error) {
  if (fd >= 0) ::close(fd);
  std::error_code ec;
  fs::remove(tmp, ec);
  fail("{}: cannot write: {} (nothing was written)", path.string(), std::strerror(error));
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += fmt::format(".tmp.{}", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_write(path, tmp, -1, errno);
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_write(path, tmp, fd, n < 0 ? errno : ENOSPC);
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail_write(path, tmp, fd, errno);
  if (::close(fd) != 0) fail_write(path, tmp, -1, errno);
  fault_point("atomic-write-before-rename");
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_write(path, tmp, -1, errno);
  // The rename itself reaches the disk with the folder's metadata (best effort: some file
  // systems refuse fsync on a folder, and the file is complete either way).
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

bool is_atomic_write_leftover(const std::string& name) {
  const std::size_t at = name.rfind(".tmp.");
  if (at == std::string::npos || at == 0 || at + 5 == name.size()) return false;
  return name.find_first_not_of("0123456789", at + 5) == std::string::npos;
}

std::size_t remove_atomic_write_leftovers(const fs::path& dir) {
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && is_atomic_write_leftover(entry.path().filename().string())) {
      if (fs::remove(entry.path(), ec)) ++removed;
    }
  }
  return removed;
}

}  // namespace entroscope
