#include "experiment/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "experiment/text_format.h"

namespace entroscope::experiment::plot {

std::string marker_svg(Marker m, double x, double y, const char* color, double size) {
  const std::string style = fmt::format(R"(fill="{}" stroke="#ffffff" stroke-width="1.2")", color);
  switch (m) {
    case Marker::kCircle: return fmt::format(R"(<circle cx="{:.2f}" cy="{:.2f}" r="{:.2f}" {}/>)", x, y, size, style);
    case Marker::kSquare:
      return fmt::format(R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" {}/>)", x - size * 0.9,
                         y - size * 0.9, size * 1.8, size * 1.8, style);
    case Marker::kTriangle:
      return fmt::format(R"(<polygon points="{:.2f},{:.2f} {:.2f},{:.2f} {:.2f},{:.2f}" {}/>)", x, y - size * 1.2,
                         x - size * 1.1, y + size * 0.8, x + size * 1.1, y + size * 0.8, style);
    case Marker::kDiamond:
      return fmt::format(R"(<polygon points="{:.2f},{:.2f} {:.2f},{:.2f} {:.2f},{:.2f} {:.2f},{:.2f}" {}/>)", x,
                         y - size * 1.25, x + size * 1.05, y, x, y + size * 1.25, x - size * 1.05, y, style);
  }
  return {};
}

std::string xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string typeset(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '-' ? std::string("\u2212") : std::string(1, c);
  return out;
}

double text_width(const std::string& s, double font_size) {
  return static_cast<double>(display_width(s)) * 0.54 * font_size;
}

namespace {
double nice_step(double raw) {
  const double e = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / e;
  const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * e;
}
}  // namespace

int decimals_for(double step) {
  int d = 0;
  while (d < 8 && std::fabs(step * std::pow(10.0, d) - std::round(step * std::pow(10.0, d))) > 1e-9) ++d;
  return d;
}

std::vector<double> linear_ticks(double lo, double hi, int target_count) {
  const double step = nice_step((hi - lo) / std::max(1, target_count));
  std::vector<double> ticks;
  // Integer multiples of the step (no accumulated rounding), so 0 is exactly 0.
  for (auto k = static_cast<long long>(std::ceil(lo / step - 1e-9)); k * step <= hi + step * 1e-9; ++k)
    ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi, bool minor) {
  const double span = hi - lo;
  std::vector<int> labelled;
  if (span <= 1.6)
    labelled = {1, 2, 3, 5};
  else if (span <= 2.6)
    labelled = {1, 2, 5};
  else
    labelled = {1};
  std::vector<double> ticks;
  for (int d = static_cast<int>(std::floor(lo)); d <= static_cast<int>(std::ceil(hi)); ++d) {
    for (int m = 1; m <= 9; ++m) {
      const bool is_labelled = std::find(labelled.begin(), labelled.end(), m) != labelled.end();
      if (is_labelled == minor) continue;
      if (minor && span > 6) continue;  // too dense to help
      const double v = d + std::log10(static_cast<double>(m));
      if (v >= lo - 1e-9 && v <= hi + 1e-9) ticks.push_back(v);
    }
  }
  return ticks;
}

Axis value_axis(double lo, double hi, double px0, double px1, bool include_zero, int target_ticks) {
  if (include_zero) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
  }
  if (hi - lo < 1e-6) hi = lo + 0.1;
  const double pad = 0.08 * (hi - lo);
  lo -= pad;
  hi += pad;
  Axis a{lo, hi, px0, px1, linear_ticks(lo, hi, target_ticks), 2};
  a.lo = std::min(a.lo, a.ticks.front());
  a.hi = std::max(a.hi, a.ticks.back());
  if (a.ticks.size() > 1) a.decimals = decimals_for(a.ticks[1] - a.ticks[0]);
  return a;
}

namespace {
std::string tick_label(double t, int decimals) { return t == 0.0 ? "0" : typeset(signed_fixed(t, decimals)); }

std::string svg_open(double width, double height, const std::string& title) {
  return fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:.0f}" height="{1:.0f}" viewBox="0 0 {0:.0f} {1:.0f}" font-family="{2}" role="img"><title>{3}</title>)"
      "\n"
      R"(<rect x="0" y="0" width="{0:.0f}" height="{1:.0f}" fill="#ffffff"/>)"
      "\n",
      width, height, kFont, xml(title));
}

// Vertical grid lines and labels of a horizontal value axis, between y0 and y1.
std::string x_axis_svg(const Axis& a, double y0, double y1, const std::string& label) {
  std::string s;
  for (double t : a.ticks) {
    s += fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{0:.2f}" y2="{2:.2f}" stroke="#e3e3e3"/>)" "\n", a.at(t), y0, y1);
    s += fmt::format(R"(<text x="{:.2f}" y="{:.2f}" font-size="11" fill="#333" text-anchor="middle">{}</text>)" "\n",
                     a.at(t), y1 + 16, tick_label(t, a.decimals));
  }
  s += fmt::format(R"(<text x="{:.2f}" y="{:.2f}" font-size="12" fill="#111" text-anchor="middle">{}</text>)" "\n",
                   (a.px0 + a.px1) / 2, y1 + 34, xml(label));
  return s;
}
}  // namespace

