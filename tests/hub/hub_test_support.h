#pragma once
// Test helpers for the Hub/cache tests (header-only; included by tests/io/hub_*_test.cpp and
// tests/io/model_locator_test.cpp): temporary folders, scoped environment variables, the mock Hub
// server (tests/hub/mock_hub.py) as a child process, running the entroscope binary, and building a
// Hugging Face cache by hand.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "io/hub_cache.h"
#include "io/hub_hash.h"

namespace hubtest {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    fs::path base = fs::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
      fs::path p = base / ("es-hub-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
      std::error_code ec;
      if (fs::create_directory(p, ec)) {
        path_ = p;
        return;
      }
    }
    throw std::runtime_error("cannot create a temporary directory");
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for the scope's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Clears every variable that changes where the Hub code looks or what it sends, so a developer's
// own HF_TOKEN / HF_HOME / proxy never leaks into a test.
class CleanHubEnv {
 public:
  CleanHubEnv() {
    for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT",
                             "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE",
                             "TRANSFORMERS_OFFLINE", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT",
                             "ENTROSCOPE_MODELS_DIR", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                             "all_proxy", "ALL_PROXY"}) {
      vars_.emplace_back(std::make_unique<ScopedEnv>(name, std::nullopt));
    }
    vars_.emplace_back(std::make_unique<ScopedEnv>("NO_PROXY", "127.0.0.1,localhost"));
    vars_.emplace_back(std::make_unique<ScopedEnv>("no_proxy", "127.0.0.1,localhost"));
  }

 private:
  std::vector<std::unique_ptr<ScopedEnv>> vars_;
};

inline fs::path fixture_dir(const std::string& name) { return fs::path(ES_TEST_DATA_DIR) / "models" / name; }
inline fs::path demo_dir(const std::string& name) { return fs::path(ES_SOURCE_DIR) / "models" / name; }

// Files of a local folder (non-recursive) as {name: absolute path}, optionally only some names.
inline nlohmann::json repo_files(const fs::path& dir, const std::vector<std::string>& only = {}) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file()) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    files[name] = fs::absolute(entry.path()).string();
  }
  return files;
}

// The mock Hub (tests/hub/mock_hub.py) on 127.0.0.1:<ephemeral port>, killed when this goes away.
class MockHub {
 public:
  explicit MockHub(nlohmann::json config) {
    if (!config.contains("lifetime_s")) config["lifetime_s"] = 120;
    if (!config.contains("max_requests")) config["max_requests"] = 2000;
    fs::path cfg = dir_ / "config.json";
    write_file(cfg, config.dump(2));
    log_ = dir_ / "requests.jsonl";
    write_file(log_, "");
    fs::path script = fs::path(ES_SOURCE_DIR) / "tests" / "hub" / "mock_hub.py";
    fs::path err = dir_ / "stderr.txt";

    int in_pipe[2], out_pipe[2];
    if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(in_pipe[0], 0);
      ::dup2(out_pipe[1], 1);
      int efd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (efd >= 0) ::dup2(efd, 2);
      ::close(in_pipe[1]);
      ::close(out_pipe[0]);
      ::execl("/usr/bin/python3", "python3", script.c_str(), cfg.c_str(), log_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];
    ::fcntl(stdin_fd_, F_SETFD, FD_CLOEXEC);
    stdout_fd_ = out_pipe[0];

    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{stdout_fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[64];
      ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    if (line.rfind("PORT ", 0) != 0) {
      stop();
      throw std::runtime_error("mock hub did not start: " + read_file(err));
    }
    port_ = std::stoi(line.substr(5));
  }
  ~MockHub() { stop(); }
  MockHub(const MockHub&) = delete;
  MockHub& operator=(const MockHub&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  // Every request so far, oldest first: {"method","path","status","range","auth",...}.
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(read_file(log_));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }
  std::vector<nlohmann::json> requests_to(const std::string& path_prefix) const {
    std::vector<nlohmann::json> out;
    for (auto& r : requests()) {
      if (r["path"].get<std::string>().rfind(path_prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }

 private:
  void stop() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    stdin_fd_ = stdout_fd_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  TempDir dir_;
  fs::path log_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` with extra environment variables set (a value of nullopt unsets one); captures
// stdout/stderr through files; kills it after `timeout`.
inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::optional<std::string>>& env,
                                 std::chrono::seconds timeout = std::chrono::seconds(60)) {
  TempDir tmp;
  fs::path out_path = tmp / "out", err_path = tmp / "err";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    for (const auto& [k, v] : env) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
    int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.exit_code = -2;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (result.exit_code != -2) result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

// The hash the Hub names a file by: sha256 for LFS-style files (weights), git blob sha1 otherwise.
inline std::string hub_hash_of(const fs::path& file) {
  std::string name = file.filename().string();
  bool lfs = name.size() > 12 && (name.ends_with(".safetensors") || name.ends_with(".bin"));
  return entroscope::io::hub::hash_file(file, lfs ? entroscope::io::hub::HashKind::kSha256
                                                  : entroscope::io::hub::HashKind::kGitSha1);
}

// Puts the files of `src_dir` into the cache at `root` as `repo_id` at `commit`, with refs/<ref>
// pointing at it (no ref when empty), exactly as huggingface_hub lays it out. Returns the snapshot.
inline fs::path install_in_cache(const fs::path& root, const std::string& repo_id, const std::string& ref,
                                 const std::string& commit, const fs::path& src_dir,
                                 const std::vector<std::string>& only = {}) {
  entroscope::io::hub::CacheRepo repo(root, repo_id);
  fs::create_directories(repo.blobs_dir());
  for (const auto& entry : fs::directory_iterator(src_dir)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    std::string hash = hub_hash_of(entry.path());
    fs::path blob = repo.blob_path(hash);
    if (!fs::exists(blob)) {
      fs::copy_file(entry.path(), blob);
      fs::permissions(blob, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                fs::perms::others_read);
    }
    repo.link_snapshot_file(commit, name, hash);
  }
  if (!ref.empty()) repo.write_ref(ref, commit);
  return repo.snapshot_dir(commit);
}

}  // namespace hubtest
