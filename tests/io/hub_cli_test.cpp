// The entroscope binary's Hub commands end to end, against the mock Hub: `pull` with HF_ENDPOINT /
// HF_TOKEN / HF_HUB_OFFLINE from the environment, a pulled model loading with `info --model ID`,
// `ls`, `cache verify` finding a corrupt blob, and one-line errors with exit status 1.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <fstream>

#include "hub/hub_test_support.h"
#include "io/hub_cache.h"

namespace fs = std::filesystem;
using nlohmann::json;
using Env = std::map<std::string, std::optional<std::string>>;

namespace {

const std::string kDemoCommit = "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3";
const std::string kShardCommit = "e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4";
const std::string kToken = "hf_clitoken";

json cli_hub_config() {
  json c;
  c["repos"]["test-org/demo-gpt2-s"] = {
      {"commits", {{kDemoCommit, {{"files", hubtest::repo_files(hubtest::demo_dir("demo-gpt2-s"))}}}}},
      {"refs", {{"main", kDemoCommit}}},
      {"private", true}};
  c["repos"]["test-org/gpt2-tiny-sharded"] = {
      {"commits",
       {{kShardCommit,
         {{"files", hubtest::repo_files(hubtest::fixture_dir("gpt2-tiny-sharded"),
                                        {"config.json", "model.safetensors.index.json",
                                         "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"})}}}}},
      {"refs", {{"main", kShardCommit}}}};
  c["token"] = kToken;
  return c;
}

class HubCli : public ::testing::Test {
 protected:
  // Every run gets a clean Hub environment pointing at the test cache.
  Env env(Env extra = {}) const {
    Env e = {{"HF_HUB_CACHE", cache_.path().string()},
             {"HF_HOME", (cache_ / "hf-home").string()},
             {"HF_TOKEN", std::nullopt},
             {"HUGGING_FACE_HUB_TOKEN", std::nullopt},
             {"HF_HUB_OFFLINE", std::nullopt},
             {"HF_ENDPOINT", std::nullopt},
             {"NO_PROXY", "127.0.0.1,localhost"},
             {"no_proxy", "127.0.0.1,localhost"},
             {"http_proxy", std::nullopt},
             {"HTTP_PROXY", std::nullopt}};
    for (auto& [k, v] : extra) e[k] = v;
    return e;
  }
  hubtest::ProcessResult run(std::vector<std::string> args, const Env& e) const {
    args.insert(args.begin(), ES_BINARY);
    return hubtest::run_process(args, e, std::chrono::seconds(60));
  }
  static int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

  hubtest::TempDir cache_;
};

}  // namespace

TEST_F(HubCli, PulledModelLoadsByHubIdWithoutNetwork) {
  hubtest::MockHub hub(cli_hub_config());
  auto pulled = run({"pull", "test-org/demo-gpt2-s"}, env({{"HF_ENDPOINT", hub.endpoint()}, {"HF_TOKEN", kToken}}));
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.out.find("test-org/demo-gpt2-s@main: commit " + kDemoCommit), std::string::npos) << pulled.out;
  EXPECT_NE(pulled.out.find("model.safetensors"), std::string::npos);
  EXPECT_NE(pulled.out.find("tokenizer.json"), std::string::npos);
  EXPECT_NE(pulled.out.find("use it with: --model test-org/demo-gpt2-s"), std::string::npos) << pulled.out;
  // stderr is not a terminal here: plain progress lines, no carriage returns or escape codes.
  EXPECT_EQ(pulled.err.find('\r'), std::string::npos) << pulled.err;
  EXPECT_EQ(pulled.err.find('\x1b'), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("model.safetensors: done"), std::string::npos) << pulled.err;
  for (const auto& req : hub.requests_to("/test-org/")) EXPECT_EQ(req["auth"], "Bearer " + kToken);

  auto sharded = run({"pull", "test-org/gpt2-tiny-sharded", "--quiet"}, env({{"HF_ENDPOINT", hub.endpoint()}}));
  ASSERT_EQ(sharded.exit_code, 0) << sharded.err;
  EXPECT_EQ(sharded.err, "");

  // A cache written by pull loads, by Hub id, with the network switched off.
  std::size_t requests = hub.requests().size();
  for (const char* id : {"test-org/demo-gpt2-s", "test-org/gpt2-tiny-sharded"}) {
    auto info = run({"info", "--model", id}, env({{"HF_HUB_OFFLINE", "1"}, {"HF_ENDPOINT", hub.endpoint()}}));
    EXPECT_EQ(info.exit_code, 0) << id << ": " << info.err;
    EXPECT_FALSE(info.out.empty()) << id;
  }
  EXPECT_EQ(hub.requests().size(), requests);

  // Offline pull of a cached model answers from the cache.
  auto offline = run({"pull", "test-org/demo-gpt2-s"}, env({{"HF_HUB_OFFLINE", "1"}, {"HF_ENDPOINT", hub.endpoint()}}));
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_NE(offline.out.find("offline"), std::string::npos) << offline.out;
  EXPECT_EQ(hub.requests().size(), requests);
}

