#pragma once
// One writer per output folder: `entroscope run` holds an exclusive flock on DIR/.entroscope.lock
// while it writes there. The kernel drops the lock when the process ends in any way (a kill
// included), so a lock left by a killed run is simply taken over; the file records who holds it
// (pid, host, start time, command) for the refusal message.
#include <filesystem>
#include <string>

namespace entroscope {

class DirectoryLock {
 public:
  // Throws Error naming the folder and the holder when another process holds the lock.
  // `what`: the command, for the holder record ("entroscope run demo.yaml").
  DirectoryLock(const std::filesystem::path& dir, const std::string& what);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

  // Non-empty when the lock file named an earlier holder that is gone (a killed run).
  const std::string& taken_over_from() const { return taken_over_from_; }
  static constexpr const char* kFileName = ".entroscope.lock";

 private:
  int fd_ = -1;
  std::string taken_over_from_;
};

}  // namespace entroscope
