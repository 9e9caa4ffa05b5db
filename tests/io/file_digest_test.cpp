// The remembered sha256 of local files (io/file_digest.h): the cache is used while a file is
// unchanged and never once it has changed; a broken or unwritable cache only costs a rehash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "common/temp_dir.h"
#include "io/file_digest.h"
#include "io/hub_hash.h"

namespace fs = std::filesystem;
using namespace entroscope;

namespace {

// Points ENTROSCOPE_CACHE_DIR at `dir` for the test's lifetime.
class CacheDirFor {
 public:
  explicit CacheDirFor(const fs::path& dir) {
    if (const char* v = std::getenv("ENTROSCOPE_CACHE_DIR")) old_ = v;
    setenv("ENTROSCOPE_CACHE_DIR", dir.c_str(), 1);
  }
  ~CacheDirFor() {
    if (old_) setenv("ENTROSCOPE_CACHE_DIR", old_->c_str(), 1);
    else unsetenv("ENTROSCOPE_CACHE_DIR");
  }

 private:
  std::optional<std::string> old_;
};

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string sha256_of(const std::string& text) { return io::hub::sha256_hex(text); }

}  // namespace

TEST(FileDigest, RemembersAnUnchangedFileAndRehashesAChangedOne) {
  test_util::TempDir dir;
  CacheDirFor cache(dir / "cache");
  const fs::path file = dir / "model.safetensors";
  write(file, "weights, version 1");
  EXPECT_EQ(io::file_sha256(file), sha256_of("weights, version 1"));
  ASSERT_TRUE(fs::exists(io::file_digest_cache_path()));

  // Plant a different digest under the same stat identity: an unchanged file is answered from the
  // cache (this is what saves a 14 GB rehash on every run).
  const std::string planted(64, 'a');
  auto doc = nlohmann::json::parse(test_util::read_file(io::file_digest_cache_path()));
  doc["files"][fs::canonical(file).string()]["sha256"] = planted;
  write(io::file_digest_cache_path(), doc.dump());
  EXPECT_EQ(io::file_sha256(file), planted);

  // Any change to the file (same size, rewritten in place) changes its stat identity: hashed again.
  write(file, "weights, version 2");
  EXPECT_EQ(io::file_sha256(file), sha256_of("weights, version 2"));
  // So does a chmod (status-change time), even if the bytes were put back as they were.
  doc = nlohmann::json::parse(test_util::read_file(io::file_digest_cache_path()));
  doc["files"][fs::canonical(file).string()]["sha256"] = planted;
  write(io::file_digest_cache_path(), doc.dump());
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_EQ(io::file_sha256(file), sha256_of("weights, version 2"));
}

TEST(FileDigest, ABrokenOrUnwritableCacheOnlyCostsARehash) {
  test_util::TempDir dir;
  const fs::path file = dir / "w.bin";
  write(file, "some bytes");
  {
    CacheDirFor cache(dir / "cache");
    fs::create_directories(dir / "cache");
    write(io::file_digest_cache_path(), "{not json");
    EXPECT_EQ(io::file_sha256(file), sha256_of("some bytes"));
    EXPECT_NO_THROW((void)nlohmann::json::parse(test_util::read_file(io::file_digest_cache_path())));
  }
  {
    // The cache folder's place is taken by a file: nothing can be written there.
    write(dir / "blocked", "");
    CacheDirFor cache(dir / "blocked");
    EXPECT_EQ(io::file_sha256(file), sha256_of("some bytes"));
  }
}