TEST_F(HubCli, LsAndCacheVerify) {
  hubtest::install_in_cache(cache_.path(), "test-org/gpt2-tiny", "main", kShardCommit,
                            hubtest::fixture_dir("gpt2-tiny"), {"config.json", "model.safetensors"});
  auto ls = run({"ls", "--json"}, env());
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  json j = json::parse(ls.out);
  EXPECT_EQ(j["cache"], cache_.path().string());
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["repo_id"], "test-org/gpt2-tiny");
  EXPECT_EQ(j["models"][0]["snapshots"][0]["refs"][0], "main");
  EXPECT_EQ(j["models"][0]["snapshots"][0]["loadable"], true);

  auto table = run({"ls"}, env());
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("test-org/gpt2-tiny"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(kShardCommit.substr(0, 8)), std::string::npos) << table.out;

  auto ok = run({"cache", "verify"}, env());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("test-org/gpt2-tiny: 2 blob(s) checked, all ok"), std::string::npos) << ok.out;

  entroscope::io::hub::CacheRepo repo(cache_.path(), "test-org/gpt2-tiny");
  fs::path blob = repo.blob_path(*repo.linked_blob(kShardCommit, "model.safetensors"));
  fs::resize_file(blob, 4096);  // a truncated download
  auto bad = run({"cache", "verify", "test-org/gpt2-tiny"}, env());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("CORRUPT"), std::string::npos) << bad.out;
  EXPECT_EQ(count_lines(bad.err), 1) << bad.err;
  EXPECT_NE(bad.err.find("entroscope: error: cache verify: 1 bad blob(s) in test-org/gpt2-tiny"), std::string::npos)
      << bad.err;

  auto fixed = run({"cache", "verify", "--delete-corrupt", "--json", "test-org/gpt2-tiny"}, env());
  EXPECT_EQ(fixed.exit_code, 1);
  json jf = json::parse(fixed.out);
  EXPECT_EQ(jf["ok"], false);
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_EQ(run({"cache", "verify", "test-org/gpt2-tiny"}, env()).exit_code, 0);
}

