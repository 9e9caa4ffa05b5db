#include "experiment/checked_output.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"
#include "common/json_file.h"

namespace entroscope::experiment {

namespace {
// Depth-first; returns the JSON pointer of the first non-finite number, or empty.
std::string find_non_finite(const nlohmann::ordered_json& j, const std::string& path) {
  if (j.is_number_float()) return std::isfinite(j.get<double>()) ? std::string() : (path.empty() ? "/" : path);
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string found = find_non_finite(it.value(), path + "/" + it.key());
      if (!found.empty()) return found;
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string found = find_non_finite(j[i], fmt::format("{}/{}", path, i));
      if (!found.empty()) return found;
    }
  }
  return {};
}
}  // namespace

void require_finite(const nlohmann::ordered_json& doc, const std::string& what) {
  const std::string where = find_non_finite(doc, "");
  if (!where.empty())
    throw NumericError(fmt::format("{}: refusing to write a non-finite number at {}", what, where));
}

void write_json_checked(const std::filesystem::path& path, const nlohmann::ordered_json& doc) {
  require_finite(doc, path.string());
  write_file_atomic(path, doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::strict) + "\n");
}

std::string finite_number(double value, const std::string& what) {
  if (!std::isfinite(value)) throw NumericError(fmt::format("{}: refusing to write non-finite value {}", what, value));
  return fmt::format("{}", value);
}

std::string printable_bytes(std::string_view bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = len != 0 && i + len <= bytes.size();
    for (std::size_t k = 1; valid && k < len; ++k)
      valid = (static_cast<unsigned char>(bytes[i + k]) & 0xC0) == 0x80;
    if (valid && len == 1 && c < 0x20 && c != '\n' && c != '\t') valid = false;  // keep control bytes visible
    if (valid && len > 1) {  // reject overlong forms, surrogates and code points above U+10FFFF
      const auto c1 = static_cast<unsigned char>(bytes[i + 1]);
      if (c == 0xC0 || c == 0xC1 || c > 0xF4 || (c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) ||
          (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
        valid = false;
    }
    if (valid) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out += fmt::format("\\x{:02X}", c);
      ++i;
    }
  }
  return out;
}

}  // namespace entroscope::experiment
