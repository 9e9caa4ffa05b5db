#include "experiment/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace entroscope::experiment {

namespace {
constexpr double kBarRedrawSeconds = 0.1;
constexpr double kLineIntervalSeconds = 10.0;
constexpr int kBarWidth = 28;
}  // namespace

ProgressStyle default_progress_style() {
  const char* term = std::getenv("TERM");
  if (isatty(fileno(stderr)) && !(term && std::strcmp(term, "dumb") == 0)) return ProgressStyle::kBar;
  return ProgressStyle::kLines;
}

Progress::Progress(std::string label, std::size_t total_items, ProgressStyle style, std::FILE* out, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total_items), style_(style), out_(out),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  // An exception unwound past us: end the bar's line so the error message starts cleanly.
  if (style_ == ProgressStyle::kBar && drawn_ && !finished_) std::fputc('\n', out_);
}

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string Progress::render(double elapsed) const {
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1.0;
  const double fraction = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  std::string stats = fmt::format("{}/{} {}  {:.1f} {}/s  elapsed {}  ETA {}", done_, total_, unit_, rate, unit_,
                                  format_duration(elapsed), done_ == total_ ? "0:00" : format_duration(eta));
  if (style_ != ProgressStyle::kBar) return fmt::format("{}: {:3.0f}%  {}", label_, 100 * fraction, stats);
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar;
  for (int i = 0; i < kBarWidth; ++i) bar += i < filled ? "\u2588" : "\u2591";
  return fmt::format("{} {} {:3.0f}%  {}", label_, bar, 100 * fraction, stats);
}

void Progress::update(std::size_t items_done) {
  done_ = std::min(items_done, total_);
  if (style_ == ProgressStyle::kNone) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (style_ == ProgressStyle::kBar) {
    if (drawn_ && since_draw < kBarRedrawSeconds) return;
    fmt::print(out_, "\r\033[K{}", render(elapsed));
  } else {
    if (since_draw < kLineIntervalSeconds) return;
    fmt::print(out_, "{}\n", render(elapsed));
  }
  std::fflush(out_);
  drawn_ = true;
  last_draw_ = now;
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (style_ == ProgressStyle::kNone) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (style_ == ProgressStyle::kBar)
    fmt::print(out_, "\r\033[K{}\n", render(elapsed));
  else
    fmt::print(out_, "{}\n", render(elapsed));
  std::fflush(out_);
}

}  // namespace entroscope::experiment
