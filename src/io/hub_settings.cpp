#include "io/hub_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"

namespace entroscope::io::hub {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

long env_seconds(const char* name, long fallback) {
  auto v = env_value(name);
  if (!v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v->c_str(), &end, 10);
  if (end == v->c_str() || *end != '\0' || n <= 0) fail("{}='{}' is not a positive number of seconds", name, *v);
  return n;
}

// The token file `huggingface-cli login` writes: HF_TOKEN_PATH, else HF_HOME/token, else
// XDG_CACHE_HOME/huggingface/token, else ~/.cache/huggingface/token.
std::optional<fs::path> token_file() {
  if (auto p = env_value("HF_TOKEN_PATH")) return fs::path(*p);
  if (auto h = env_value("HF_HOME")) return fs::path(*h) / "token";
  if (auto x = env_value("XDG_CACHE_HOME")) return fs::path(*x) / "huggingface" / "token";
  if (auto home = env_value("HOME")) return fs::path(*home) / ".cache" / "huggingface" / "token";
  return std::nullopt;
}

}  // namespace

bool env_value_is_true(const char* value) {
  if (value == nullptr) return false;
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

HubSettings HubSettings::from_environment() {
  HubSettings s;
  if (auto e = env_value("HF_ENDPOINT")) {
    std::string endpoint = *e;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
      fail("HF_ENDPOINT='{}' must start with http:// or https://", *e);
    }
    s.endpoint = endpoint;
  }
  if (auto t = env_value("HF_TOKEN")) {
    s.token = trim(*t);
    s.token_source = "HF_TOKEN";
  } else if (auto t2 = env_value("HUGGING_FACE_HUB_TOKEN")) {
    s.token = trim(*t2);
    s.token_source = "HUGGING_FACE_HUB_TOKEN";
  } else if (auto file = token_file()) {
    std::error_code ec;
    if (fs::is_regular_file(*file, ec)) {
      std::ifstream in(*file);
      std::string line;
      std::getline(in, line);
      line = trim(line);
      if (!line.empty()) {
        s.token = line;
        s.token_source = file->string();
      }
    }
  }
  if (s.token && s.token->empty()) s.token.reset();
  s.offline = env_value_is_true(std::getenv("HF_HUB_OFFLINE")) || env_value_is_true(std::getenv("TRANSFORMERS_OFFLINE"));
  s.connect_timeout_s = env_seconds("HF_HUB_ETAG_TIMEOUT", 10);
  s.stall_timeout_s = env_seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10);
  return s;
}

std::optional<std::string> env_value(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

}  // namespace entroscope::io::hub
