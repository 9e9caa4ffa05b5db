// Which repository files a pull fetches, and when a snapshot folder is loadable.
#include <gtest/gtest.h>

#include "common/error.h"
#include "hub/hub_test_support.h"
#include "io/hub_api.h"
#include "io/hub_files.h"

using namespace entroscope::io::hub;
namespace fs = std::filesystem;

namespace {

RepoRevision listing(std::vector<std::string> names) {
  RepoRevision r;
  r.repo_id = "org/model";
  r.revision = "main";
  r.commit = "1111111111111111111111111111111111111111";
  for (auto& n : names) r.files.push_back(RepoFile{n, 1, "", std::nullopt});
  return r;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const entroscope::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(HubFiles, PicksConfigTokenizerAndSingleSafetensors) {
  auto sel = select_model_files(listing({".gitattributes", "README.md", "config.json", "merges.txt", "vocab.json",
                                         "tokenizer.json", "generation_config.json", "model.safetensors",
                                         "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "onnx/model.onnx"}));
  EXPECT_FALSE(sel.sharded);
  EXPECT_EQ(sel.files, (std::vector<std::string>{"config.json", "tokenizer.json", "vocab.json", "merges.txt",
                                                 "generation_config.json", "model.safetensors"}));
}

TEST(HubFiles, ShardedWeightsViaTheIndex) {
  auto sel = select_model_files(listing({"config.json", "model.safetensors.index.json",
                                         "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
  EXPECT_TRUE(sel.sharded);
  EXPECT_EQ(sel.files, (std::vector<std::string>{"config.json", "model.safetensors.index.json"}));
  EXPECT_EQ(shard_files_from_index(hubtest::fixture_dir("gpt2-tiny-sharded") / "model.safetensors.index.json"),
            (std::vector<std::string>{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
}

TEST(HubFiles, PytorchOnlyRepositoryGetsAClearMessage) {
  std::string msg = error_of([] { select_model_files(listing({"config.json", "pytorch_model.bin", "vocab.json"})); });
  EXPECT_NE(msg.find("org/model@main has only PyTorch pickle weights (pytorch_model.bin)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("safetensors"), std::string::npos);
  msg = error_of([] { select_model_files(listing({"config.json", "README.md"})); });
  EXPECT_NE(msg.find("has no model weights"), std::string::npos) << msg;
  msg = error_of([] { select_model_files(listing({"model.safetensors"})); });
  EXPECT_NE(msg.find("has no config.json"), std::string::npos) << msg;
}

TEST(HubFiles, BadIndexIsRefused) {
  hubtest::TempDir tmp;
  hubtest::write_file(tmp / "a.json", R"({"metadata": {}})");
  hubtest::write_file(tmp / "b.json", R"({"weight_map": {"w": "../../etc/passwd"}})");
  EXPECT_NE(error_of([&] { shard_files_from_index(tmp / "a.json"); }).find("no \"weight_map\""), std::string::npos);
  EXPECT_NE(error_of([&] { shard_files_from_index(tmp / "b.json"); }).find("does not name a file inside"),
            std::string::npos);
}

TEST(HubFiles, SnapshotProblems) {
  EXPECT_FALSE(snapshot_problem(hubtest::fixture_dir("gpt2-tiny")));
  EXPECT_FALSE(snapshot_problem(hubtest::fixture_dir("gpt2-tiny-sharded")));

  hubtest::TempDir tmp;
  EXPECT_NE(snapshot_problem(tmp / "absent")->find("does not exist"), std::string::npos);
  EXPECT_NE(snapshot_problem(tmp.path())->find("no config.json"), std::string::npos);
  hubtest::write_file(tmp / "config.json", "{}");
  EXPECT_NE(snapshot_problem(tmp.path())->find("no model.safetensors"), std::string::npos);
  hubtest::write_file(tmp / "pytorch_model.bin", "x");
  EXPECT_NE(snapshot_problem(tmp.path())->find("only PyTorch pickle weights"), std::string::npos);
  fs::copy_file(hubtest::fixture_dir("gpt2-tiny-sharded") / "model.safetensors.index.json",
                tmp / "model.safetensors.index.json");
  EXPECT_NE(snapshot_problem(tmp.path())->find("shard model-00001-of-00002.safetensors"), std::string::npos);
  fs::create_symlink("../blobs/0000000000000000000000000000000000000000", tmp / "model.safetensors");
  EXPECT_NE(snapshot_problem(tmp.path())->find("links to a missing blob"), std::string::npos);
}
