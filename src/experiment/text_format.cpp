#include "experiment/text_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace entroscope::experiment {

std::string signed_fixed(double v, int decimals) {
  // Keep "-0.000" from printing for a tiny negative value.
  const double unit = std::pow(10.0, -decimals);
  if (std::fabs(v) < unit / 2) v = 0.0;
  return fmt::format("{:+.{}f}", v, decimals);
}

std::string signed_interval(double low, double high, int decimals) {
  return fmt::format("[{}, {}]", signed_fixed(low, decimals), signed_fixed(high, decimals));
}

std::string short_count(double n) {
  struct Unit {
    double scale;
    const char* suffix;
  };
  for (Unit u : {Unit{1e12, "T"}, Unit{1e9, "B"}, Unit{1e6, "M"}, Unit{1e3, "K"}}) {
    if (n >= u.scale) {
      const double v = n / u.scale;
      const int decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
      std::string s = fmt::format("{:.{}f}", v, decimals);
      if (s.find('.') != std::string::npos) {  // "1.50" -> "1.5", "2.00" -> "2"
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
      }
      return s + u.suffix;
    }
  }
  return fmt::format("{:.0f}", n);
}

std::string grouped(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::size_t display_width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}

std::string pad_right(const std::string& s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

std::string pad_left(const std::string& s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

std::string text_table(const std::vector<std::vector<std::string>>& rows, std::size_t left_columns) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      if (c) line += "  ";
      line += c < left_columns ? pad_right(rows[r][c], widths[c]) : pad_left(rows[r][c], widths[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) {
      std::size_t total = 0;
      for (std::size_t c = 0; c < widths.size(); ++c) total += widths[c] + (c ? 2 : 0);
      std::string rule;
      for (std::size_t i = 0; i < total; ++i) rule += "\u2500";
      out += rule + "\n";
    }
  }
  return out;
}

std::string format_p(double p) {
  if (p <= 0) return "p < 1e-300";
  if (p >= 0.001) return fmt::format("p = {:.3f}", p);
  return fmt::format("p = {:.1e}", p);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace entroscope::experiment
