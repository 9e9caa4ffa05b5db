#pragma once
// Token strings in error messages: JSON-quoted, so control characters, spaces and invalid bytes
// stay visible and the message stays on one line.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace entroscope::tokenizer {

inline std::string json_quoted(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace entroscope::tokenizer
