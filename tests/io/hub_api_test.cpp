// Hub URLs, ETags, settings from the environment, and the one-line messages for HTTP errors.
#include <gtest/gtest.h>

#include "hub/hub_test_support.h"
#include "io/hub_api.h"
#include "io/hub_http.h"
#include "io/hub_settings.h"

using namespace entroscope::io::hub;

namespace {

HttpResponse response(long status, std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.status = status;
  r.method = "GET";
  r.url = "https://hub.example/api/models/org/model/revision/main";
  for (auto& [k, v] : headers) r.headers.add(k, v);
  return r;
}

std::string message_for(const HubApi& api, const HttpResponse& r, const std::string& file = "") {
  try {
    api.raise_for_status(r, "org/model", "main", file);
  } catch (const HubStatusError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(HubApi, UrlsQuoteRevisionsAndFiles) {
  HttpClient http({});
  HubSettings s;
  s.endpoint = "https://hub.example";
  HubApi api(s, http);
  EXPECT_EQ(api.revision_url("org/model", "refs/pr/1"), "https://hub.example/api/models/org/model/revision/refs%2Fpr%2F1");
  EXPECT_EQ(api.resolve_url("org/model", "main", "onnx/model weights.bin"),
            "https://hub.example/org/model/resolve/main/onnx/model%20weights.bin");
}

TEST(HubApi, EtagsAreNormalized) {
  EXPECT_EQ(normalize_etag("\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("W/\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("abc"), "abc");
}

TEST(HubApi, TokenIsOnlySentToTheEndpoint) {
  HttpClient http({});
  HubSettings s;
  s.endpoint = "https://hub.example";
  s.token = "hf_secret";
  HubApi api(s, http);
  EXPECT_EQ(api.auth_headers("https://hub.example/org/model/resolve/main/config.json"),
            std::vector<std::string>{"Authorization: Bearer hf_secret"});
  EXPECT_TRUE(api.auth_headers("https://cdn-lfs.example/abc?sig=1").empty());
  EXPECT_TRUE(api.auth_headers("http://hub.example/x").empty());  // another scheme is another origin
}

TEST(HubApi, ErrorMessagesSayWhatIsWrong) {
  HttpClient http({});
  HubSettings anon;
  anon.endpoint = "https://hub.example";
  HubApi api(anon, http);
  std::string m = message_for(api, response(401, {{"X-Error-Code", "RepoNotFound"}}));
  EXPECT_NE(m.find("org/model: repository not found, or it is private/gated and needs a token"), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 401 from GET https://hub.example/api/models/org/model/revision/main"), std::string::npos) << m;
  EXPECT_NE(m.find("HF_TOKEN"), std::string::npos);
  EXPECT_EQ(m.find('\n'), std::string::npos);

  m = message_for(api, response(404, {{"X-Error-Code", "RevisionNotFound"}}));
  EXPECT_NE(m.find("org/model: revision 'main' not found (HTTP 404"), std::string::npos) << m;
  m = message_for(api, response(404, {{"X-Error-Code", "EntryNotFound"}}), "tokenizer.json");
  EXPECT_NE(m.find("org/model@main: file 'tokenizer.json' not found"), std::string::npos) << m;
  m = message_for(api, response(403, {{"X-Error-Code", "GatedRepo"}}));
  EXPECT_NE(m.find("gated repository"), std::string::npos) << m;
  EXPECT_NE(m.find("request access at https://hub.example/org/model"), std::string::npos) << m;
  m = message_for(api, response(503, {{"X-Error-Message", "upstream\nbusy"}}));
  EXPECT_NE(m.find("server error (HTTP 503"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;

  HubSettings with_token = anon;
  with_token.token = "hf_x";
  with_token.token_source = "HF_TOKEN";
  HubApi api2(with_token, http);
  m = message_for(api2, response(401, {{"X-Error-Message", "Invalid credentials in Authorization header"}}));
  EXPECT_NE(m.find("rejected the token from HF_TOKEN as invalid credentials"), std::string::npos) << m;
  m = message_for(api2, response(404, {{"X-Error-Code", "RepoNotFound"}}));
  EXPECT_NE(m.find("repository not found, or the token from HF_TOKEN has no access"), std::string::npos) << m;

  try {
    api.raise_for_status(response(503, {}), "org/model", "main", "");
  } catch (const HubStatusError& e) {
    EXPECT_TRUE(e.retryable());
  }
  try {
    api.raise_for_status(response(404, {}), "org/model", "main", "");
  } catch (const HubStatusError& e) {
    EXPECT_FALSE(e.retryable());
  }
}

TEST(HubSettings, ReadFromTheEnvironment) {
  hubtest::CleanHubEnv clean;
  hubtest::TempDir tmp;
  hubtest::ScopedEnv home("HOME", tmp.path().string());
  HubSettings d = HubSettings::from_environment();
  EXPECT_EQ(d.endpoint, "https://huggingface.co");
  EXPECT_FALSE(d.token);
  EXPECT_FALSE(d.offline);

  // The token file `huggingface-cli login` writes.
  hubtest::write_file(tmp / ".cache/huggingface/token", "hf_from_file\n");
  d = HubSettings::from_environment();
  EXPECT_EQ(d.token, "hf_from_file");

  hubtest::ScopedEnv endpoint("HF_ENDPOINT", "https://mirror.example/");
  hubtest::ScopedEnv token("HF_TOKEN", "hf_env");
  hubtest::ScopedEnv offline("HF_HUB_OFFLINE", "1");
  hubtest::ScopedEnv timeout("HF_HUB_DOWNLOAD_TIMEOUT", "30");
  HubSettings s = HubSettings::from_environment();
  EXPECT_EQ(s.endpoint, "https://mirror.example");
  EXPECT_EQ(s.token, "hf_env");
  EXPECT_EQ(s.token_source, "HF_TOKEN");
  EXPECT_TRUE(s.offline);
  EXPECT_EQ(s.stall_timeout_s, 30);

  EXPECT_TRUE(env_value_is_true("yes"));
  EXPECT_TRUE(env_value_is_true("TRUE"));
  EXPECT_FALSE(env_value_is_true("0"));
  EXPECT_FALSE(env_value_is_true(nullptr));

  hubtest::ScopedEnv bad("HF_ENDPOINT", "hub.example");
  EXPECT_THROW(HubSettings::from_environment(), entroscope::Error);
}
