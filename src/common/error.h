#pragma once
// One exception type for every user-facing failure. The message is a single line that names the
// file / tensor / layer and the problem; the CLI prints it as "entroscope: error: <message>".
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace entroscope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
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
