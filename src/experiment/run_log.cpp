#include "experiment/run_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/interrupt_notice.h"
#include "experiment/utc_time.h"

namespace entroscope::experiment {

RunLog::RunLog(const std::filesystem::path& path) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) fail("{}: cannot create log file: {}", path.string(), std::strerror(errno));
  set_interrupt_log_fd(fileno(file_));  // an interruption is noted here too
}

RunLog::~RunLog() {
  set_interrupt_log_fd(-1);
  if (file_) std::fclose(file_);
}

void RunLog::line(const std::string& text) {
  fmt::print(file_, "{} {}\n", utc_iso(std::chrono::system_clock::now()), text);
  std::fflush(file_);
}

}  // namespace entroscope::experiment
