#pragma once
// Reading text and JSON inputs, bounded, with errors that name the file.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "common/durable_file.h"  // write_file_atomic

namespace entroscope {

// Limits on what entroscope reads from files and the network (docs/reliability.md lists them all).
// Real configs, tokenizers and answers nest fewer than 10 levels; the bound keeps the recursive
// copies, comparisons and dumps of a parsed value far from the stack's end.
inline constexpr int kMaxJsonDepth = 128;
// Text files read whole (configs, tokenizers, specs, items, reference files).
inline constexpr std::uintmax_t kMaxTextFileBytes = std::uintmax_t{4} << 30;
// One line of a line-based input (items JSON Lines, `score --input`, `tokenize` on stdin).
inline constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;

// Parses JSON text like nlohmann::json::parse (throwing its exceptions on invalid JSON), with the
// nesting bounded: deeper than kMaxJsonDepth is Error("<origin>: JSON nested deeper than 128 levels
// (the limit)"). `observe`, when given, sees every parse event (nlohmann's callback arguments).
using JsonEventObserver = std::function<void(int depth, nlohmann::json::parse_event_t event, const nlohmann::json& parsed)>;
nlohmann::json parse_json(std::string_view text, std::string_view origin, const JsonEventObserver& observe = {});

// Parses a whole JSON file; throws Error("<path>: invalid JSON: ...") or ("<path>: cannot read").
nlohmann::json read_json_file(const std::filesystem::path& path);

// parse_json, reporting in *duplicate_key the first key that appears twice in one object (nlohmann
// would silently keep the last value).
nlohmann::json parse_json_checking_keys(std::string_view text, std::string_view origin, std::string* duplicate_key);

// An integer of type T from a JSON value that must be an integer that fits: nlohmann's get<int>()
// of a float or of a number out of range is undefined behaviour (found by fuzzing). Throws
// nlohmann::json::type_error otherwise, so callers' "malformed file" handlers name the file.
template <class T>
T json_integer(const nlohmann::json& j) {
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  } else if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  }
  throw nlohmann::json::type_error::create(302, "expected an integer that fits, got " + j.dump(), &j);
}

// Reads a whole file into a string; throws Error naming the path (and the limit, past
// kMaxTextFileBytes).
std::string read_text_file(const std::filesystem::path& path);

// std::getline that stops holding bytes past `limit`: returns false at the end of input, and sets
// *too_long (the rest of that line is skipped) when the line was longer.
bool read_line_bounded(std::istream& in, std::string& line, std::size_t limit, bool* too_long);


}  // namespace entroscope
