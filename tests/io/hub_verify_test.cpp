// `ls` (inventory) and `cache verify` on a cache laid out as huggingface_hub writes it.
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "hub/hub_test_support.h"
#include "io/hub_cache.h"
#include "io/hub_inventory.h"
#include "io/hub_verify.h"

using namespace entroscope::io::hub;
namespace fs = std::filesystem;

namespace {

const std::string kCommit = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff";
const std::string kOld = "0123456789abcdef0123456789abcdef01234567";

void flip_byte(const fs::path& p, std::uint64_t offset) {
  fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

const BlobCheck* find_blob(const RepoCheck& check, const std::string& used_by_suffix) {
  for (const auto& b : check.blobs) {
    for (const auto& u : b.used_by) {
      if (u.size() >= used_by_suffix.size() && u.compare(u.size() - used_by_suffix.size(), used_by_suffix.size(), used_by_suffix) == 0)
        return &b;
    }
  }
  return nullptr;
}

}  // namespace

TEST(HubInventory, ListsModelsRevisionsSizesAndFiles) {
  hubtest::TempDir cache;
  hubtest::install_in_cache(cache.path(), "test-org/gpt2-tiny", "main", kCommit, hubtest::fixture_dir("gpt2-tiny"),
                            {"config.json", "model.safetensors"});
  hubtest::install_in_cache(cache.path(), "test-org/gpt2-tiny", "step1000", kOld, hubtest::fixture_dir("gpt2-tiny"),
                            {"config.json"});
  hubtest::install_in_cache(cache.path(), "test-org/sharded", "main", kCommit, hubtest::fixture_dir("gpt2-tiny-sharded"),
                            {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                             "model-00002-of-00002.safetensors"});
  fs::create_directories(cache / "datasets--org--data");  // not a model: ignored
  fs::create_directories(cache / ".locks");

  auto repos = scan_cache(cache.path());
  ASSERT_EQ(repos.size(), 2u);
  const CachedRepo& tiny = repos[0];
  EXPECT_EQ(tiny.repo_id, "test-org/gpt2-tiny");
  ASSERT_EQ(tiny.snapshots.size(), 2u);
  const CachedSnapshot& old = tiny.snapshots[0];  // sorted by commit
  const CachedSnapshot& main = tiny.snapshots[1];
  EXPECT_EQ(old.commit, kOld);
  EXPECT_EQ(old.refs, std::vector<std::string>{"step1000"});
  EXPECT_NE(old.problem.find("no model.safetensors"), std::string::npos);
  EXPECT_EQ(main.refs, std::vector<std::string>{"main"});
  EXPECT_EQ(main.problem, "");
  ASSERT_EQ(main.files.size(), 2u);
  EXPECT_EQ(main.files[1].path, "model.safetensors");
  EXPECT_EQ(main.files[1].size, 1155560u);
  EXPECT_EQ(main.files[1].blob.size(), 64u);
  std::uint64_t config_size = fs::file_size(hubtest::fixture_dir("gpt2-tiny") / "config.json");
  EXPECT_EQ(main.size, 1155560u + config_size);
  EXPECT_EQ(tiny.blob_count, 2u);  // config.json is shared by both snapshots
  EXPECT_EQ(tiny.size_on_disk, 1155560u + config_size);
  EXPECT_EQ(repos[1].repo_id, "test-org/sharded");
  EXPECT_EQ(repos[1].snapshots[0].problem, "");

  nlohmann::json j = to_json(tiny);
  EXPECT_EQ(j["repo_id"], "test-org/gpt2-tiny");
  EXPECT_EQ(j["snapshots"][1]["loadable"], true);
  EXPECT_EQ(j["snapshots"][0]["loadable"], false);

  EXPECT_TRUE(scan_cache(cache / "does-not-exist").empty());
}

TEST(HubVerify, HealthyCacheVerifies) {
  hubtest::TempDir cache;
  hubtest::install_in_cache(cache.path(), "test-org/gpt2-tiny", "main", kCommit, hubtest::fixture_dir("gpt2-tiny"),
                            {"config.json", "model.safetensors"});
  RepoCheck check = verify_repo(cache.path(), "test-org/gpt2-tiny", {});
  EXPECT_EQ(check.problems(), 0u);
  ASSERT_EQ(check.blobs.size(), 2u);
  for (const auto& b : check.blobs) EXPECT_EQ(b.status, BlobStatus::kOk) << b.blob;
  EXPECT_TRUE(check.notes.empty());
  EXPECT_EQ(to_json(check)["ok"], true);
}

TEST(HubVerify, DetectsCorruptionAndCanDeleteIt) {
  hubtest::TempDir cache;
  fs::path snap = hubtest::install_in_cache(cache.path(), "test-org/gpt2-tiny", "main", kCommit,
                                            hubtest::fixture_dir("gpt2-tiny"), {"config.json", "model.safetensors"});
  CacheRepo repo(cache.path(), "test-org/gpt2-tiny");
  std::string blob = *repo.linked_blob(kCommit, "model.safetensors");
  flip_byte(repo.blob_path(blob), 600000);  // one bit pattern changed in the middle of the weights

  RepoCheck check = verify_repo(cache.path(), "test-org/gpt2-tiny", {});
  EXPECT_EQ(check.problems(), 1u);
  const BlobCheck* bad = find_blob(check, "/model.safetensors");
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->status, BlobStatus::kCorrupt);
  EXPECT_EQ(bad->blob, blob);
  EXPECT_NE(bad->actual, blob);
  EXPECT_EQ(bad->used_by, std::vector<std::string>{kCommit + "/model.safetensors"});
  EXPECT_EQ(find_blob(check, "/config.json")->status, BlobStatus::kOk);
  EXPECT_FALSE(bad->deleted);
  EXPECT_TRUE(fs::exists(repo.blob_path(blob)));

