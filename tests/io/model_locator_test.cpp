// resolve_model: directories, bundled demo models, Hub ids found in the local HF cache (no network).
#include <gtest/gtest.h>

#include "common/error.h"
#include "hub/hub_test_support.h"
#include "io/model_locator.h"

using entroscope::io::default_models_dir;
using entroscope::io::resolve_model;
using entroscope::io::ResolvedModel;
namespace fs = std::filesystem;

namespace {

const std::string kMain = "1234567890abcdef1234567890abcdef12345678";
const std::string kStep = "fedcba0987654321fedcba0987654321fedcba09";

std::string error_of(const std::string& spec) {
  try {
    resolve_model(spec);
  } catch (const entroscope::Error& e) {
    return e.what();
  }
  return "(resolved)";
}

class ModelLocator : public ::testing::Test {
 protected:
  ModelLocator()
      : cache_env_("HF_HUB_CACHE", cache_.path().string()),
        models_env_("ENTROSCOPE_MODELS_DIR", (fs::path(ES_SOURCE_DIR) / "models").string()),
        offline_("HF_HUB_OFFLINE", "1") {}

  hubtest::CleanHubEnv clean_;
  hubtest::TempDir cache_;
  hubtest::ScopedEnv cache_env_;
  hubtest::ScopedEnv models_env_;
  hubtest::ScopedEnv offline_;  // resolution never needs the network
};

}  // namespace

TEST_F(ModelLocator, ExistingDirectory) {
  ResolvedModel m = resolve_model(hubtest::fixture_dir("gpt2-tiny").string());
  EXPECT_EQ(m.source, "directory");
  EXPECT_EQ(m.dir, hubtest::fixture_dir("gpt2-tiny").lexically_normal());
  EXPECT_TRUE(m.repo_id.empty());
  EXPECT_TRUE(m.revision.empty());
  EXPECT_TRUE(m.dir.is_absolute());
}

TEST_F(ModelLocator, BundledDemoModelByName) {
  ResolvedModel m = resolve_model("demo-gpt2-s");
  EXPECT_EQ(m.source, "demo");
  EXPECT_EQ(m.spec, "demo-gpt2-s");
  EXPECT_TRUE(fs::exists(m.dir / "config.json"));
  EXPECT_EQ(m.dir.filename(), "demo-gpt2-s");
}

TEST_F(ModelLocator, DefaultModelsDirFollowsTheEnvironmentThenTheExecutable) {
  EXPECT_EQ(default_models_dir(), fs::path(ES_SOURCE_DIR) / "models");
  hubtest::ScopedEnv unset("ENTROSCOPE_MODELS_DIR", std::nullopt);
  // The test binary lives in <build>/tests/, so <exe>/../../models is the source tree's models/
  // when the build folder is inside the source tree (as in the documented build).
  fs::path found = default_models_dir();
  if (fs::path(ES_BUILD_DIR).parent_path() == fs::path(ES_SOURCE_DIR)) {
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(fs::canonical(found), fs::canonical(fs::path(ES_SOURCE_DIR) / "models"));
  }
}

TEST_F(ModelLocator, HubIdFromTheLocalCache) {
  fs::path snap = hubtest::install_in_cache(cache_.path(), "openai-community/gpt2", "main", kMain,
                                            hubtest::fixture_dir("gpt2-tiny"), {"config.json", "model.safetensors"});
  for (const char* spec : {"openai-community/gpt2", "gpt2"}) {
    ResolvedModel m = resolve_model(spec);
    EXPECT_EQ(m.source, "hf-cache") << spec;
    EXPECT_EQ(m.spec, spec);
    EXPECT_EQ(m.repo_id, "openai-community/gpt2");
    EXPECT_EQ(m.revision, "main");
    EXPECT_EQ(m.commit, kMain);
    EXPECT_EQ(m.dir, snap);
  }
  // By commit hash as well.
  ResolvedModel by_commit = resolve_model("openai-community/gpt2@" + kMain);
  EXPECT_EQ(by_commit.commit, kMain);
  EXPECT_EQ(by_commit.revision, kMain);
}

