// Download progress: byte/rate/ETA formatting, and plain lines (no terminal control) off a terminal.
#include <gtest/gtest.h>

#include <cstdio>

#include "hub/hub_test_support.h"
#include "io/hub_progress.h"

using namespace entroscope::io::hub;

TEST(HubProgress, FormatsBytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1500), "1.50 kB");
  EXPECT_EQ(format_bytes(548105171), "548.1 MB");
  EXPECT_EQ(format_bytes(6431878936ull), "6.43 GB");
  EXPECT_EQ(format_bytes(999999), "1.00 MB");
}

TEST(HubProgress, FormatsDurations) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(7.4), "0:07");
  EXPECT_EQ(format_duration(754), "12:34");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "--:--");
  EXPECT_EQ(format_duration(1.0 / 0.0), "--:--");
}

TEST(HubProgress, StatusLineHasBarPercentBytesRateAndEta) {
  std::string line = format_progress_line("model.safetensors", 250000000, 500000000, 12500000.0, 10);
  EXPECT_EQ(line, "model.safetensors  [=====>    ]   50%  250.0 MB / 500.0 MB  12.5 MB/s  ETA 0:20");
  // Unknown total: bytes only; no rate yet: no ETA.
  EXPECT_EQ(format_progress_line("x", 1234, 0, 0.0, 10), "x  1.23 kB");
  EXPECT_EQ(format_progress_line("x", 0, 1000, 0.0, 0), "x    0%  0 B / 1.00 kB");
}

TEST(HubProgress, LinesModeWritesPlainLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    auto p = make_progress(f, ProgressStyle::kLines, std::chrono::milliseconds(0));
    p->start("[1/2] model.safetensors", 3000, 1000);
    p->advance(1000);
    p->note("a note");
    p->advance(1000);
    p->finish(true);
  }
  std::rewind(f);
  std::string out;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  std::fclose(f);
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_NE(out.find("[1/2] model.safetensors: resuming at 1.00 kB of 3.00 kB\n"), std::string::npos) << out;
  EXPECT_NE(out.find("[1/2] model.safetensors   66%  2.00 kB / 3.00 kB"), std::string::npos) << out;
  EXPECT_NE(out.find("a note\n"), std::string::npos);
  EXPECT_NE(out.find("[1/2] model.safetensors: done, 3.00 kB (resumed at 1.00 kB)"), std::string::npos) << out;
}

TEST(HubProgress, SilentWritesNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto p = make_progress(f, ProgressStyle::kSilent);
  p->start("x", 10, 0);
  p->advance(10);
  p->finish(true);
  p->note("n");
  EXPECT_EQ(std::ftell(f), 0);
  std::fclose(f);
}
