#include "common/json_file.h"

#include <set>
#include <vector>

#include <fstream>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include "common/error.h"

namespace entroscope {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("{}: read error", path.string());
  return buffer.str();
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: invalid JSON at byte {}", path.string(), e.byte);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", path.string(), e.what());
  }
}

nlohmann::json parse_json_checking_keys(const std::string& text, std::string* duplicate_key) {
  std::vector<std::set<std::string>> open_objects;
  duplicate_key->clear();
  auto check = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case nlohmann::json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case nlohmann::json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second &&
            duplicate_key->empty()) {
          *duplicate_key = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  return nlohmann::json::parse(text, check);
}

}  // namespace entroscope