TEST_F(ModelLocator, RevisionsOfAScalingSeries) {
  hubtest::install_in_cache(cache_.path(), "EleutherAI/pythia-410m", "main", kMain,
                            hubtest::fixture_dir("gpt2-tiny"), {"config.json", "model.safetensors"});
  fs::path step = hubtest::install_in_cache(cache_.path(), "EleutherAI/pythia-410m", "step143000", kStep,
                                            hubtest::fixture_dir("gpt2-tiny-sharded"));
  ResolvedModel m = resolve_model("EleutherAI/pythia-410m@step143000");
  EXPECT_EQ(m.revision, "step143000");
  EXPECT_EQ(m.commit, kStep);
  EXPECT_EQ(m.dir, step);
  EXPECT_EQ(resolve_model("EleutherAI/pythia-410m").commit, kMain);

  std::string msg = error_of("EleutherAI/pythia-410m@step1000");
  EXPECT_NE(msg.find("no revision 'step1000'; cached refs: main, step143000"), std::string::npos) << msg;
  EXPECT_NE(msg.find("entroscope pull EleutherAI/pythia-410m@step1000"), std::string::npos) << msg;
}

TEST_F(ModelLocator, LegacyCacheFolderOfOldTransformers) {
  fs::path snap = hubtest::install_in_cache(cache_.path(), "gpt2-medium", "main", kMain,
                                            hubtest::fixture_dir("gpt2-tiny"), {"config.json", "model.safetensors"});
  ResolvedModel m = resolve_model("gpt2-medium");
  EXPECT_EQ(m.repo_id, "gpt2-medium");
  EXPECT_EQ(m.dir, snap);
}

TEST_F(ModelLocator, CacheRootFromHfHome) {
  hubtest::TempDir home;
  hubtest::ScopedEnv no_hub_cache("HF_HUB_CACHE", std::nullopt);
  hubtest::ScopedEnv hf_home("HF_HOME", home.path().string());
  fs::path snap = hubtest::install_in_cache(home / "hub", "test-org/m", "main", kMain,
                                            hubtest::fixture_dir("gpt2-tiny"), {"config.json", "model.safetensors"});
  EXPECT_EQ(resolve_model("test-org/m").dir, snap);
}

TEST_F(ModelLocator, IncompleteSnapshotSaysWhatIsMissing) {
  hubtest::install_in_cache(cache_.path(), "test-org/half", "main", kMain, hubtest::fixture_dir("gpt2-tiny"),
                            {"config.json"});
  std::string msg = error_of("test-org/half");
  EXPECT_NE(msg.find("is not usable: no model.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("entroscope pull test-org/half"), std::string::npos) << msg;
}

TEST_F(ModelLocator, NotFoundSaysWhatWasTriedAndSuggestsPull) {
  std::string msg = error_of("gpt2-xl");
  EXPECT_NE(msg.find("model 'gpt2-xl': not a directory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a demo model in"), std::string::npos) << msg;
  EXPECT_NE(msg.find("demo-gpt2-s"), std::string::npos) << msg;  // lists the demo names
  EXPECT_NE(msg.find("not in the Hugging Face cache at " + cache_.path().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("models--openai-community--gpt2-xl"), std::string::npos) << msg;
  EXPECT_NE(msg.find("`entroscope pull openai-community/gpt2-xl`"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);

  msg = error_of("./no/such/dir");
  EXPECT_NE(msg.find("model './no/such/dir': no such directory"), std::string::npos) << msg;
  msg = error_of("not an id!");
  EXPECT_NE(msg.find("not a Hugging Face id"), std::string::npos) << msg;
  msg = error_of((hubtest::fixture_dir("gpt2-tiny") / "config.json").string());
  EXPECT_NE(msg.find("is a file, not a model folder"), std::string::npos) << msg;
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
}
