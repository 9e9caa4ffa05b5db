#include "experiment/summary_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiment/scaling_summary.h"
#include "experiment/text_format.h"

namespace entroscope::experiment {

std::string summary_table(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                          const std::vector<SlopeFit>& fits) {
  const auto measures = reported_measures(spec);
  const bool one_contrast = spec.contrasts.size() == 1;
  const int level = static_cast<int>(std::lround(spec.bootstrap.level * 100));

  std::vector<std::string> header = {"model", "family", "params", "items",
                                     spec.unit == Unit::kWord ? "words" : "tokens"};
  for (const Condition& c : spec.conditions) header.push_back(fmt::format("{} {}", measures.front() == Measure::kEntropy ? "H" : "S", c.name));
  // Without contrasts the table has room for the other measures of each condition: mean surprisal
  // and the corpus perplexity 2^(token-weighted mean surprisal).
  const bool no_contrasts = spec.contrasts.empty();
  if (no_contrasts) {
    for (const Condition& c : spec.conditions) {
      if (measures.front() == Measure::kEntropy) header.push_back(fmt::format("S {}", c.name));
      header.push_back(fmt::format("PPL {}", c.name));
    }
  }
  for (const Contrast& k : spec.contrasts)
    for (Measure m : measures)
      header.push_back(one_contrast ? fmt::format("Δ {} [{}% CI]", measure_label(m), level)
                                    : fmt::format("Δ {} {} [{}% CI]", measure_label(m), k.name, level));
  std::vector<std::vector<std::string>> rows = {header};
  bool any_reused = false;
  for (const ModelOutcome& o : outcomes) {
    std::vector<std::string> row = {o.name + (o.status == ModelStatus::kReused ? "*" : ""), o.family,
                                    short_count(static_cast<double>(o.parameters))};
    any_reused = any_reused || o.status == ModelStatus::kReused;
    if (!o.result) {
      row.insert(row.end(), 2 + spec.conditions.size() * (no_contrasts ? (measures.front() == Measure::kEntropy ? 3 : 2) : 1),
                 "-");
      row.push_back("FAILED (reason below)");
      rows.push_back(row);
      continue;
    }
    const ModelSummary& s = o.result->summary;
    row.push_back(std::to_string(s.n_items));
    bool same_tokens = true;
    for (const ConditionSummary& c : s.conditions) same_tokens = same_tokens && c.n_tokens == s.conditions[0].n_tokens;
    row.push_back(same_tokens ? std::to_string(s.conditions[0].n_tokens) : "varies");
    for (const ConditionSummary& c : s.conditions)
      row.push_back(fmt::format("{:.3f}", c.item_weighted[index_of(measures.front())].mean));
    if (no_contrasts) {
      for (const ConditionSummary& c : s.conditions) {
        if (measures.front() == Measure::kEntropy) {
          row.push_back(fmt::format("{:.3f}", c.item_weighted[index_of(Measure::kSurprisal)].mean));
        }
        row.push_back(fmt::format("{:.2f}", c.perplexity));
      }
    }
    for (const ContrastSummary& k : s.contrasts)
      for (Measure m : measures) {
        const Estimate& e = k.measures[index_of(m)].item_weighted;
        row.push_back(fmt::format("{} {}", signed_fixed(e.mean, 3), signed_interval(e.ci.low, e.ci.high, 3)));
      }
    rows.push_back(row);
  }

  std::string out = fmt::format("\nExperiment '{}'{}\n", spec.name,
                                one_contrast ? fmt::format(": Δ = {} (bits; mean over items)", spec.contrasts[0].name)
                                             : std::string(" (bits; mean over items)"));
  out += text_table(rows, 2);
  if (any_reused) out += "* reused from an earlier run with the same spec and weights (--force recomputes)\n";
  std::size_t fewest = 0;
  for (const ModelOutcome& o : outcomes) {
    if (o.result) fewest = fewest == 0 ? o.result->summary.n_items : std::min(fewest, o.result->summary.n_items);
  }
  if (fewest > 0 && fewest < 10 && !spec.contrasts.empty()) {
    out += fmt::format("Note: with {} item{} the intervals are not meaningful; use 10 or more (better: dozens).\n",
                       fewest, fewest == 1 ? "" : "s");
  }

  if (!fits.empty()) {
    out += "\nSlope of Δ per 10x parameters (least squares over log10 parameters; CI from the item bootstrap):\n";
    for (const SlopeFit& f : fits) {
      if (std::find(measures.begin(), measures.end(), f.measure) == measures.end()) continue;
      const std::string ci = f.slope_ci ? fmt::format(" {}", signed_interval(f.slope_ci->low, f.slope_ci->high, 3))
                                        : fmt::format(" ({})", f.note);
      out += fmt::format("  {:<10} {:<10} {}{}  ({} models){}\n", f.family, measure_label(f.measure),
                         signed_fixed(f.line.slope, 3), ci, f.models.size(),
                         one_contrast ? std::string() : "  " + spec.contrasts[f.contrast].name);
    }
  }
  bool header_done = false;
  for (const ModelOutcome& o : outcomes) {
    if (o.result) continue;
    if (!header_done) out += "\nFailed:\n";
    header_done = true;
    out += fmt::format("  {}\n", o.failure);
  }
  return out;
}

}  // namespace entroscope::experiment
