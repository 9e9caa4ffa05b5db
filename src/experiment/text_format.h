#pragma once
// Number and layout helpers shared by the text outputs (analysis file, terminal table, plot).
#include <string>
#include <vector>

namespace entroscope::experiment {

// "+0.078" / "-0.502": signed, fixed decimals (differences).
std::string signed_fixed(double v, int decimals);
// "[+0.045, +0.111]"
std::string signed_interval(double low, double high, int decimals);
// 297536 -> "297.5K", 124439808 -> "124M", 1557611200 -> "1.56B".
std::string short_count(double n);
// 297536 -> "297,536"
std::string grouped(long long n);
// Display width of UTF-8 text (code points; every character used here is one column).
std::size_t display_width(const std::string& s);
// Pads to `width` columns on the right (left-aligned) or on the left (right-aligned).
std::string pad_right(const std::string& s, std::size_t width);
std::string pad_left(const std::string& s, std::size_t width);

// A plain text table: columns sized to their content, the first `left_columns` left-aligned,
// the rest right-aligned, a rule under the header.
std::string text_table(const std::vector<std::vector<std::string>>& rows, std::size_t left_columns);

// A p-value for people: "p = 0.034", "p = 2.1e-06", "p < 1e-300".
std::string format_p(double p);

// A CSV field: quoted (with "" for quotes) when it holds a comma, quote or line break (RFC 4180).
std::string csv_field(const std::string& s);

}  // namespace entroscope::experiment
