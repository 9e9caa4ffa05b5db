#pragma once
// Hub connection settings, read from the same environment variables huggingface_hub uses.
#include <optional>
#include <string>

namespace entroscope::io::hub {

inline constexpr const char* kDefaultEndpoint = "https://huggingface.co";

struct HubSettings {
  std::string endpoint = kDefaultEndpoint;  // HF_ENDPOINT, no trailing '/'
  std::optional<std::string> token;         // HF_TOKEN, HUGGING_FACE_HUB_TOKEN, or the token file
  std::string token_source;                 // where the token came from, for messages ("HF_TOKEN", a path)
  bool offline = false;                     // HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE
  long connect_timeout_s = 10;              // HF_HUB_ETAG_TIMEOUT
  long stall_timeout_s = 10;                // HF_HUB_DOWNLOAD_TIMEOUT: abort a transfer idle this long

  static HubSettings from_environment();
};

// huggingface_hub's truthy values: 1, ON, YES, TRUE (any case).
bool env_value_is_true(const char* value);

// The value of an environment variable, or nullopt when it is unset or empty.
std::optional<std::string> env_value(const char* name);

}  // namespace entroscope::io::hub
