#pragma once
// A model's log file, written line by line as the run goes (so a crash still leaves a trail),
// each line stamped with the UTC time.
#include <cstdio>
#include <filesystem>
#include <string>

namespace entroscope::experiment {

class RunLog {
 public:
  // Throws Error when the file cannot be created.
  explicit RunLog(const std::filesystem::path& path);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  void line(const std::string& text);

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

}  // namespace entroscope::experiment
