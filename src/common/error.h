#pragma once
// One exception type for every user-facing failure. The message is a single line that names the
// file / tensor / layer and the problem; the CLI prints it as "entroscope: error: <message>".
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace entroscope {

class Error : public std::runtime_error {
 public:
  // Line breaks and other control characters that reach a message from a file (a tensor name, a
  // YAML key, a ref file) are shown escaped, so the message stays one line whatever the input.
  explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}

  static std::string one_line(const std::string& message) {
    std::string out;
    out.reserve(message.size());
    for (const char ch : message) {
      const auto byte = static_cast<unsigned char>(ch);
      if (ch == '\n') out += "\\n";
      else if (ch == '\r') out += "\\r";
      else if (byte < 0x20 && ch != '\t') out += fmt::format("\\x{:02x}", byte);
      else if (byte == 0x7f) out += "\\x7f";
      else out += ch;
    }
    return out;
  }
};

// Non-finite value found in a computation (logits, activations, weights). Separate type so that
// callers (experiment runner, doctor) can tell "the numbers went bad" from "the input is bad".
class NumericError : public Error {
 public:
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace entroscope
