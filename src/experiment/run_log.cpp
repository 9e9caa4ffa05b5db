#include "experiment/run_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/interrupt_notice.h"
#include "experiment/utc_time.h"

namespace entroscope::experiment {

RunLog::RunLog(const std::filesystem::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) fail("{}: cannot create log file: {}", path.string(), std::strerror(errno));
  set_interrupt_log_fd(fileno(file_));  // an interruption is noted here too
}

RunLog::~RunLog() {
  set_interrupt_log_fd(-1);
  if (file_) std::fclose(file_);
}

void RunLog::line(const std::string& text) {
  const std::string record = fmt::format("{} {}\n", utc_iso(std::chrono::system_clock::now()), text);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0)
    fail("{}: cannot write the log: {}", path_.string(), std::strerror(errno));
}

}  // namespace entroscope::experiment
