#pragma once
// The one small plotting module behind every chart entroscope draws (scaling_<contrast>.svg and the
// report's charts): colour-blind-safe colours and markers, nice linear and log10 ticks, text
// escaping and sizing, and the report's forest and histogram charts. Plain SVG 1.1: no scripts, no
// external fonts; hover text through <title> elements.
#include <cstddef>
#include <string>
#include <vector>

namespace entroscope::experiment::plot {

// Okabe-Ito colours: distinguishable with the common colour-vision deficiencies and in grey.
inline constexpr const char* kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
inline const char* color(std::size_t series) { return kColors[series % std::size(kColors)]; }
inline constexpr const char* kFont = "Helvetica, Arial, 'DejaVu Sans', sans-serif";

enum class Marker { kCircle, kSquare, kTriangle, kDiamond };
inline constexpr Marker kMarkers[] = {Marker::kCircle, Marker::kSquare, Marker::kTriangle, Marker::kDiamond};
inline Marker marker(std::size_t series) { return kMarkers[series % std::size(kMarkers)]; }
std::string marker_svg(Marker m, double x, double y, const char* color, double size);

// Text for XML/HTML (& < > " escaped), and with typographic minus signs for numbers.
std::string xml(const std::string& s);
std::string typeset(const std::string& s);
// Rough rendered width of text in kFont (about 0.54 em per display column).
double text_width(const std::string& s, double font_size);

// Linear ticks: multiples of a 1/2/2.5/5 x 10^k step covering [lo, hi], about target_count of them.
std::vector<double> linear_ticks(double lo, double hi, int target_count);
// Decimals that show a tick step exactly (0.025 -> 3).
int decimals_for(double step);
// Log10 axis over [lo, hi] (in decades): labelled tick positions (log10 values), or the minor ones.
std::vector<double> log_ticks(double lo, double hi, bool minor);

// A value axis mapped onto pixels [px0, px1]; lo and hi widened to the ticks' ends.
struct Axis {
  double lo, hi, px0, px1;
  std::vector<double> ticks;
  int decimals;
  double at(double v) const { return px0 + (v - lo) / (hi - lo) * (px1 - px0); }
};
// An axis over values [lo, hi] (zero included when include_zero), padded by 8%.
Axis value_axis(double lo, double hi, double px0, double px1, bool include_zero, int target_ticks = 6);

// The band of a fitted line's slope interval: the lines through the fit's centre (x_centre,
// y_centre: a least-squares line passes through the mean of its points) with the interval's two
// slopes, over [x0, x1]; returns the polygon's corners in data coordinates (upper edge left to
// right, then lower edge right to left), which contains the fitted line.
struct DataPoint {
  double x, y;
};
std::vector<DataPoint> slope_band(double x_centre, double y_centre, double slope_low, double slope_high, double x0,
                                  double x1);

// Forest plot: one row per entry (label, estimate, interval), a dashed zero line, the interval as a
// whisker; hovering a row shows `hover`. Rows of one `series` share its colour and marker.
struct ForestRow {
  std::string label;
  double estimate, low, high;
  std::size_t series;
  std::string hover;
};
std::string forest_svg(const std::string& title, const std::string& x_label, const std::vector<ForestRow>& rows);

// Histogram of values in `bins` equal bins over their range (zero kept in view), with the mean
// marked; bars hover with their range and count.
struct HistogramBin {
  double low, high;
  std::size_t count;
};
std::vector<HistogramBin> histogram_bins(const std::vector<double>& values, int bins);
std::string histogram_svg(const std::string& title, const std::string& x_label, const std::vector<double>& values,
                          int bins, std::size_t series);

}  // namespace entroscope::experiment::plot
