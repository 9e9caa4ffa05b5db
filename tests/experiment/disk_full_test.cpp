// A full disk or a read-only folder: `entroscope run` stops with one message that names the file
// and the system's reason, leaves nothing partial (every results file present is complete, no
// temporary files), and a later run with space finishes with the numbers of an unhindered run.
// Uses small tmpfs mounts, so it needs root (CI runs as root); elsewhere it is skipped, saying so.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "common/durable_file.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment_test;

namespace {

struct TmpfsMount {
  fs::path dir;
  bool mounted = false;
  TmpfsMount(const fs::path& d, const std::string& options) : dir(d) {
    fs::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  bool remount(unsigned long flags, const std::string& options) {
    return ::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT | flags, options.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

std::string summary_numbers(const fs::path& out) {
  nlohmann::json scaling = read_json_file(out / "scaling_summary.json");
  for (auto& m : scaling["models"]) {
    m.erase("results_file");
    m.erase("status");
  }
  scaling.erase("experiment_file");
  return scaling.dump();
}

bool can_mount() { return ::geteuid() == 0; }

}  // namespace

TEST(DiskFull, StopsWithOneMessageLeavesNothingPartialAndALaterRunSucceeds) {
  if (!can_mount()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  test_util::TempDir dir;
  write_two_model_experiment(dir.path());
  const CommandResult clean = run_cli_experiment(dir.path(), dir / "clean");
  ASSERT_EQ(clean.status, 0) << clean.output;
  const std::string expected = summary_numbers(dir / "clean");

  int failures = 0;
  // Room for: not even the first per-token file; part of the models; all but the summaries.
  for (const char* size : {"16k", "48k", "76k"}) {
    TmpfsMount disk(dir / fmt::format("disk{}", size), fmt::format("size={}", size));
    if (!disk.mounted) GTEST_SKIP() << "cannot mount tmpfs here";
    const fs::path out = disk.dir / "out";
    const CommandResult full = run_cli_experiment(dir.path(), out);
    if (full.status != 0) {
      ++failures;
      EXPECT_NE(full.output.find("No space left on device"), std::string::npos) << size << "\n" << full.output;
      EXPECT_EQ(full.output.find("nan"), std::string::npos) << full.output;
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec)) {
      const std::string name = e.path().filename().string();
      EXPECT_FALSE(is_atomic_write_leftover(name)) << size << ": " << name;
      if (name.starts_with("experiment_results_") || name.starts_with("scaling_summary.json")) {
        EXPECT_NO_THROW(read_json_file(e.path())) << size << ": " << name;
      }
    }
    ASSERT_TRUE(disk.remount(0, "size=20m")) << "remount";
    const CommandResult later = run_cli_experiment(dir.path(), out);
    ASSERT_EQ(later.status, 0) << size << "\n" << later.output;
    EXPECT_EQ(summary_numbers(out), expected) << size;
  }
  EXPECT_GE(failures, 2);  // the small disks did fill up
}

TEST(DiskFull, ReadOnlyOutputFolderIsOneClearError) {
  if (!can_mount()) GTEST_SKIP() << "needs root to mount a read-only tmpfs";
  test_util::TempDir dir;
  write_two_model_experiment(dir.path());
  TmpfsMount disk(dir / "ro", "size=1m");
  if (!disk.mounted) GTEST_SKIP() << "cannot mount tmpfs here";
  fs::create_directories(disk.dir / "out");
  ASSERT_TRUE(disk.remount(MS_RDONLY, "size=1m"));
  const CommandResult r = run_cli_experiment(dir.path(), disk.dir / "out");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("entroscope: error: " + (disk.dir / "out" / ".entroscope.lock").string() +
                          ": cannot create the lock file: Read-only file system"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}
