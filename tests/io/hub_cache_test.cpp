// The Hugging Face cache: where it is (the Hub's env precedence) and its layout.
#include <gtest/gtest.h>

#include "common/error.h"
#include "hub/hub_test_support.h"
#include "io/hub_cache.h"
#include "io/hub_id.h"

using namespace entroscope::io::hub;
namespace fs = std::filesystem;

TEST(HubCacheRoot, FollowsTheHubsPrecedence) {
  hubtest::CleanHubEnv clean;
  hubtest::ScopedEnv home("HOME", "/home/researcher");
  EXPECT_EQ(default_cache_root(), fs::path("/home/researcher/.cache/huggingface/hub"));
  {
    hubtest::ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(default_cache_root(), fs::path("/xdg/huggingface/hub"));
    hubtest::ScopedEnv hf_home("HF_HOME", "/data/hf");
    EXPECT_EQ(default_cache_root(), fs::path("/data/hf/hub"));
    hubtest::ScopedEnv legacy("HUGGINGFACE_HUB_CACHE", "/legacy/cache");
    EXPECT_EQ(default_cache_root(), fs::path("/legacy/cache"));
    hubtest::ScopedEnv hub_cache("HF_HUB_CACHE", "~/models-cache");
    EXPECT_EQ(default_cache_root(), fs::path("/home/researcher/models-cache"));
  }
  hubtest::ScopedEnv empty("HF_HUB_CACHE", "");  // set but empty: ignored
  EXPECT_EQ(default_cache_root(), fs::path("/home/researcher/.cache/huggingface/hub"));
}

TEST(HubCacheLayout, RepoFolderNames) {
  EXPECT_EQ(repo_folder_name("openai-community/gpt2"), "models--openai-community--gpt2");
  EXPECT_EQ(repo_folder_name("gpt2"), "models--gpt2");
  EXPECT_EQ(repo_id_from_folder("models--EleutherAI--pythia-410m"), "EleutherAI/pythia-410m");
  EXPECT_EQ(repo_id_from_folder("models--gpt2"), "gpt2");
  EXPECT_FALSE(repo_id_from_folder("datasets--org--data"));
  EXPECT_FALSE(repo_id_from_folder(".locks"));
  EXPECT_FALSE(repo_id_from_folder("models--"));
}

TEST(HubCacheLayout, SafeNames) {
  EXPECT_TRUE(is_safe_repo_path("config.json"));
  EXPECT_TRUE(is_safe_repo_path("onnx/model.onnx"));
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a\\b", "a/"}) {
    EXPECT_FALSE(is_safe_repo_path(bad)) << bad;
  }
  EXPECT_TRUE(is_blob_hash("ce013625030ba8dba906f756967f9e9ca394464a"));
  EXPECT_TRUE(is_blob_hash(std::string(64, 'a')));
  EXPECT_FALSE(is_blob_hash("../../etc/passwd"));
  EXPECT_FALSE(is_blob_hash(std::string(64, 'g')));
}

TEST(HubCacheLayout, LinksRefsAndRevisions) {
  hubtest::TempDir tmp;
  CacheRepo repo(tmp.path(), "org/model");
  EXPECT_FALSE(repo.exists());
  const std::string commit = "1111111111111111111111111111111111111111";
  const std::string blob = "ce013625030ba8dba906f756967f9e9ca394464a";
  hubtest::write_file(repo.blob_path(blob), "hello\n");
  repo.link_snapshot_file(commit, "config.json", blob);
  repo.link_snapshot_file(commit, "sub/dir/file.txt", blob);
  EXPECT_TRUE(repo.exists());

  // Relative links, exactly as huggingface_hub writes them, so a cache can be moved or mounted.
  EXPECT_EQ(fs::read_symlink(repo.snapshot_dir(commit) / "config.json"), fs::path("../../blobs/" + blob));
  EXPECT_EQ(fs::read_symlink(repo.snapshot_dir(commit) / "sub/dir/file.txt"), fs::path("../../../../blobs/" + blob));
  EXPECT_EQ(hubtest::read_file(repo.snapshot_dir(commit) / "sub/dir/file.txt"), "hello\n");
  EXPECT_EQ(repo.linked_blob(commit, "config.json"), blob);
  EXPECT_FALSE(repo.linked_blob(commit, "absent.json"));

  // Re-linking replaces atomically (no error when the link exists).
  repo.link_snapshot_file(commit, "config.json", blob);

  EXPECT_FALSE(repo.resolve_revision("main"));
  repo.write_ref("main", commit);
  repo.write_ref("refs/pr/3", commit);
  repo.write_ref(commit, commit);  // a commit is not a ref: nothing written
  EXPECT_EQ(hubtest::read_file(repo.refs_dir() / "main"), commit);  // no newline, like the Hub's files
  EXPECT_EQ(repo.resolve_revision("main"), commit);
  EXPECT_EQ(repo.resolve_revision("refs/pr/3"), commit);
  EXPECT_EQ(repo.resolve_revision(commit), commit);  // a cached commit resolves to itself
  EXPECT_FALSE(repo.resolve_revision("2222222222222222222222222222222222222222"));
  auto refs = repo.refs();
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].first, "main");
  EXPECT_EQ(refs[1].first, "refs/pr/3");
  EXPECT_EQ(repo.snapshot_commits(), std::vector<std::string>{commit});

  EXPECT_THROW(repo.blob_path("../../x"), entroscope::Error);
  EXPECT_THROW(repo.link_snapshot_file(commit, "../escape", blob), entroscope::Error);
}

TEST(HubCacheLayout, RefFilesWrittenByPythonWithNewlineStillResolve) {
  hubtest::TempDir tmp;
  CacheRepo repo(tmp.path(), "org/model");
  const std::string commit = "3333333333333333333333333333333333333333";
  fs::create_directories(repo.snapshot_dir(commit));
  hubtest::write_file(repo.refs_dir() / "main", commit + "\n");
  EXPECT_EQ(repo.resolve_revision("main"), commit);
}

TEST(HubCacheLookup, FindsCanonicalThenLegacyFolders) {
  hubtest::TempDir tmp;
  const std::string a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  // An old transformers cache: the un-namespaced folder models--gpt2.
  CacheRepo legacy(tmp.path(), "gpt2");
  fs::create_directories(legacy.snapshot_dir(a));
  legacy.write_ref("main", a);

  auto ref = parse_hub_ref("gpt2");
  std::vector<std::string> tried;
  auto loc = locate_snapshot(tmp.path(), *ref, &tried);
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->repo_id, "gpt2");
  EXPECT_EQ(loc->commit, a);
  EXPECT_EQ(loc->dir, legacy.snapshot_dir(a));

  // The canonical folder wins once it exists.
  CacheRepo canonical(tmp.path(), "openai-community/gpt2");
  fs::create_directories(canonical.snapshot_dir(b));
  canonical.write_ref("main", b);
  loc = locate_snapshot(tmp.path(), *ref);
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->repo_id, "openai-community/gpt2");
  EXPECT_EQ(loc->commit, b);

  // A revision that is not cached: nothing, and the message material names what is cached.
  tried.clear();
  EXPECT_FALSE(locate_snapshot(tmp.path(), *parse_hub_ref("gpt2@v9"), &tried));
  ASSERT_EQ(tried.size(), 2u);
  EXPECT_NE(tried[0].find("no revision 'v9'; cached refs: main"), std::string::npos) << tried[0];
}
