#pragma once
// Progress of one model's scoring on stderr: a redrawn bar with items/s and ETA when stderr is a
// terminal, plain periodic lines otherwise (logs, CI), nothing when quiet.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace entroscope::experiment {

enum class ProgressStyle { kBar, kLines, kNone };

// kBar when stderr is a terminal (and TERM is not "dumb"), else kLines.
ProgressStyle default_progress_style();

class Progress {
 public:
  // unit: what is counted ("items", "resamples").
  Progress(std::string label, std::size_t total_items, ProgressStyle style, std::FILE* out = stderr,
           std::string unit = "items");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::size_t items_done);
  // Ends the bar / prints the last line.
  void finish();

  // "1:05", "12:00:09"; "--:--" for an unknown duration.
  static std::string format_duration(double seconds);

 private:
  std::string render(double elapsed) const;

  std::string label_;
  std::string unit_;
  std::size_t total_;
  std::size_t done_ = 0;
  ProgressStyle style_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
  bool finished_ = false;
};

}  // namespace entroscope::experiment
