// Content hashes the Hub names blobs by: sha256 (LFS) and git blob sha1.
#include <gtest/gtest.h>

#include "common/error.h"
#include "hub/hub_test_support.h"
#include "io/hub_hash.h"

using namespace entroscope::io::hub;

TEST(HubHash, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  hubtest::TempDir tmp;
  hubtest::write_file(tmp / "hello", "hello\n");
  hubtest::write_file(tmp / "empty", "");
  hubtest::write_file(tmp / "abc", "abc");
  // `git hash-object` of the same contents.
  EXPECT_EQ(hash_file(tmp / "hello", HashKind::kGitSha1), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(hash_file(tmp / "empty", HashKind::kGitSha1), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  EXPECT_EQ(hash_file(tmp / "abc", HashKind::kSha256), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HubHash, LargeFileInChunksWithProgress) {
  hubtest::TempDir tmp;
  std::string data(3 * (1 << 20) + 12345, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) & 0xff);
  hubtest::write_file(tmp / "big", data);
  std::uint64_t reported = 0;
  std::string streamed = hash_file(tmp / "big", HashKind::kSha256, [&](std::uint64_t n) { reported += n; });
  EXPECT_EQ(streamed, sha256_hex(data));
  EXPECT_EQ(reported, data.size());
}

TEST(HubHash, KindFromBlobName) {
  EXPECT_EQ(hash_kind_of(std::string(64, 'a')), HashKind::kSha256);
  EXPECT_EQ(hash_kind_of(std::string(40, 'a')), HashKind::kGitSha1);
  EXPECT_THROW(hash_kind_of("main"), entroscope::Error);
}

TEST(HubHash, MissingFileIsAnErrorNamingIt) {
  try {
    hash_file("/nonexistent/blob", HashKind::kSha256);
    FAIL() << "expected an error";
  } catch (const entroscope::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/blob"), std::string::npos);
  }
}
