#include "experiment/spec.h"

#include <algorithm>

namespace entroscope::experiment {

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::kEntropy: return "entropy";
    case Metric::kSurprisal: return "surprisal";
    case Metric::kPerplexity: return "perplexity";
  }
  return "?";
}

std::string_view per_token_format_name(PerTokenFormat f) {
  switch (f) {
    case PerTokenFormat::kNone: return "none";
    case PerTokenFormat::kJsonl: return "jsonl";
    case PerTokenFormat::kCsv: return "csv";
  }
  return "?";
}

std::string_view paired_test_name(PairedTestKind k) {
  switch (k) {
    case PairedTestKind::kNone: return "none";
    case PairedTestKind::kPairedT: return "paired_t";
    case PairedTestKind::kSignFlip: return "sign_flip";
  }
  return "?";
}

std::string_view scaling_axis_name(ScalingAxis a) {
  return a == ScalingAxis::kTotalParameters ? "parameters" : "non_embedding_parameters";
}

std::string_view unit_name(Unit u) { return u == Unit::kToken ? "token" : "word"; }

bool ExperimentSpec::wants(Metric m) const { return std::find(metrics.begin(), metrics.end(), m) != metrics.end(); }

const Condition* ExperimentSpec::find_condition(const std::string& n) const {
  for (const Condition& c : conditions)
    if (c.name == n) return &c;
  return nullptr;
}

std::vector<std::string> ExperimentSpec::referenced_fields() const {
  std::vector<std::string> out;
  for (const Condition& c : conditions)
    for (const Segment& s : c.segments)
      if (s.kind == SegmentKind::kTemplate)
        for (const std::string& f : s.text.fields()) out.push_back(f);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

nlohmann::json ExperimentSpec::canonical() const {
  using nlohmann::json;
  json conds = json::array();
  for (const Condition& c : conditions) {
    json segs = json::array();
    for (const Segment& s : c.segments) {
      json seg;
      switch (s.kind) {
        case SegmentKind::kTemplate: seg["template"] = s.text.source(); break;
        case SegmentKind::kLiteral: seg["literal"] = s.text.source(); break;
        case SegmentKind::kSpecialToken: seg["special"] = s.special; break;
      }
      seg["measured"] = s.measured;
      segs.push_back(seg);
    }
    conds.push_back({{"name", c.name}, {"segments", segs}, {"window_prefix_segments", c.window_prefix_segments}});
  }
  json contrasts_json = json::array();
  for (const Contrast& k : contrasts)
    contrasts_json.push_back({{"name", k.name}, {"plus", conditions[k.plus].name}, {"minus", conditions[k.minus].name}});
  json metrics_json = json::array();
  for (Metric m : metrics) metrics_json.push_back(metric_name(m));
  json canonical_spec = {
      {"id_field", id_field},
      {"conditions", conds},
      {"contrasts", contrasts_json},
      {"metrics", metrics_json},
      {"per_token", per_token_format_name(per_token)},
      {"statistics",
       {{"bootstrap", {{"samples", bootstrap.samples}, {"seed", bootstrap.seed}, {"level", bootstrap.level}}},
        {"test", paired_test_name(test.kind)},
        {"permutations", test.permutations}}},
      {"window", {{"length", window.length}, {"stride", window.stride}}},
  };
  // Only word units change the key, so finished token-unit results of earlier versions stay reusable.
  if (unit != Unit::kToken) canonical_spec["unit"] = unit_name(unit);
  return canonical_spec;
}

}  // namespace entroscope::experiment
