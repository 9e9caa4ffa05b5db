#pragma once
// Reading JSON files with errors that name the file.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "common/durable_file.h"  // write_file_atomic

namespace entroscope {

// Parses a whole JSON file; throws Error("<path>: invalid JSON: ...") or ("<path>: cannot read").
nlohmann::json read_json_file(const std::filesystem::path& path);

// Parses JSON text like nlohmann::json::parse, and reports in *duplicate_key the first key that
// appears twice in one object (nlohmann would silently keep the last value). Throws nlohmann's
// parse_error on invalid JSON.
nlohmann::json parse_json_checking_keys(const std::string& text, std::string* duplicate_key);

// Reads a whole file into a string; throws Error naming the path.
std::string read_text_file(const std::filesystem::path& path);


}  // namespace entroscope
