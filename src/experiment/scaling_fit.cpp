#include "experiment/scaling_fit.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "experiment/model_summary.h"

namespace entroscope::experiment {

std::optional<LineFit> fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  if (x.size() < 2) return std::nullopt;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx <= 1e-24) return std::nullopt;  // all models the same size
  LineFit f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  return f;
}

long long axis_parameters(const ExperimentSpec& spec, const ModelResult& r) {
  return spec.scaling_axis == ScalingAxis::kTotalParameters ? r.model.parameters : r.model.non_embedding_parameters;
}

double scaling_x(const ExperimentSpec& spec, const ModelResult& r) {
  return std::log10(static_cast<double>(std::max<long long>(1, axis_parameters(spec, r))));
}

namespace {
bool same_items(const ModelResult& a, const ModelResult& b) {
  if (a.items.size() != b.items.size()) return false;
  for (std::size_t i = 0; i < a.items.size(); ++i)
    if (a.items[i].id != b.items[i].id) return false;
  return true;
}
}  // namespace

std::vector<SlopeFit> fit_scaling(const ExperimentSpec& spec, const std::vector<const ModelResult*>& results) {
  std::vector<std::string> family_order;
  std::map<std::string, std::vector<const ModelResult*>> by_family;
  for (const ModelResult* r : results) {
    if (!by_family.count(r->model.family)) family_order.push_back(r->model.family);
    by_family[r->model.family].push_back(r);
  }
  std::vector<SlopeFit> fits;
  for (const std::string& family : family_order) {
    const auto& members = by_family[family];
    std::vector<double> x;
    for (const ModelResult* r : members) x.push_back(scaling_x(spec, *r));
    bool aligned = true;
    for (const ModelResult* r : members) aligned = aligned && same_items(*members.front(), *r);
    for (std::size_t k = 0; k < spec.contrasts.size(); ++k) {
      const Contrast& contrast = spec.contrasts[k];
      for (Measure m : kMeasures) {
        std::vector<double> y;
        std::vector<std::vector<double>> per_item;
        for (const ModelResult* r : members) {
          y.push_back(r->summary.contrasts.at(k).measures[index_of(m)].item_weighted.mean);
          per_item.push_back(item_differences(r->items, contrast.plus, contrast.minus, m));
        }
        const auto line = fit_line(x, y);
        if (!line) continue;
        SlopeFit fit;
        fit.family = family;
        fit.contrast = k;
        fit.measure = m;
        fit.line = *line;
        for (const ModelResult* r : members) fit.models.push_back(r->model.name);
        if (!aligned) {
          fit.note = "the models were scored on different items, so no paired interval";
        } else {
          std::vector<const std::vector<double>*> series;
          for (const auto& s : per_item) series.push_back(&s);
          const PairedBootstrap bootstrap(per_item.front().size(), spec.bootstrap);
          const auto means = bootstrap.resample_means(series);
          std::vector<double> slopes(means.front().size());
          std::vector<double> yb(members.size());
          for (std::size_t b = 0; b < slopes.size(); ++b) {
            for (std::size_t j = 0; j < members.size(); ++j) yb[j] = means[j][b];
            slopes[b] = fit_line(x, yb)->slope;
          }
          fit.slope_ci = bootstrap.interval(std::move(slopes));
        }
        fits.push_back(std::move(fit));
      }
    }
  }
  return fits;
}

}  // namespace entroscope::experiment
