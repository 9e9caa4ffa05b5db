#pragma once
// A temporary directory removed at scope exit, and small file helpers for tests.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace entroscope::test_util {

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() / ("entroscope_test_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary).write(s.data(), static_cast<std::streamsize>(s.size()));
}

// Copies a model directory (files only) into `dest`.
inline void copy_model_dir(const std::filesystem::path& src, const std::filesystem::path& dest) {
  std::filesystem::create_directories(dest);
  for (const auto& e : std::filesystem::directory_iterator(src))
    if (e.is_regular_file()) std::filesystem::copy_file(e.path(), dest / e.path().filename());
}

}  // namespace entroscope::test_util
