#pragma once
// Progress of byte transfers (downloads, re-hashing): a redrawn bar with bytes, rate and ETA when
// the output is a terminal, plain periodic lines otherwise (logs, CI), or nothing.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace entroscope::io::hub {

class TransferProgress {
 public:
  virtual ~TransferProgress() = default;
  // A new item: `total` bytes (0 if unknown), of which `already` are done (a resumed download).
  virtual void start(const std::string& label, std::uint64_t total, std::uint64_t already) = 0;
  virtual void advance(std::uint64_t bytes) = 0;
  // `ok` false: the item failed or will be retried; the bar line is closed without "done".
  virtual void finish(bool ok) = 0;
  // A message line (retry notices, skipped files), printed without breaking the bar.
  virtual void note(const std::string& line) = 0;
};

enum class ProgressStyle {
  kAuto,    // kBar when the stream is a terminal, else kLines
  kBar,
  kLines,
  kSilent,
};

// Writes to `out` (normally stderr). For kLines, a line every `line_interval` while an item runs,
// plus one when it ends.
std::unique_ptr<TransferProgress> make_progress(std::FILE* out, ProgressStyle style,
                                                std::chrono::milliseconds line_interval = std::chrono::seconds(5));

// "0 B", "999 B", "1.5 kB", "548.1 MB", "6.43 GB" (decimal units, as the Hub shows sizes).
std::string format_bytes(std::uint64_t bytes);
// "0:07", "12:34", "1:02:03"; "--:--" for a negative/unknown/absurd value.
std::string format_duration(double seconds);
// One status line: "label  [=====>    ]  45%  250.3 MB / 548.1 MB  12.4 MB/s  ETA 0:24" (the bar only
// when bar_width > 0; percent/ETA only when total > 0; rate/ETA only when rate > 0).
std::string format_progress_line(const std::string& label, std::uint64_t done, std::uint64_t total,
                                 double bytes_per_second, int bar_width);

}  // namespace entroscope::io::hub
