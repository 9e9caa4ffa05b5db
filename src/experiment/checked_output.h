#pragma once
// The last gate before a results file reaches the disk: numbers are checked to be finite (JSON
// cannot hold NaN and nlohmann would silently write null; CSV would get "nan"), and files are
// written atomically, so a reader never sees a partial or poisoned file.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace entroscope::experiment {

// Throws NumericError("<what>: non-finite number at <JSON pointer>") for the first NaN / Inf.
void require_finite(const nlohmann::ordered_json& doc, const std::string& what);

// require_finite, then an atomic write of the document (2-space indent, trailing newline).
void write_json_checked(const std::filesystem::path& path, const nlohmann::ordered_json& doc);

// A number for a CSV cell or a text table: shortest round-trip form; throws NumericError when
// the value is not finite.
std::string finite_number(double value, const std::string& what);

// Token bytes as text: valid UTF-8 kept, other bytes written as \xNN (tokens can be parts of a
// character), so JSON and CSV stay valid UTF-8.
std::string printable_bytes(std::string_view bytes);

}  // namespace entroscope::experiment
