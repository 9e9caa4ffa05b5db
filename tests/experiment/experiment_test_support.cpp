#include "experiment_test_support.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "common/json_file.h"
#include "common/temp_dir.h"
#include "io/safetensors.h"
#include "kernels/threads.h"

namespace entroscope::experiment_test {

void write_demo_items(const fs::path& path, std::size_t n) {
  std::ifstream in(kDemoItems);
  std::string line, out;
  for (std::size_t i = 0; i < n && std::getline(in, line); ++i) out += line + "\n";
  test_util::write_file(path, out);
}

experiment::ExperimentOutcome run_quietly(const fs::path& experiment, const fs::path& out_dir, bool force) {
  kernels::set_thread_count(1);
  experiment::RunSettings settings;
  settings.out_dir = out_dir;
  settings.force = force;
  settings.progress = experiment::ProgressStyle::kNone;
  static std::FILE* null_sink = std::fopen("/dev/null", "w");
  settings.console = null_sink;
  return experiment::run_experiment(experiment, settings);
}

namespace {
std::string executable_stamp() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const auto size = fs::file_size(exe, ec);
  const auto time = fs::last_write_time(exe, ec).time_since_epoch().count();
  return std::to_string(size) + ":" + std::to_string(time);
}
}  // namespace

// Holds an exclusive lock on a file while alive: ctest -j starts several test processes at once,
// and only one of them should compute (or wipe) the demo cache while the others wait for it.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) : fd_(open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

const DemoRun& demo_run() {
  static const DemoRun run = [] {
    DemoRun r;
    const fs::path cache = fs::path(ES_BUILD_DIR) / "test-cache";
    fs::create_directories(cache);
    const FileLock lock(cache / "experiment-demo.lock");
    r.out_dir = cache / "experiment-demo";
    const fs::path stamp_file = r.out_dir / ".test-executable";
    const std::string stamp = executable_stamp();
    std::error_code ec;
    if (!fs::exists(stamp_file, ec) || test_util::read_file(stamp_file) != stamp) fs::remove_all(r.out_dir, ec);
    fs::create_directories(r.out_dir);
    test_util::write_file(stamp_file, stamp);
    r.outcome = run_quietly(kDemoExperiment, r.out_dir);
    return r;
  }();
  return run;
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void write_experiment(const fs::path& dir, const std::string& models, std::size_t items, const std::string& options) {
  write_demo_items(dir / "items.jsonl", items);
  test_util::write_file(dir / "exp.yaml", "models: " + models + "\n" + options + R"(data: items.jsonl
conditions:
  with_context: ["{context}", {text: "{target}", measure: true}]
  no_context: ["<|endoftext|>", {text: "{target}", measure: true}]
contrasts: [with_context - no_context]
statistics: {bootstrap: {samples: 300}}
)");
}

void write_two_model_experiment(const fs::path& dir, std::size_t items, const std::string& options) {
  write_experiment(dir, "[" + (kModelsDir / "demo-gpt2-s").string() + ", " + (kModelsDir / "demo-neox-m").string() + "]",
                   items, options);
}

CommandResult run_cli_experiment(const fs::path& dir, const fs::path& out, const std::string& env) {
  return run_command(env + " " + std::string(ES_BINARY) + " run " + (dir / "exp.yaml").string() + " --out " +
                     out.string() + " --threads 1 --progress none");
}

fs::path make_nan_model(const fs::path& dir) {
  test_util::copy_model_dir(kModelsDir / "demo-gpt2-s", dir);
  std::uint64_t offset = 0;
  {
    io::SafetensorsFile f(dir / "model.safetensors");
    offset = f.at("h.0.attn.c_attn.weight").file_offset;  // F32: element [0, 0]
  }
  std::fstream file(dir / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(reinterpret_cast<const char*>(&nan), sizeof nan);
  return dir;
}

std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  return out;
}

}  // namespace entroscope::experiment_test