  // Only one revision: the same answer.
  VerifyOptions only_main;
  only_main.revision = "main";
  EXPECT_EQ(verify_repo(cache.path(), "test-org/gpt2-tiny", only_main).problems(), 1u);

  VerifyOptions fix;
  fix.delete_corrupt = true;
  RepoCheck fixed = verify_repo(cache.path(), "test-org/gpt2-tiny", fix);
  EXPECT_TRUE(find_blob(fixed, "/model.safetensors")->deleted);
  EXPECT_FALSE(fs::exists(repo.blob_path(blob)));
  EXPECT_FALSE(fs::exists(fs::symlink_status(snap / "model.safetensors")));
  EXPECT_TRUE(fs::exists(snap / "config.json"));
  EXPECT_EQ(verify_repo(cache.path(), "test-org/gpt2-tiny", {}).problems(), 0u);
}

TEST(HubVerify, TruncatedBlobMissingBlobAndPartialDownloads) {
  hubtest::TempDir cache;
  hubtest::install_in_cache(cache.path(), "test-org/gpt2-tiny", "main", kCommit, hubtest::fixture_dir("gpt2-tiny"),
                            {"config.json", "model.safetensors"});
  CacheRepo repo(cache.path(), "test-org/gpt2-tiny");
  std::string weights = *repo.linked_blob(kCommit, "model.safetensors");
  std::string config = *repo.linked_blob(kCommit, "config.json");
  fs::resize_file(repo.blob_path(weights), 1000);  // truncated
  fs::remove(repo.blob_path(config));              // gone
  hubtest::write_file(repo.incomplete_path(std::string(64, 'e')), "partial");

  RepoCheck check = verify_repo(cache.path(), "test-org/gpt2-tiny", {});
  EXPECT_EQ(check.problems(), 2u);
  EXPECT_EQ(find_blob(check, "/model.safetensors")->status, BlobStatus::kCorrupt);
  EXPECT_EQ(find_blob(check, "/model.safetensors")->size, 1000u);
  EXPECT_EQ(find_blob(check, "/config.json")->status, BlobStatus::kMissing);
  ASSERT_EQ(check.notes.size(), 1u);
  EXPECT_NE(check.notes[0].find("unfinished download"), std::string::npos);

  auto repos = scan_cache(cache.path());
  ASSERT_EQ(repos[0].partial.size(), 1u);
  EXPECT_NE(repos[0].snapshots[0].problem.find("config.json links to a missing blob"), std::string::npos)
      << repos[0].snapshots[0].problem;
}

TEST(HubVerify, UnknownRepoOrRevisionIsAnError) {
  hubtest::TempDir cache;
  EXPECT_THROW(verify_repo(cache.path(), "test-org/absent", {}), entroscope::Error);
  hubtest::install_in_cache(cache.path(), "test-org/gpt2-tiny", "main", kCommit, hubtest::fixture_dir("gpt2-tiny"),
                            {"config.json"});
  VerifyOptions o;
  o.revision = "v9";
  try {
    verify_repo(cache.path(), "test-org/gpt2-tiny", o);
    FAIL();
  } catch (const entroscope::Error& e) {
    EXPECT_NE(std::string(e.what()).find("revision 'v9' is not in the cache"), std::string::npos) << e.what();
  }
}
