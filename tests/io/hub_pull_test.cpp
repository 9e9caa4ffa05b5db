// `pull` against a mock Hub on 127.0.0.1 (tests/hub/mock_hub.py) serving real checkpoints:
// fresh pulls (single file and sharded), revisions, resume of an interrupted download, retries,
// corrupt content refused, 401/403/404 messages, offline mode.
#include <gtest/gtest.h>

#include <cstring>

#include "common/error.h"
#include "hub/hub_test_support.h"
#include "io/hub_cache.h"
#include "io/hub_files.h"
#include "io/hub_id.h"
#include "io/checkpoint.h"
#include "io/hub_pull.h"
#include "io/model_locator.h"

using namespace entroscope::io::hub;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kCommitA = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const std::string kCommitB = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const std::string kCommitS = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const std::string kCommitP = "9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f";
const std::string kToken = "hf_mocktoken123";

// The repositories every test's mock Hub serves.
json hub_config() {
  json tiny = hubtest::repo_files(hubtest::fixture_dir("gpt2-tiny"), {"config.json", "model.safetensors"});
  tiny["README.md"] = hubtest::fixture_dir("README.md").string();  // present but not needed
  tiny["pytorch_model.bin"] = (hubtest::fixture_dir("gpt2-tiny") / "expected.safetensors").string();
  // Commit B: a different config, the same weights (the blob is shared across revisions).
  json tiny_b = json::object();
  tiny_b["config.json"] = (hubtest::fixture_dir("gpt2-tiny-sharded") / "expected.json").string();
  tiny_b["model.safetensors"] = tiny["model.safetensors"];
  json sharded = hubtest::repo_files(hubtest::fixture_dir("gpt2-tiny-sharded"),
                                     {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors"});
  json pt_only = json::object();
  pt_only["config.json"] = tiny["config.json"];
  pt_only["pytorch_model.bin"] = tiny["pytorch_model.bin"];

  json c;
  c["repos"]["test-org/gpt2-tiny"] = {{"commits", {{kCommitA, {{"files", tiny}}}, {kCommitB, {{"files", tiny_b}}}}},
                                      {"refs", {{"main", kCommitA}, {"v1.0", kCommitA}, {"v2.0", kCommitB}}}};
  c["repos"]["test-org/gpt2-tiny-sharded"] = {{"commits", {{kCommitS, {{"files", sharded}}}}},
                                              {"refs", {{"main", kCommitS}}}};
  c["repos"]["test-org/private-tiny"] = {{"commits", {{kCommitA, {{"files", tiny}}}}},
                                         {"refs", {{"main", kCommitA}}},
                                         {"private", true}};
  c["repos"]["test-org/gated-tiny"] = {{"commits", {{kCommitA, {{"files", tiny}}}}},
                                       {"refs", {{"main", kCommitA}}},
                                       {"gated", true}};
  c["repos"]["test-org/pytorch-only"] = {{"commits", {{kCommitP, {{"files", pt_only}}}}}, {"refs", {{"main", kCommitP}}}};
  c["renamed"]["old-name/tiny"] = "test-org/gpt2-tiny";
  c["token"] = kToken;
  c["faults"] = json::array();
  return c;
}

class HubPull : public ::testing::Test {
 protected:
  HubSettings settings_for(const hubtest::MockHub& hub) const {
    HubSettings s;
    s.endpoint = hub.endpoint();
    s.connect_timeout_s = 5;
    s.stall_timeout_s = 5;
    return s;
  }
  PullOptions options() const {
    PullOptions o;
    o.cache_root = cache_.path();
    o.retry.max_retries = 3;
    o.retry.base_delay = std::chrono::milliseconds(10);
    o.retry.max_delay = std::chrono::milliseconds(40);
    return o;
  }
  PullResult pull(const hubtest::MockHub& hub, const std::string& spec) {
    return pull_model(*parse_hub_ref(spec), settings_for(hub), options());
  }
  static const PulledFile* file(const PullResult& r, const std::string& path) {
    for (const auto& f : r.files) {
      if (f.path == path) return &f;
    }
    return nullptr;
  }
  std::string pull_error(const hubtest::MockHub& hub, const std::string& spec, HubSettings s, PullOptions o) {
    try {
      pull_model(*parse_hub_ref(spec), s, o);
    } catch (const entroscope::Error& e) {
      return e.what();
    }
    return "(no error)";
  }

  hubtest::CleanHubEnv env_;
  hubtest::TempDir cache_;
};

}  // namespace

TEST_F(HubPull, FreshPullWritesTheHubCacheLayout) {
  hubtest::MockHub hub(hub_config());
  PullResult r = pull(hub, "test-org/gpt2-tiny");

  EXPECT_EQ(r.repo_id, "test-org/gpt2-tiny");
  EXPECT_EQ(r.commit, kCommitA);
  CacheRepo repo(cache_.path(), "test-org/gpt2-tiny");
  EXPECT_EQ(r.snapshot_dir, repo.snapshot_dir(kCommitA));
  EXPECT_EQ(hubtest::read_file(repo.dir() / "refs/main"), kCommitA);

  // Only what entroscope needs; README.md and pytorch_model.bin stay on the Hub.
  ASSERT_EQ(r.files.size(), 2u);
  fs::path src = hubtest::fixture_dir("gpt2-tiny");
  for (const char* name : {"config.json", "model.safetensors"}) {
    const PulledFile* f = file(r, name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->outcome, FileOutcome::kDownloaded);
    EXPECT_EQ(f->hash, hubtest::hub_hash_of(src / name));
    fs::path link = r.snapshot_dir / name;
    ASSERT_TRUE(fs::is_symlink(link)) << name;
    EXPECT_EQ(fs::read_symlink(link), fs::path("../../blobs/" + f->hash));
    EXPECT_EQ(hubtest::read_file(link), hubtest::read_file(src / name)) << name;
  }
  EXPECT_EQ(file(r, "model.safetensors")->hash.size(), 64u);  // LFS: named by sha256
  EXPECT_EQ(file(r, "config.json")->hash.size(), 40u);        // git blob sha1
  EXPECT_FALSE(fs::exists(r.snapshot_dir / "README.md"));
  EXPECT_FALSE(fs::exists(r.snapshot_dir / "pytorch_model.bin"));
  EXPECT_FALSE(snapshot_problem(r.snapshot_dir));
  for (const auto& entry : fs::directory_iterator(repo.blobs_dir())) {
    EXPECT_EQ(entry.path().extension(), "") << "left over: " << entry.path();
  }
  EXPECT_EQ(r.bytes_downloaded, fs::file_size(src / "config.json") + fs::file_size(src / "model.safetensors"));

  // The real endpoint shapes: the revision API, HEAD on resolve URLs, the weights from the CDN redirect.
  auto api = hub.requests_to("/api/models/test-org/gpt2-tiny/revision/main");
  ASSERT_EQ(api.size(), 1u);
  EXPECT_NE(api[0]["path"].get<std::string>().find("blobs=true"), std::string::npos);
  EXPECT_EQ(hub.requests_to("/test-org/gpt2-tiny/resolve/" + kCommitA + "/").size(), 3u);  // 2 HEAD + 1 GET config
  ASSERT_EQ(hub.requests_to("/cdn/").size(), 1u);
  EXPECT_EQ(hub.requests_to("/cdn/")[0]["method"], "GET");
  EXPECT_TRUE(hub.requests_to("/cdn/")[0]["auth"].is_null());
  EXPECT_NE(api[0]["user_agent"].get<std::string>().find("entroscope/"), std::string::npos);

  // A second pull only asks which commit main is; everything else comes from the cache.
  std::size_t before = hub.requests().size();
  PullResult again = pull(hub, "test-org/gpt2-tiny");
  for (const auto& f : again.files) EXPECT_EQ(f.outcome, FileOutcome::kCached) << f.path;
  EXPECT_EQ(again.bytes_downloaded, 0u);
  EXPECT_EQ(hub.requests().size(), before + 1);
}

TEST_F(HubPull, ShardedCheckpointFetchesIndexAndEveryShard) {
  hubtest::MockHub hub(hub_config());
  PullResult r = pull(hub, "test-org/gpt2-tiny-sharded");
  std::vector<std::string> names;
  for (const auto& f : r.files) names.push_back(f.path);
  EXPECT_EQ(names, (std::vector<std::string>{"config.json", "model.safetensors.index.json",
                                             "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
  for (const auto& n : names) {
    EXPECT_EQ(hubtest::read_file(r.snapshot_dir / n), hubtest::read_file(hubtest::fixture_dir("gpt2-tiny-sharded") / n));
  }
  EXPECT_FALSE(snapshot_problem(r.snapshot_dir));
}

TEST_F(HubPull, RevisionsTagsAndCommitsShareBlobs) {
  hubtest::MockHub hub(hub_config());
  pull(hub, "test-org/gpt2-tiny");
  CacheRepo repo(cache_.path(), "test-org/gpt2-tiny");

  // A tag naming the same commit: same snapshot, a new ref, nothing downloaded.
  PullResult tag = pull(hub, "test-org/gpt2-tiny@v1.0");
  EXPECT_EQ(tag.commit, kCommitA);
  EXPECT_EQ(hubtest::read_file(repo.refs_dir() / "v1.0"), kCommitA);
  for (const auto& f : tag.files) EXPECT_EQ(f.outcome, FileOutcome::kCached);

  // Another revision with the same weights: the weights blob is only linked, not fetched again.
  std::size_t cdn_before = hub.requests_to("/cdn/").size();
  PullResult v2 = pull(hub, "test-org/gpt2-tiny@v2.0");
  EXPECT_EQ(v2.commit, kCommitB);
  EXPECT_EQ(file(v2, "model.safetensors")->outcome, FileOutcome::kLinked);
  EXPECT_EQ(file(v2, "config.json")->outcome, FileOutcome::kDownloaded);
  EXPECT_EQ(hub.requests_to("/cdn/").size(), cdn_before);
  EXPECT_EQ(fs::read_symlink(repo.snapshot_dir(kCommitB) / "model.safetensors"),
            fs::read_symlink(repo.snapshot_dir(kCommitA) / "model.safetensors"));

  // A commit hash: no ref file is written for it.
  PullResult by_commit = pull(hub, "test-org/gpt2-tiny@" + kCommitB);
  EXPECT_EQ(by_commit.commit, kCommitB);
  EXPECT_FALSE(fs::exists(repo.refs_dir() / kCommitB));
}

TEST_F(HubPull, InterruptedDownloadResumesWithRange) {
  json config = hub_config();
  config["faults"].push_back({{"kind", "drop"}, {"file", "model.safetensors"}, {"after", 400000}, {"times", 1}});
  hubtest::MockHub hub(config);
  std::string weights_hash = hubtest::hub_hash_of(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors");
  CacheRepo repo(cache_.path(), "test-org/gpt2-tiny");

  // The connection drops after 400000 bytes and this run does not retry: it fails, keeping the part.
  PullOptions no_retry = options();
  no_retry.retry.max_retries = 0;
  std::string msg = pull_error(hub, "test-org/gpt2-tiny", settings_for(hub), no_retry);
  EXPECT_NE(msg.find("connection ended after 400000 of 1155560 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("run the same pull again to resume"), std::string::npos) << msg;
  EXPECT_EQ(fs::file_size(repo.incomplete_path(weights_hash)), 400000u);
  EXPECT_FALSE(fs::exists(repo.blob_path(weights_hash)));  // never a partial file under its final name
  EXPECT_FALSE(fs::exists(repo.snapshot_dir(kCommitA) / "model.safetensors"));

  // The next run continues at byte 400000.
  PullResult r = pull(hub, "test-org/gpt2-tiny");
  EXPECT_EQ(file(r, "model.safetensors")->outcome, FileOutcome::kResumed);
  EXPECT_EQ(file(r, "config.json")->outcome, FileOutcome::kCached);
  auto cdn = hub.requests_to("/cdn/");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_TRUE(cdn[0]["range"].is_null());
  EXPECT_EQ(cdn[1]["range"], "bytes=400000-");
  EXPECT_EQ(cdn[1]["status"], 206);
  EXPECT_EQ(r.bytes_downloaded, 1155560u - 400000u);
  EXPECT_FALSE(fs::exists(repo.incomplete_path(weights_hash)));
  EXPECT_EQ(hubtest::read_file(r.snapshot_dir / "model.safetensors"),
            hubtest::read_file(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors"));
}

TEST_F(HubPull, RetriesResumeWithinOnePull) {
  json config = hub_config();
  // Two dropped connections, each after 300000 more bytes; the third attempt completes.
  config["faults"].push_back({{"kind", "drop"}, {"file", "model.safetensors"}, {"after", 300000}, {"times", 2}});
  hubtest::MockHub hub(config);
  PullResult r = pull(hub, "test-org/gpt2-tiny");
  EXPECT_EQ(file(r, "model.safetensors")->outcome, FileOutcome::kResumed);
  auto cdn = hub.requests_to("/cdn/");
  ASSERT_EQ(cdn.size(), 3u);
  EXPECT_TRUE(cdn[0]["range"].is_null());
  EXPECT_EQ(cdn[1]["range"], "bytes=300000-");
  EXPECT_EQ(cdn[2]["range"], "bytes=600000-");
  EXPECT_EQ(hubtest::read_file(r.snapshot_dir / "model.safetensors"),
            hubtest::read_file(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors"));
}

TEST_F(HubPull, StalledConnectionTimesOutAndResumes) {
  json config = hub_config();
  config["faults"].push_back(
      {{"kind", "stall"}, {"file", "model.safetensors"}, {"after", 500000}, {"seconds", 3}, {"times", 1}});
  hubtest::MockHub hub(config);
  HubSettings s = settings_for(hub);
  s.stall_timeout_s = 1;
  PullResult r = pull_model(*parse_hub_ref("test-org/gpt2-tiny"), s, options());
  auto cdn = hub.requests_to("/cdn/");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_EQ(cdn[1]["range"], "bytes=500000-");
  // Given up after the 1 s stall timeout, not when the server finally hung up.
  EXPECT_LT(cdn[1]["time"].get<double>() - cdn[0]["time"].get<double>(), 2.5);
  EXPECT_EQ(file(r, "model.safetensors")->outcome, FileOutcome::kResumed);
}

TEST_F(HubPull, ServerErrorsAreRetriedThenReported) {
  json config = hub_config();
  config["faults"].push_back({{"kind", "status"}, {"prefix", "/api/"}, {"status", 503}, {"times", 2}});
  hubtest::MockHub hub(config);
  PullResult r = pull(hub, "test-org/gpt2-tiny");  // 2 failures, 3 retries allowed
  EXPECT_EQ(r.commit, kCommitA);
  EXPECT_EQ(hub.requests_to("/api/").size(), 3u);

  json always = hub_config();
  always["faults"].push_back({{"kind", "status"}, {"prefix", "/api/"}, {"status", 503}});
  hubtest::MockHub down(always);
  std::string msg = pull_error(down, "test-org/gpt2-tiny", settings_for(down), options());
  EXPECT_NE(msg.find("server error (HTTP 503 from GET " + down.endpoint() + "/api/models/test-org/gpt2-tiny"),
            std::string::npos)
      << msg;
  EXPECT_EQ(down.requests_to("/api/").size(), 4u);  // 1 + 3 retries, then it gives up
}

TEST_F(HubPull, CorruptContentIsRefusedAndReported) {
  json config = hub_config();
  config["faults"].push_back({{"kind", "corrupt"}, {"file", "model.safetensors"}});
  hubtest::MockHub hub(config);
  std::string expected = hubtest::hub_hash_of(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors");
  std::string msg = pull_error(hub, "test-org/gpt2-tiny", settings_for(hub), options());
  EXPECT_NE(msg.find("test-org/gpt2-tiny@main: sha256 mismatch for model.safetensors: expected " + expected),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("nothing was placed in the cache"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  CacheRepo repo(cache_.path(), "test-org/gpt2-tiny");
  EXPECT_FALSE(fs::exists(repo.blob_path(expected)));
  EXPECT_FALSE(fs::exists(repo.incomplete_path(expected)));
  EXPECT_FALSE(fs::exists(repo.snapshot_dir(kCommitA) / "model.safetensors"));
  EXPECT_TRUE(snapshot_problem(repo.snapshot_dir(kCommitA)).has_value());

  // A small (non-LFS) file is checked too, by its git blob sha1.
  json config2 = hub_config();
  config2["faults"].push_back({{"kind", "corrupt"}, {"file", "config.json"}});
  hubtest::MockHub hub2(config2);
  hubtest::TempDir other;
  PullOptions o = options();
  o.cache_root = other.path();
  msg = pull_error(hub2, "test-org/gpt2-tiny", settings_for(hub2), o);
  EXPECT_NE(msg.find("git-sha1 mismatch for config.json"), std::string::npos) << msg;
}

TEST_F(HubPull, CorruptPartialFileIsDownloadedAgainOnce) {
  hubtest::MockHub hub(hub_config());
  std::string hash = hubtest::hub_hash_of(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors");
  CacheRepo repo(cache_.path(), "test-org/gpt2-tiny");
  // A leftover partial download whose bytes are wrong (e.g. written by something else).
  hubtest::write_file(repo.incomplete_path(hash), std::string(100000, 'x'));
  PullResult r = pull(hub, "test-org/gpt2-tiny");
  EXPECT_EQ(file(r, "model.safetensors")->outcome, FileOutcome::kDownloaded);
  auto cdn = hub.requests_to("/cdn/");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_EQ(cdn[0]["range"], "bytes=100000-");
  EXPECT_TRUE(cdn[1]["range"].is_null());
  EXPECT_EQ(hubtest::read_file(r.snapshot_dir / "model.safetensors"),
            hubtest::read_file(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors"));
}

TEST_F(HubPull, ServerIgnoringRangeRestartsCleanly) {
  json config = hub_config();
  config["faults"].push_back({{"kind", "ignore_range"}});
  hubtest::MockHub hub(config);
  std::string hash = hubtest::hub_hash_of(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors");
  CacheRepo repo(cache_.path(), "test-org/gpt2-tiny");
  std::string real = hubtest::read_file(hubtest::fixture_dir("gpt2-tiny") / "model.safetensors");
  hubtest::write_file(repo.incomplete_path(hash), real.substr(0, 5000));
  PullResult r = pull(hub, "test-org/gpt2-tiny");
  EXPECT_EQ(file(r, "model.safetensors")->outcome, FileOutcome::kDownloaded);
  EXPECT_EQ(hubtest::read_file(r.snapshot_dir / "model.safetensors"), real);
}

TEST_F(HubPull, AuthenticationErrorsAndTheToken) {
  json config = hub_config();
  config["cdn_host"] = "localhost";  // the CDN is another origin: the token must not go there
  hubtest::MockHub hub(config);

  std::string msg = pull_error(hub, "test-org/private-tiny", settings_for(hub), options());
  EXPECT_NE(msg.find("test-org/private-tiny: repository not found, or it is private/gated and needs a token (HTTP 401"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("set HF_TOKEN"), std::string::npos) << msg;

  HubSettings wrong = settings_for(hub);
  wrong.token = "hf_wrong";
  wrong.token_source = "HF_TOKEN";
  msg = pull_error(hub, "test-org/private-tiny", wrong, options());
  EXPECT_NE(msg.find("rejected the token from HF_TOKEN as invalid credentials"), std::string::npos) << msg;

  HubSettings right = settings_for(hub);
  right.token = kToken;
  right.token_source = "HF_TOKEN";
  PullResult r = pull_model(*parse_hub_ref("test-org/private-tiny"), right, options());
  EXPECT_EQ(r.commit, kCommitA);
  for (const auto& req : hub.requests_to("/test-org/private-tiny/")) {
    EXPECT_EQ(req["auth"], "Bearer " + kToken) << req.dump();
  }
  auto cdn = hub.requests_to("/cdn/");
  ASSERT_FALSE(cdn.empty());
  for (const auto& req : cdn) EXPECT_TRUE(req["auth"].is_null()) << req.dump();

  msg = pull_error(hub, "test-org/gated-tiny", settings_for(hub), options());
  EXPECT_NE(msg.find("test-org/gated-tiny is a gated repository"), std::string::npos) << msg;
  EXPECT_NE(msg.find("request access at " + hub.endpoint() + "/test-org/gated-tiny"), std::string::npos) << msg;
}

TEST_F(HubPull, NotFoundMessagesNameWhatIsMissing) {
  hubtest::MockHub hub(hub_config());
  HubSettings with_token = settings_for(hub);
  with_token.token = kToken;
  with_token.token_source = "HF_TOKEN";
  std::string msg = pull_error(hub, "test-org/no-such-model", with_token, options());
  EXPECT_NE(msg.find("test-org/no-such-model: repository not found, or the token from HF_TOKEN has no access to it "
                     "(HTTP 404 from GET " +
                     hub.endpoint() + "/api/models/test-org/no-such-model/revision/main"),
            std::string::npos)
      << msg;
  msg = pull_error(hub, "test-org/gpt2-tiny@no-such-branch", settings_for(hub), options());
  EXPECT_NE(msg.find("test-org/gpt2-tiny: revision 'no-such-branch' not found (HTTP 404"), std::string::npos) << msg;
  // Not-found answers are final: no retries.
  EXPECT_EQ(hub.requests_to("/api/models/test-org/gpt2-tiny/").size(), 1u);
}

TEST_F(HubPull, PytorchOnlyRepositoryIsExplained) {
  hubtest::MockHub hub(hub_config());
  std::string msg = pull_error(hub, "test-org/pytorch-only", settings_for(hub), options());
  EXPECT_NE(msg.find("test-org/pytorch-only@main has only PyTorch pickle weights (pytorch_model.bin), no "
                     "model.safetensors"),
            std::string::npos)
      << msg;
  EXPECT_TRUE(hub.requests_to("/test-org/pytorch-only/resolve/").empty());  // nothing downloaded
}

TEST_F(HubPull, RenamedRepositoryRedirectIsFollowed) {
  hubtest::MockHub hub(hub_config());
  PullResult r = pull(hub, "old-name/tiny");
  EXPECT_EQ(r.commit, kCommitA);
  EXPECT_FALSE(snapshot_problem(r.snapshot_dir));
  EXPECT_FALSE(hub.requests_to("/test-org/gpt2-tiny/resolve/").empty());
}

TEST_F(HubPull, OfflineModeUsesOnlyTheCache) {
  hubtest::MockHub hub(hub_config());
  pull(hub, "test-org/gpt2-tiny");
  std::size_t before = hub.requests().size();

  HubSettings offline = settings_for(hub);
  offline.offline = true;
  PullResult r = pull_model(*parse_hub_ref("test-org/gpt2-tiny"), offline, options());
  EXPECT_TRUE(r.offline);
  EXPECT_EQ(r.commit, kCommitA);
  EXPECT_EQ(r.files.size(), 2u);

  std::string msg = pull_error(hub, "test-org/gpt2-tiny-sharded", offline, options());
  EXPECT_NE(msg.find("HF_HUB_OFFLINE is set and test-org/gpt2-tiny-sharded is not available in the cache"),
            std::string::npos)
      << msg;
  EXPECT_EQ(hub.requests().size(), before);  // not a single request
}

TEST_F(HubPull, UnreachableEndpointIsAClearError) {
  HubSettings s;
  s.endpoint = "http://127.0.0.1:1";
  s.connect_timeout_s = 2;
  PullOptions o = options();
  o.retry.max_retries = 1;
  std::string msg;
  try {
    pull_model(*parse_hub_ref("test-org/gpt2-tiny"), s, o);
  } catch (const entroscope::Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("GET http://127.0.0.1:1/api/models/test-org/gpt2-tiny/revision/main"), std::string::npos) << msg;
}

TEST_F(HubPull, PulledCacheResolvesByHubIdAndLoads) {
  hubtest::MockHub hub(hub_config());
  pull(hub, "test-org/gpt2-tiny");
  pull(hub, "test-org/gpt2-tiny-sharded");
  hubtest::ScopedEnv cache_env("HF_HUB_CACHE", cache_.path().string());
  hubtest::ScopedEnv offline("HF_HUB_OFFLINE", "1");
  std::size_t requests = hub.requests().size();
  for (const char* fixture : {"gpt2-tiny", "gpt2-tiny-sharded"}) {
    entroscope::io::ResolvedModel m = entroscope::io::resolve_model(std::string("test-org/") + fixture);
    EXPECT_EQ(m.source, "hf-cache");
    EXPECT_EQ(m.commit, std::string(fixture) == "gpt2-tiny" ? kCommitA : kCommitS);
    // The checkpoint reader opens the snapshot (symlinks into blobs/) like the original folder.
    entroscope::io::Checkpoint pulled(m.dir);
    entroscope::io::Checkpoint original(hubtest::fixture_dir(fixture));
    EXPECT_EQ(pulled.sharded(), original.sharded()) << fixture;
    ASSERT_EQ(pulled.tensor_names(), original.tensor_names()) << fixture;
    auto a = pulled.load_f32("wte.weight");
    auto b = original.load_f32("wte.weight");
    ASSERT_EQ(a.num_elements(), b.num_elements());
    EXPECT_EQ(std::memcmp(a.data, b.data, a.num_elements() * sizeof(float)), 0) << fixture;
  }
  EXPECT_EQ(hub.requests().size(), requests);
}
