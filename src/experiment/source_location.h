#pragma once
// Where something was written (file, 1-based line and column), so that every complaint about an
// experiment file or an items file names the exact spot: "demo.yaml:12:7: ...".
#include <fmt/format.h>

#include <string>

#include "common/error.h"

namespace entroscope::experiment {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown or not meaningful (JSON Lines)

  // "file:line:column", "file:line" or "file".
  std::string describe() const {
    if (line <= 0) return file;
    if (column <= 0) return fmt::format("{}:{}", file, line);
    return fmt::format("{}:{}:{}", file, line, column);
  }
};

template <typename... Args>
[[noreturn]] void fail_at(const SourceLocation& where, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format("{}: {}", where.describe(), fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace entroscope::experiment