TEST_F(HubCli, ErrorsAreOneLineWithExitStatusOne) {
  hubtest::MockHub hub(cli_hub_config());
  auto missing = run({"pull", "test-org/nope"}, env({{"HF_ENDPOINT", hub.endpoint()}}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(count_lines(missing.err), 1) << missing.err;
  EXPECT_EQ(missing.err.rfind("entroscope: error: test-org/nope: repository not found", 0), 0u) << missing.err;

  auto no_token = run({"pull", "test-org/demo-gpt2-s"}, env({{"HF_ENDPOINT", hub.endpoint()}}));
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_NE(no_token.err.find("HTTP 401"), std::string::npos) << no_token.err;
  EXPECT_NE(no_token.err.find("HF_TOKEN"), std::string::npos) << no_token.err;

  auto offline = run({"pull", "test-org/gpt2-tiny-sharded"}, env({{"HF_HUB_OFFLINE", "1"}, {"HF_ENDPOINT", hub.endpoint()}}));
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_NE(offline.err.find("HF_HUB_OFFLINE is set"), std::string::npos) << offline.err;

  auto not_cached = run({"info", "--model", "test-org/gpt2-tiny-sharded"}, env({{"HF_HUB_OFFLINE", "1"}}));
  EXPECT_EQ(not_cached.exit_code, 1);
  EXPECT_NE(not_cached.err.find("entroscope pull test-org/gpt2-tiny-sharded"), std::string::npos) << not_cached.err;

  auto bad_id = run({"pull", "a/b/c"}, env());
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_NE(bad_id.err.find("is not a Hugging Face model id"), std::string::npos) << bad_id.err;
}

// Hub ids of every family resolve from the cache (a revision such as an OLMo-2 intermediate
// checkpoint by its branch name), with no network.
TEST_F(HubCli, EveryFamilyLoadsByHubIdAndRevisionFromTheCache) {
  const std::string kCommit = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
  const std::pair<const char*, const char*> families[] = {
      {"EleutherAI/gpt-neo-tiny", "gpt-neo-tiny"}, {"EleutherAI/gpt-j-tiny", "gptj-tiny"},
      {"facebook/opt-tiny", "opt-350m-tiny"},      {"meta-llama/llama-tiny", "llama3-tiny"},
      {"mistralai/mistral-tiny", "mistral-tiny"},  {"Qwen/qwen2-tiny", "qwen2-tiny"},
      {"Qwen/qwen3-tiny", "qwen3-tiny"},           {"allenai/olmo2-tiny", "olmo2-tiny"}};
  for (const auto& [id, fixture] : families) {
    hubtest::install_in_cache(cache_.path(), id, "stage1-step1000", kCommit, hubtest::fixture_dir(fixture),
                              {"config.json", "model.safetensors"});
    auto r = run({"info", "--model", std::string(id) + "@stage1-step1000", "--json"}, env({{"HF_HUB_OFFLINE", "1"}}));
    ASSERT_EQ(r.exit_code, 0) << id << ": " << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["architecture"], json::parse(hubtest::read_file(hubtest::fixture_dir(fixture) / "config.json"))["model_type"])
        << id;
  }
}

// A family's tokenizer comes from the same cache snapshot as its weights: `tokenize --tokenizer
// ID@revision` (and every command that reads text) finds tokenizer.json and tokenizer_config.json
// there; Mistral's config adds <s>.
TEST_F(HubCli, FamilyTokenizersResolveFromTheCache) {
  const std::string kCommit = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
  const fs::path qwen3_tokenizer = fs::path(ES_BUILD_DIR) / "test-data" / "tokenizer" / "qwen3";
  const fs::path mistral_tokenizer = fs::path(ES_TEST_DATA_DIR) / "tokenizer" / "mistral-sp";
  struct Case {
    const char* id;
    const char* fixture;
    fs::path tokenizer_dir;
    const char* want;
  };
  const Case cases[] = {{"Qwen/qwen3-tiny", "qwen3-tiny", qwen3_tokenizer, "{\"ids\":[9707,1879]}\n"},
                        {"mistralai/mistral-tiny", "mistral-tiny", mistral_tokenizer, "{\"ids\":[1,22557,1526]}\n"}};
  for (const Case& c : cases) {
    // The snapshot: the weights' fixture plus the real tokenizer files.
    hubtest::TempDir repo;
    for (const char* file : {"config.json", "model.safetensors"}) fs::copy_file(hubtest::fixture_dir(c.fixture) / file, repo.path() / file);
    for (const char* file : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(c.tokenizer_dir / file, repo.path() / file);
    hubtest::install_in_cache(cache_.path(), c.id, "main", kCommit, repo.path());
    hubtest::TempDir io;
    const fs::path input = io.path() / "in.jsonl";
    std::ofstream(input) << "{\"text\": \"Hello world\"}\n";
    auto r = hubtest::run_process({"/bin/sh", "-c", std::string("'") + ES_BINARY + "' tokenize --tokenizer " + c.id +
                                                        " --add-special-tokens < '" + input.string() + "'"},
                                  env({{"HF_HUB_OFFLINE", "1"}}), std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << c.id << ": " << r.err;
    EXPECT_EQ(r.out, c.want) << c.id;
  }
}

// `score` fetches a Hub id that is not cached yet (as transformers does), once; HF_HUB_OFFLINE and
// --offline keep it from the network.
TEST_F(HubCli, ScoreFetchesAHubIdOnFirstUse) {
  hubtest::MockHub hub(cli_hub_config());
  const Env online = env({{"HF_ENDPOINT", hub.endpoint()}, {"HF_TOKEN", kToken}});
  auto refused = run({"score", "--model", "test-org/demo-gpt2-s", "--text", "Hello", "--offline"}, online);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("entroscope pull test-org/demo-gpt2-s"), std::string::npos) << refused.err;
  auto offline = run({"score", "--model", "test-org/demo-gpt2-s", "--text", "Hello"},
                     env({{"HF_ENDPOINT", hub.endpoint()}, {"HF_TOKEN", kToken}, {"HF_HUB_OFFLINE", "1"}}));
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_TRUE(hub.requests_to("/test-org/").empty());

  auto first = run({"score", "--model", "test-org/demo-gpt2-s", "--text", "Hello"}, online);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("test-org/demo-gpt2-s is not in the local cache"), std::string::npos) << first.err;
  EXPECT_EQ(first.out.rfind("model\trevision\t", 0), 0u) << first.out;
  EXPECT_NE(first.out.find("test-org/demo-gpt2-s\t" + kDemoCommit), std::string::npos) << first.out;
  const std::size_t requests = hub.requests().size();
  auto second = run({"score", "--model", "test-org/demo-gpt2-s", "--text", "Hello"}, online);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.err.find("downloading"), std::string::npos) << second.err;
  EXPECT_EQ(hub.requests().size(), requests);
  EXPECT_EQ(second.out, first.out);
}