std::string forest_svg(const std::string& title, const std::string& x_label, const std::vector<ForestRow>& rows) {
  constexpr double kRow = 26, kTop = 36, kRight = 24, kPlotWidth = 420;
  double label_width = 60;
  for (const ForestRow& r : rows) label_width = std::max(label_width, text_width(r.label, 12) + 16);
  double lo = 0, hi = 0;
  for (const ForestRow& r : rows) {
    lo = std::min({lo, r.low, r.estimate});
    hi = std::max({hi, r.high, r.estimate});
  }
  const double x0 = label_width, x1 = x0 + kPlotWidth;
  const double y0 = kTop, y1 = kTop + kRow * static_cast<double>(std::max<std::size_t>(rows.size(), 1));
  const Axis a = value_axis(lo, hi, x0, x1, /*include_zero=*/true);
  const double width = x1 + kRight, height = y1 + 44;
  std::string s = svg_open(width, height, title);
  s += fmt::format(R"(<text x="8" y="20" font-size="13" font-weight="bold" fill="#111">{}</text>)" "\n", xml(title));
  s += x_axis_svg(a, y0, y1, x_label);
  s += fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{0:.2f}" y2="{2:.2f}" stroke="#666" stroke-dasharray="5,4"/>)" "\n",
                   a.at(0), y0, y1);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ForestRow& r = rows[i];
    const double y = y0 + kRow * (static_cast<double>(i) + 0.5);
    const char* c = color(r.series);
    s += fmt::format(R"(<g class="forest-row"><title>{}</title>)" "\n", xml(r.hover));
    s += fmt::format(R"(<text x="{:.2f}" y="{:.2f}" font-size="12" fill="#222" text-anchor="end">{}</text>)" "\n",
                     x0 - 8, y + 4, xml(r.label));
    s += fmt::format(R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="{}" stroke-width="1.8"/>)" "\n",
                     a.at(r.low), y, a.at(r.high), y, c);
    for (double v : {r.low, r.high})
      s += fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{0:.2f}" y2="{2:.2f}" stroke="{3}" stroke-width="1.8"/>)" "\n",
                       a.at(v), y - 5, y + 5, c);
    s += marker_svg(marker(r.series), a.at(r.estimate), y, c, 5.0) + "\n</g>\n";
  }
  s += fmt::format(R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="none" stroke="#333"/>)" "\n</svg>\n",
                   x0, y0, kPlotWidth, y1 - y0);
  return s;
}

std::vector<DataPoint> slope_band(double x_centre, double y_centre, double slope_low, double slope_high, double x0,
                                  double x1) {
  auto y = [&](double slope, double x) { return y_centre + slope * (x - x_centre); };
  // Left of the centre the steeper slope gives the lower edge, right of it the upper one.
  return {{x0, std::max(y(slope_low, x0), y(slope_high, x0))},
          {x_centre, y_centre},
          {x1, std::max(y(slope_low, x1), y(slope_high, x1))},
          {x1, std::min(y(slope_low, x1), y(slope_high, x1))},
          {x_centre, y_centre},
          {x0, std::min(y(slope_low, x0), y(slope_high, x0))}};
}

std::vector<HistogramBin> histogram_bins(const std::vector<double>& values, int bins) {
  if (values.empty() || bins <= 0) return {};
  double lo = std::min(0.0, *std::min_element(values.begin(), values.end()));
  double hi = std::max(0.0, *std::max_element(values.begin(), values.end()));
  if (hi - lo < 1e-12) hi = lo + 1e-3;
  const double w = (hi - lo) / bins;
  std::vector<HistogramBin> out(static_cast<std::size_t>(bins));
  for (int b = 0; b < bins; ++b) out[static_cast<std::size_t>(b)] = {lo + w * b, b + 1 == bins ? hi : lo + w * (b + 1), 0};
  for (double v : values) {
    const int b = std::clamp(static_cast<int>((v - lo) / w), 0, bins - 1);
    ++out[static_cast<std::size_t>(b)].count;
  }
  return out;
}

std::string histogram_svg(const std::string& title, const std::string& x_label, const std::vector<double>& values,
                          int bins, std::size_t series) {
  constexpr double kLeft = 48, kTop = 34, kWidth = 300, kHeight = 120, kRight = 16;
  const std::vector<HistogramBin> hist = histogram_bins(values, bins);
  std::size_t peak = 1;
  for (const HistogramBin& b : hist) peak = std::max(peak, b.count);
  const double x0 = kLeft, x1 = kLeft + kWidth, y0 = kTop, y1 = kTop + kHeight;
  const Axis a = hist.empty() ? value_axis(-1, 1, x0, x1, true, 5)
                              : value_axis(hist.front().low, hist.back().high, x0, x1, true, 5);
  std::string s = svg_open(x1 + kRight, y1 + 44, title);
  s += fmt::format(R"(<text x="8" y="20" font-size="12" font-weight="bold" fill="#111">{}</text>)" "\n", xml(title));
  s += x_axis_svg(a, y0, y1, x_label);
  for (const HistogramBin& b : hist) {
    const double h = kHeight * static_cast<double>(b.count) / static_cast<double>(peak);
    s += fmt::format(
        R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="{}" opacity="0.8"><title>{} to {}: {} items</title></rect>)"
        "\n",
        a.at(b.low), y1 - h, std::max(0.5, a.at(b.high) - a.at(b.low) - 0.5), h, color(series),
        typeset(signed_fixed(b.low, 3)), typeset(signed_fixed(b.high, 3)), b.count);
  }
  s += fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{0:.2f}" y2="{2:.2f}" stroke="#666" stroke-dasharray="5,4"/>)" "\n",
                   a.at(0), y0, y1);
  if (!values.empty()) {
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    s += fmt::format(
        R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{0:.2f}" y2="{2:.2f}" stroke="#111" stroke-width="2"><title>mean {3}</title></line>)" "\n",
        a.at(mean), y0, y1, typeset(signed_fixed(mean, 3)));
  }
  s += fmt::format(R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="none" stroke="#333"/>)" "\n</svg>\n",
                   x0, y0, kWidth, kHeight);
  return s;
}

}  // namespace entroscope::experiment::plot
