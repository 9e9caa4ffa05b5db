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
  std::string text;
  // Read in blocks rather than by the size the file claims: pipes and /proc files have none.
  constexpr std::size_t kBlock = std::size_t{1} << 20;
  std::error_code ec;
  const std::uintmax_t claimed = std::filesystem::file_size(path, ec);
  if (!ec && claimed > kMaxTextFileBytes) {
    fail("{}: {} bytes is more than the {} GiB a text input may have (the limit)", path.string(), claimed,
         kMaxTextFileBytes >> 30);
  }
  if (!ec) text.reserve(static_cast<std::size_t>(claimed));
  while (in) {
    const std::size_t old = text.size();
    if (old >= kMaxTextFileBytes) fail("{}: more than the {} GiB a text input may have (the limit)", path.string(), kMaxTextFileBytes >> 30);
    text.resize(old + kBlock);
    in.read(text.data() + old, static_cast<std::streamsize>(kBlock));
    text.resize(old + static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) fail("{}: read error", path.string());
  return text;
}

bool read_line_bounded(std::istream& in, std::string& line, std::size_t limit, bool* too_long) {
  line.clear();
  *too_long = false;
  std::streambuf* buffer = in.rdbuf();
  using traits = std::char_traits<char>;
  for (int c = buffer->sbumpc();; c = buffer->sbumpc()) {
    if (traits::eq_int_type(c, traits::eof())) {
      in.setstate(std::ios::eofbit);
      return !line.empty() || *too_long;
    }
    if (c == '\n') return true;
    if (line.size() < limit)
      line.push_back(traits::to_char_type(c));
    else
      *too_long = true;
  }
}

nlohmann::json parse_json(std::string_view text, std::string_view origin, const JsonEventObserver& observe) {
  auto bounded = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    // depth is the new value's: 0 for the document itself.
    if ((event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth) {
      fail("{}: JSON nested deeper than {} levels (the limit)", origin, kMaxJsonDepth);
    }
    if (observe) observe(depth, event, parsed);
    return true;
  };
  return nlohmann::json::parse(text, bounded);
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::string text = read_text_file(path);
  try {
    return parse_json(text, path.string());
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: invalid JSON at byte {}", path.string(), e.byte);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", path.string(), e.what());
  }
}

nlohmann::json parse_json_checking_keys(std::string_view text, std::string_view origin, std::string* duplicate_key) {
  std::vector<std::set<std::string>> open_objects;
  duplicate_key->clear();
  auto check = [&](int, nlohmann::json::parse_event_t event, const nlohmann::json& parsed) {
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
  };
  return parse_json(text, origin, check);
}

}  // namespace entroscope