// `run` fetches the Hub ids of its spec that are not cached before it starts; --offline refuses.
TEST_F(HubCli, RunFetchesMissingModelsBeforeItStarts) {
  hubtest::MockHub hub(cli_hub_config());
  hubtest::TempDir work;
  const fs::path items = fs::path(ES_SOURCE_DIR) / "models" / "demo-experiment" / "items.jsonl";
  std::ofstream(work.path() / "exp.yaml") << "models: [test-org/demo-gpt2-s]\ndata: " << items.string()
                                          << "\nconditions:\n  no_context: [\"<|endoftext|>\", {text: \"{target}\", "
                                             "measure: true}]\n";
  const Env online = env({{"HF_ENDPOINT", hub.endpoint()}, {"HF_TOKEN", kToken}});
  auto refused = run({"run", (work.path() / "exp.yaml").string(), "--out", (work.path() / "out").string(), "--offline"},
                     online);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("test-org/demo-gpt2-s"), std::string::npos) << refused.err;
  auto fetched = run({"run", (work.path() / "exp.yaml").string(), "--out", (work.path() / "out").string(),
                      "--progress", "none"},
                     online);
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_NE(fetched.err.find("test-org/demo-gpt2-s is not in the local cache"), std::string::npos) << fetched.err;
  EXPECT_NE(fetched.out.find("demo-gpt2-s"), std::string::npos) << fetched.out;
}

// A pull killed (SIGKILL) in the middle of the weights: only the .incomplete part is left, never a
// blob under its final name (blobs are renamed into place after their hash checks out, so `cache
// verify` never sees a wrong one); the same pull again resumes with a Range request and the cache
// verifies.
TEST_F(HubCli, KilledPullResumesAndLeavesNoWrongBlob) {
  json config = cli_hub_config();
  config["faults"] = json::array(
      {{{"kind", "stall"}, {"file", "model.safetensors"}, {"after", 300000}, {"seconds", 30}, {"times", 1}}});
  hubtest::MockHub hub(config);
  const Env e = env({{"HF_ENDPOINT", hub.endpoint()}, {"HF_TOKEN", kToken}});
  auto killed = hubtest::run_process({ES_BINARY, "pull", "test-org/demo-gpt2-s"}, e, std::chrono::seconds(3));
  ASSERT_EQ(killed.exit_code, -2) << "the pull was expected to hang on the stalled download and be killed\n"
                                  << killed.err;
  entroscope::io::hub::CacheRepo repo(cache_.path(), "test-org/demo-gpt2-s");
  const std::string weights = hubtest::hub_hash_of(hubtest::demo_dir("demo-gpt2-s") / "model.safetensors");
  EXPECT_FALSE(fs::exists(repo.blob_path(weights)));
  ASSERT_TRUE(fs::exists(repo.incomplete_path(weights)));
  const std::uintmax_t part = fs::file_size(repo.incomplete_path(weights));  // what reached the disk
  EXPECT_GT(part, 0u);
  EXPECT_LE(part, 300000u);

  auto again = run({"pull", "test-org/demo-gpt2-s"}, e);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto cdn = hub.requests_to("/cdn/");
  ASSERT_FALSE(cdn.empty());
  EXPECT_EQ(cdn.back()["range"], fmt::format("bytes={}-", part));
  EXPECT_FALSE(fs::exists(repo.incomplete_path(weights)));
  EXPECT_EQ(hubtest::read_file(repo.blob_path(weights)),
            hubtest::read_file(hubtest::demo_dir("demo-gpt2-s") / "model.safetensors"));
  auto verify = run({"cache", "verify", "test-org/demo-gpt2-s"}, env());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("all ok"), std::string::npos) << verify.out;
}
