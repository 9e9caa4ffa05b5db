#include "experiment/scaling_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "experiment/scaling_summary.h"
#include "experiment/svg_plot.h"
#include "experiment/text_format.h"

namespace entroscope::experiment {

namespace {

using plot::kFont;
using plot::marker_svg;
using plot::typeset;
using plot::xml;

// Figure geometry (px).
constexpr double kPanelWidth = 400, kPanelHeight = 300;
constexpr double kLeft = 78, kRight = 28, kTop = 104, kBottom = 64, kLegendRow = 20;

struct Point {
  std::string model;
  std::size_t family;
  double x;  // log10 parameters
  double y, low, high;
};

double text_width(const std::string& s, double font_size) { return plot::text_width(s, font_size); }

// One line under the panels: a family (with its marker), a fit of that family, or the failures.
struct LegendLine {
  std::optional<std::size_t> family;  // draws the family's marker
  std::string text;
  double font_size;
  const char* color;
  double indent;
};

// A panel's data: the points of one measure.
struct Panel {
  Measure measure;
  std::vector<Point> points;
};

}  // namespace

std::string scaling_plot_svg(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                             const std::vector<SlopeFit>& fits, std::size_t contrast_index) {
  const Contrast& contrast = spec.contrasts.at(contrast_index);
  const auto measures = reported_measures(spec);

  // Families in order of first appearance; failed models are listed under the figure.
  std::vector<std::string> families;
  std::vector<std::string> failed;
  std::vector<Panel> panels;
  for (Measure m : measures) panels.push_back({m, {}});
  std::size_t n_items = 0;
  for (const ModelOutcome& o : outcomes) {
    if (!o.result) {
      failed.push_back(o.name);
      continue;
    }
    auto it = std::find(families.begin(), families.end(), o.result->model.family);
    if (it == families.end()) it = families.insert(families.end(), o.result->model.family);
    const std::size_t family = static_cast<std::size_t>(it - families.begin());
    n_items = std::max(n_items, o.result->n_items);
    for (Panel& p : panels) {
      const DifferenceSummary& d = o.result->summary.contrasts.at(contrast_index).measures[index_of(p.measure)];
      p.points.push_back({o.name, family, scaling_x(spec, *o.result), d.item_weighted.mean, d.item_weighted.ci.low,
                          d.item_weighted.ci.high});
    }
  }

  // The x range is shared by all panels; extra room on the right holds the point labels.
  double xmin = 0, xmax = 0;
  if (!panels.front().points.empty()) {
    xmin = xmax = panels.front().points.front().x;
    for (const Point& p : panels.front().points) {
      xmin = std::min(xmin, p.x);
      xmax = std::max(xmax, p.x);
    }
  } else {
    xmin = 5, xmax = 6;
  }
  const double span = std::max(xmax - xmin, 0.5);
  const double x_lo = xmin - 0.12 * span, x_hi = xmax + 0.28 * span;

  const int level = static_cast<int>(std::lround(spec.bootstrap.level * 100));
  const std::vector<std::string> subtitle = {
      fmt::format("Mean over {} items per model (each item: mean over its measured tokens).", n_items),
      fmt::format("Error bars: {}% paired bootstrap CI over items ({} resamples).", level, spec.bootstrap.samples)};

  // Legend: each family with its marker, then its fitted slopes (the dashed lines), then failures.
  std::vector<LegendLine> legend;
  for (std::size_t f = 0; f < families.size(); ++f) {
    std::vector<std::string> fit_lines;
    for (Measure m : measures) {
      for (const SlopeFit& fit : fits) {
        if (fit.contrast != contrast_index || fit.family != families[f] || fit.measure != m) continue;
        std::string line = fmt::format("dashed: least-squares fit (shaded: its slope's interval), {} slope {} bits per 10× parameters",
                                       measure_label(m), typeset(signed_fixed(fit.line.slope, 3)));
        if (fit.slope_ci)
          line += fmt::format(", {}% CI [{}, {}]", level, typeset(signed_fixed(fit.slope_ci->low, 3)),
                              typeset(signed_fixed(fit.slope_ci->high, 3)));
        fit_lines.push_back(line);
      }
    }
    legend.push_back({f, fit_lines.empty() ? families[f] + "  (one model size: no fit)" : families[f], 12,
                      "#222", 20});
    for (const auto& line : fit_lines) legend.push_back({std::nullopt, line, 11, "#444", 20});
  }
  if (!failed.empty()) {
    std::string names;
    for (const auto& n : failed) names += (names.empty() ? "" : ", ") + n;
    legend.push_back({std::nullopt, "Failed, not shown: " + names, 12, "#b00020", 0});
  }

  const double panel_block = kLeft + kPanelWidth + kRight;
  double width = panel_block * static_cast<double>(panels.size()) + 12;
  for (const auto& line : subtitle) width = std::max(width, kLeft + text_width(line, 12) + 24);
  for (const auto& line : legend) width = std::max(width, kLeft + line.indent + text_width(line.text, line.font_size) + 24);
  const double height = kTop + kPanelHeight + kBottom + kLegendRow * static_cast<double>(legend.size()) + 12;

  std::string svg;
  auto add = [&](const std::string& s) { svg += s + "\n"; };
  add(R"(<?xml version="1.0" encoding="UTF-8"?>)");
  add(fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:.0f}" height="{1:.0f}" viewBox="0 0 {0:.0f} {1:.0f}" font-family="{2}">)",
                  width, height, kFont));
  add(fmt::format(R"(<title>{}: {}</title>)", xml(spec.name), xml(contrast.name)));
  add(fmt::format(R"(<rect x="0" y="0" width="{:.0f}" height="{:.0f}" fill="#ffffff"/>)", width, height));
  add(fmt::format(R"(<text x="{:.1f}" y="28" font-size="17" font-weight="bold" fill="#111">Δ = {} − {}</text>)", kLeft,
                  xml(spec.conditions[contrast.plus].name), xml(spec.conditions[contrast.minus].name)));
  for (std::size_t i = 0; i < subtitle.size(); ++i)
    add(fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" fill="#555">{}</text>)", kLeft,
                    48 + 16 * static_cast<double>(i), xml(subtitle[i])));

  const std::string x_title = spec.scaling_axis == ScalingAxis::kTotalParameters
                                  ? "parameters (log scale)"
                                  : "non-embedding parameters (log scale)";
  for (std::size_t pi = 0; pi < panels.size(); ++pi) {
    const Panel& panel = panels[pi];
    const double x0 = panel_block * static_cast<double>(pi) + kLeft, y0 = kTop;
    const double x1 = x0 + kPanelWidth, y1 = y0 + kPanelHeight;

    double y_lo = 0, y_hi = 0;  // zero is always in view: the reference for a difference
    for (const Point& p : panel.points) {
      y_lo = std::min(y_lo, p.low);
      y_hi = std::max(y_hi, p.high);
    }
    if (y_hi - y_lo < 1e-6) y_hi = y_lo + 0.1;
    const double pad = 0.08 * (y_hi - y_lo);
    y_lo -= pad;
    y_hi += pad;
    const auto yticks = plot::linear_ticks(y_lo, y_hi, 6);
    y_lo = std::min(y_lo, yticks.front());
    y_hi = std::max(y_hi, yticks.back());
    const int decimals = yticks.size() > 1 ? plot::decimals_for(yticks[1] - yticks[0]) : 2;

    auto px = [&](double x) { return x0 + (x - x_lo) / (x_hi - x_lo) * kPanelWidth; };
    auto py = [&](double y) { return y1 - (y - y_lo) / (y_hi - y_lo) * kPanelHeight; };

    add(fmt::format(R"(<g id="panel-{}">)", measure_label(panel.measure)));
    add(fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="14" font-weight="bold" fill="#111">Δ mean {}</text>)", x0,
                    y0 - 14, measure_label(panel.measure)));
    add(fmt::format(R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="#fbfbfb" stroke="none"/>)", x0,
                    y0, kPanelWidth, kPanelHeight));
    // Grid and tick labels.
    for (double t : yticks) {
      add(fmt::format(R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="#e3e3e3" stroke-width="1"/>)", x0,
                      py(t), x1, py(t)));
      const std::string label = t == 0.0 ? "0" : typeset(signed_fixed(t, decimals));
      add(fmt::format(R"(<text x="{:.2f}" y="{:.2f}" font-size="11" fill="#333" text-anchor="end">{}</text>)", x0 - 6,
                      py(t) + 4, label));
    }
    for (double t : plot::log_ticks(x_lo, x_hi, false)) {
      add(fmt::format(R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="#e3e3e3" stroke-width="1"/>)",
                      px(t), y0, px(t), y1));
      add(fmt::format(R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="#333" stroke-width="1"/>)", px(t),
                      y1, px(t), y1 + 5));
      add(fmt::format(R"(<text x="{:.2f}" y="{:.2f}" font-size="11" fill="#333" text-anchor="middle">{}</text>)", px(t),
                      y1 + 18, short_count(std::pow(10.0, t) * (1 + 1e-9))));
    }
    for (double t : plot::log_ticks(x_lo, x_hi, true))
      add(fmt::format(R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="#333" stroke-width="0.8"/>)",
                      px(t), y1, px(t), y1 + 3));
    // Zero line and frame.
    add(fmt::format(
        R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="#666" stroke-width="1" stroke-dasharray="5,4"/>)",
        x0, py(0), x1, py(0)));
    add(fmt::format(R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="none" stroke="#333" stroke-width="1"/>)",
                    x0, y0, kPanelWidth, kPanelHeight));
    // Axis titles.
    add(fmt::format(R"(<text x="{:.2f}" y="{:.2f}" font-size="12" fill="#111" text-anchor="middle">{}</text>)",
                    (x0 + x1) / 2, y1 + 38, x_title));
    add(fmt::format(
        R"svg(<text x="{0:.2f}" y="{1:.2f}" font-size="12" fill="#111" text-anchor="middle" transform="rotate(-90 {0:.2f} {1:.2f})">Δ {2} (bits)</text>)svg",
        x0 - 54, (y0 + y1) / 2, measure_label(panel.measure)));

    // Per-family fit lines (under the points).
    for (const SlopeFit& f : fits) {
      if (f.contrast != contrast_index || f.measure != panel.measure) continue;
      const auto fam = std::find(families.begin(), families.end(), f.family);
      if (fam == families.end()) continue;
      double fx_lo = 1e300, fx_hi = -1e300;
      for (const Point& p : panel.points)
        if (families[p.family] == f.family) {
          fx_lo = std::min(fx_lo, p.x);
          fx_hi = std::max(fx_hi, p.x);
        }
      const char* color = plot::color(static_cast<std::size_t>(fam - families.begin()));
      if (f.slope_ci) {
        // The slope's interval as a band pivoting on the fit's centre (the mean of the family's points).
        double sum_x = 0;
        int n = 0;
        for (const Point& p : panel.points)
          if (families[p.family] == f.family) sum_x += p.x, ++n;
        const double xc = sum_x / n, yc = f.line.intercept + f.line.slope * xc;
        std::string points;
        for (const plot::DataPoint& q : plot::slope_band(xc, yc, f.slope_ci->low, f.slope_ci->high, fx_lo, fx_hi))
          points += fmt::format("{:.2f},{:.2f} ", px(q.x), py(std::clamp(q.y, y_lo, y_hi)));
        add(fmt::format(R"(<polygon class="slope-band" points="{}" fill="{}" opacity="0.12" stroke="none"/>)", points, color));
      }
      add(fmt::format(
          R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="{}" stroke-width="1.6" stroke-dasharray="7,4" opacity="0.8"/>)",
          px(fx_lo), py(f.line.intercept + f.line.slope * fx_lo), px(fx_hi),
          py(f.line.intercept + f.line.slope * fx_hi), color));
    }
    // Error bars, markers, labels.
    for (const Point& p : panel.points) {
      const char* color = plot::color(p.family);
      const double x = px(p.x);
      add(fmt::format(R"(<g><title>{}: {} [{}, {}] bits</title>)", xml(p.model), signed_fixed(p.y, 4),
                      signed_fixed(p.low, 4), signed_fixed(p.high, 4)));
      add(fmt::format(R"(<line x1="{0:.2f}" y1="{1:.2f}" x2="{0:.2f}" y2="{2:.2f}" stroke="{3}" stroke-width="1.6"/>)", x,
                      py(p.low), py(p.high), color));
      for (double yv : {p.low, p.high})
        add(fmt::format(R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="{}" stroke-width="1.6"/>)",
                        x - 5, py(yv), x + 5, py(yv), color));
      add(marker_svg(plot::marker(p.family), x, py(p.y), color, 5.0));
      // A white halo keeps the label readable where it crosses a line.
      add(fmt::format(
          R"(<text x="{:.2f}" y="{:.2f}" font-size="11" fill="#222" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">{}</text>)",
          x + 9, py(p.y) - 6, xml(p.model)));
      add("</g>");
    }
    add("</g>");
  }

  double ly = kTop + kPanelHeight + kBottom;
  for (const LegendLine& line : legend) {
    if (line.family)
      add(marker_svg(plot::marker(*line.family), kLeft + 6, ly - 4, plot::color(*line.family), 5.0));
    add(fmt::format(R"(<text x="{:.2f}" y="{:.2f}" font-size="{:.0f}" fill="{}">{}</text>)", kLeft + line.indent, ly,
                    line.font_size, line.color, xml(line.text)));
    ly += kLegendRow;
  }
  add("</svg>");
  return svg;
}

}  // namespace entroscope::experiment
