#include "io/hub_progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace entroscope::io::hub {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int terminal_width(std::FILE* out) {
  winsize ws{};
  if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
  return 80;
}

// Shared bookkeeping of the current item.
class ProgressBase : public TransferProgress {
 protected:
  explicit ProgressBase(std::FILE* out) : out_(out) {}

  void begin_item(const std::string& label, std::uint64_t total, std::uint64_t already) {
    label_ = label;
    total_ = total;
    done_ = already;
    resumed_from_ = already;
    started_ = Clock::now();
    active_ = true;
  }
  double rate(Clock::time_point now) const {
    double elapsed = seconds_between(started_, now);
    if (elapsed < 0.2) return 0.0;
    return static_cast<double>(done_ - resumed_from_) / elapsed;
  }
  std::string summary_line(bool ok) const {
    auto now = Clock::now();
    double elapsed = seconds_between(started_, now);
    std::uint64_t moved = done_ - resumed_from_;
    if (!ok) return fmt::format("{}: stopped at {}", label_, format_bytes(done_));
    std::string line = fmt::format("{}: done, {}", label_, format_bytes(done_));
    if (resumed_from_ > 0) line += fmt::format(" (resumed at {})", format_bytes(resumed_from_));
    if (moved > 0 && elapsed > 0.05) {
      line += fmt::format(" in {} ({}/s)", format_duration(elapsed), format_bytes(static_cast<std::uint64_t>(moved / elapsed)));
    }
    return line;
  }

  std::FILE* out_;
  std::string label_;
  std::uint64_t total_ = 0;
  std::uint64_t done_ = 0;
  std::uint64_t resumed_from_ = 0;
  Clock::time_point started_;
  bool active_ = false;
};

class BarProgress final : public ProgressBase {
 public:
  explicit BarProgress(std::FILE* out) : ProgressBase(out) {}

  void start(const std::string& label, std::uint64_t total, std::uint64_t already) override {
    begin_item(label, total, already);
    last_draw_ = Clock::time_point{};
    draw(true);
  }
  void advance(std::uint64_t bytes) override {
    done_ += bytes;
    draw(false);
  }
  void finish(bool ok) override {
    if (!active_) return;
    clear_line();
    fmt::print(out_, "{}\n", summary_line(ok));
    std::fflush(out_);
    active_ = false;
  }
  void note(const std::string& line) override {
    clear_line();
    fmt::print(out_, "{}\n", line);
    if (active_) draw(true);
    std::fflush(out_);
  }

 private:
  void draw(bool force) {
    auto now = Clock::now();
    if (!force && seconds_between(last_draw_, now) < 0.1) return;
    last_draw_ = now;
    int width = terminal_width(out_);
    int bar = total_ > 0 ? std::clamp(width - 70, 10, 40) : 0;
    std::string line = format_progress_line(label_, done_, total_, rate(now), bar);
    if (static_cast<int>(line.size()) > width - 1) line.resize(static_cast<std::size_t>(width - 1));
    fmt::print(out_, "\r{}\x1b[K", line);
    std::fflush(out_);
  }
  void clear_line() { fmt::print(out_, "\r\x1b[K"); }

  Clock::time_point last_draw_;
};

class LineProgress final : public ProgressBase {
 public:
  LineProgress(std::FILE* out, std::chrono::milliseconds interval) : ProgressBase(out), interval_(interval) {}

  void start(const std::string& label, std::uint64_t total, std::uint64_t already) override {
    begin_item(label, total, already);
    last_line_ = Clock::now();
    std::string what = total > 0 ? format_bytes(total) : "size unknown";
    if (already > 0) {
      fmt::print(out_, "{}: resuming at {} of {}\n", label, format_bytes(already), what);
    } else {
      fmt::print(out_, "{}: {}\n", label, what);
    }
    std::fflush(out_);
  }
  void advance(std::uint64_t bytes) override {
    done_ += bytes;
    auto now = Clock::now();
    if (now - last_line_ >= interval_) {
      last_line_ = now;
      fmt::print(out_, "{}\n", format_progress_line(label_, done_, total_, rate(now), 0));
      std::fflush(out_);
    }
  }
  void finish(bool ok) override {
    if (!active_) return;
    fmt::print(out_, "{}\n", summary_line(ok));
    std::fflush(out_);
    active_ = false;
  }
  void note(const std::string& line) override {
    fmt::print(out_, "{}\n", line);
    std::fflush(out_);
  }

 private:
  std::chrono::milliseconds interval_;
  Clock::time_point last_line_;
};

class SilentProgress final : public TransferProgress {
 public:
  void start(const std::string&, std::uint64_t, std::uint64_t) override {}
  void advance(std::uint64_t) override {}
  void finish(bool) override {}
  void note(const std::string&) override {}
};

}  // namespace

std::unique_ptr<TransferProgress> make_progress(std::FILE* out, ProgressStyle style,
                                                std::chrono::milliseconds line_interval) {
  if (style == ProgressStyle::kAuto) style = ::isatty(::fileno(out)) ? ProgressStyle::kBar : ProgressStyle::kLines;
  switch (style) {
    case ProgressStyle::kBar:
      return std::make_unique<BarProgress>(out);
    case ProgressStyle::kLines:
      return std::make_unique<LineProgress>(out, line_interval);
    default:
      return std::make_unique<SilentProgress>();
  }
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes) / 1000.0;
  int unit = 0;
  while (v >= 999.95 && unit < 4) {
    v /= 1000.0;
    ++unit;
  }
  return v < 10.0 ? fmt::format("{:.2f} {}", v, kUnits[unit]) : fmt::format("{:.1f} {}", v, kUnits[unit]);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 360000.0 * 24) return "--:--";
  auto s = static_cast<long long>(std::llround(seconds));
  long long h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, sec);
  return fmt::format("{}:{:02}", m, sec);
}

std::string format_progress_line(const std::string& label, std::uint64_t done, std::uint64_t total,
                                 double bytes_per_second, int bar_width) {
  std::string line = label;
  if (total > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    if (bar_width > 0) {
      int filled = static_cast<int>(frac * bar_width);
      std::string bar(static_cast<std::size_t>(bar_width), ' ');
      for (int i = 0; i < filled; ++i) bar[static_cast<std::size_t>(i)] = '=';
      if (filled < bar_width) bar[static_cast<std::size_t>(filled)] = '>';
      line += fmt::format("  [{}]", bar);
    }
    line += fmt::format("  {:3d}%  {} / {}", static_cast<int>(frac * 100.0), format_bytes(done), format_bytes(total));
  } else {
    line += fmt::format("  {}", format_bytes(done));
  }
  if (bytes_per_second > 0) {
    line += fmt::format("  {}/s", format_bytes(static_cast<std::uint64_t>(bytes_per_second)));
    if (total > done) line += "  ETA " + format_duration(static_cast<double>(total - done) / bytes_per_second);
  }
  return line;
}

}  // namespace entroscope::io::hub
