#include "doctor/activation_check.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "common/error.h"
#include "doctor/weight_check.h"
#include "io/dtype.h"
#include "io/safetensors.h"
#include "metrics/entropy.h"

namespace entroscope::doctor {

namespace {

constexpr double kFp16Max = 65504.0;

std::string step_label(int layer, const std::string& step) {
  return layer >= 0 ? fmt::format("layer {} {}", layer, step) : step;
}

// Records statistics of every step; leaves the finite check to the forward.
class TraceObserver : public model::ForwardObserver {
 public:
  struct Row {
    int layer;
    std::string step;
    TensorStats stats;
  };
  std::vector<Row> rows;
  bool on_step(const model::StepView& v) override {
    std::size_t n = static_cast<std::size_t>(v.rows) * v.width;
    rows.push_back({v.layer, v.step, tensor_stats(v.data, n)});
    return true;
  }
};

// Emulates a narrower float format: rounds every step's output in place (as a framework storing
// activations in that format would), and records the first value beyond the format's range.
class RoundingObserver : public model::ForwardObserver {
 public:
  explicit RoundingObserver(float (*round)(float), double max_finite) : round_(round), max_finite_(max_finite) {}
  std::optional<model::NonFiniteLocation> first_overflow;
  bool on_step(const model::StepView& v) override {
    std::size_t n = static_cast<std::size_t>(v.rows) * v.width;
    for (std::size_t i = 0; i < n; ++i) {
      float x = v.data[i];
      if (!first_overflow && std::isfinite(x) && std::fabs(x) > max_finite_) {
        model::NonFiniteLocation w;
        w.layer = v.layer;
        w.step = v.step;
        const int row = static_cast<int>(i / v.width);
        w.batch_row = v.sequences->sequence_of(row);
        w.position = v.sequences->position_of(row);
        w.channel = static_cast<int>(i % v.width);
        w.value = x;
        first_overflow = w;
      }
      v.data[i] = round_(x);
    }
    return false;  // keep going past inf/NaN: the point is to see what the format does
  }

 private:
  float (*round_)(float);
  double max_finite_;
};

float round_f16(float x) { return io::f16_to_f32(io::f32_to_f16(x)); }
float round_bf16(float x) { return io::bf16_to_f32(io::f32_to_bf16(x)); }
double widen(float x) { return x; }

struct PathResult {
  std::string name;
  double max_dlogit = 0, max_dentropy = 0, mean_dentropy = 0;
  std::uint64_t nonfinite_logits = 0;
  std::optional<model::NonFiniteLocation> overflow;
};

template <typename Scalar>
PathResult compare_path(const std::string& name, const std::vector<Scalar>& logits, const std::vector<double>& ref_logits,
                        const std::vector<std::int32_t>& ids, int V, const std::vector<double>& ref_entropy) {
  PathResult r;
  r.name = name;
  const int T = static_cast<int>(ids.size());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!std::isfinite(static_cast<double>(logits[i]))) {
      ++r.nonfinite_logits;
      continue;
    }
    r.max_dlogit = std::max(r.max_dlogit, std::fabs(static_cast<double>(logits[i]) - ref_logits[i]));
  }
  if (r.nonfinite_logits > 0) return r;
  std::vector<double> entropy(T);
  metrics::score_rows(logits.data(), ids.data(), 1, T, V, entropy.data(), nullptr);
  double sum = 0;
  for (int t = 0; t < T; ++t) {
    double d = std::fabs(entropy[t] - ref_entropy[t]);
    r.max_dentropy = std::max(r.max_dentropy, d);
    sum += d;
  }
  r.mean_dentropy = sum / T;
  return r;
}

std::string location_text(const model::NonFiniteLocation& w) {
  return fmt::format("{}, token position {}, channel {} (value {:.6g})", step_label(w.layer, w.step), w.position,
                     w.channel, w.value);
}

}  // namespace

void check_activations(const model::Model& m, const std::vector<std::int32_t>& ids, Report& report) {
  TraceObserver trace;
  model::Activations act;
  const int T = static_cast<int>(ids.size());
  std::vector<float> logits(static_cast<std::size_t>(T) * m.config.vocab_size);
  nlohmann::ordered_json section;
  section["tokens"] = T;
  try {
    model::forward(m, ids, 1, T, act, {logits.data(), nullptr}, &trace);
    double absmax = 0;
    std::string where;
    for (const auto& r : trace.rows)
      if (r.step.rfind("residual", 0) == 0 && r.stats.absmax > absmax) {
        absmax = r.stats.absmax;
        where = step_label(r.layer, r.step);
      }
    report.add(Severity::kOk, "activations",
               fmt::format("all {} steps finite over {} tokens; largest |residual stream| {:.4g} at {}", trace.rows.size(),
                           T, absmax, where.empty() ? "-" : where));
  } catch (const model::NonFiniteError& e) {
    const auto& w = e.where();
    section["first_non_finite"] = {{"layer", w.layer},          {"step", w.step},       {"position", w.position},
                                   {"channel", w.channel},      {"value", fmt::format("{}", w.value)}};
    report.add(Severity::kProblem, "activations",
               fmt::format("first non-finite value: {}", location_text(w)));
  }
  nlohmann::ordered_json steps = nlohmann::ordered_json::array();
  for (const auto& r : trace.rows)
    steps.push_back({{"layer", r.layer}, {"step", r.step}, {"absmax", r.stats.absmax}, {"mean", r.stats.mean},
                     {"std", r.stats.std}, {"nan", r.stats.nan}, {"inf", r.stats.inf}});
  section["steps"] = std::move(steps);
  report.sections["activations"] = std::move(section);
}

void check_precision(const model::Model& m, const std::vector<std::int32_t>& ids, Report& report) {
  const int T = static_cast<int>(ids.size()), V = m.config.vocab_size;
  const std::size_t n = static_cast<std::size_t>(T) * V;
  nlohmann::ordered_json section;

  // float64 reference: the same code path with every weight widened exactly.
  auto f64_weights = model::convert_weights<double>(m, &widen);
  model::ActivationsT<double> act64;
  std::vector<double> ref_logits(n);
  try {
    model::forward_with<double>(m, f64_weights.weights, ids, 1, T, act64, {ref_logits.data(), nullptr});
  } catch (const model::NonFiniteError& e) {
    report.add(Severity::kProblem, "precision",
               fmt::format("the float64 reference forward also goes non-finite at {}: the weights or the input, not "
                           "the precision, are at fault",
                           location_text(e.where())));
    report.sections["precision"] = std::move(section);
    return;
  }
  std::vector<double> ref_entropy(T);
  metrics::score_rows(ref_logits.data(), ids.data(), 1, T, V, ref_entropy.data(), nullptr);

  std::vector<PathResult> results;
  {
    model::Activations act;
    std::vector<float> logits(n);
    try {
      model::forward(m, ids, 1, T, act, {logits.data(), nullptr});
      results.push_back(compare_path("fp32 (entroscope)", logits, ref_logits, ids, V, ref_entropy));
    } catch (const model::NonFiniteError& e) {
      PathResult r;
      r.name = "fp32 (entroscope)";
      r.nonfinite_logits = 1;
      r.overflow = e.where();
      results.push_back(r);
    }
  }
  struct Emulated {
    const char* name;
    float (*round)(float);
    double max_finite;
  };
  for (const Emulated& em : {Emulated{"fp16 (emulated)", &round_f16, kFp16Max},
                             Emulated{"bf16 (emulated)", &round_bf16, 3.3895313892515355e38}}) {
    auto weights = model::convert_weights<float>(m, em.round);
    RoundingObserver rounding(em.round, em.max_finite);
    model::Activations act;
    std::vector<float> logits(n);
    model::forward_with<float>(m, weights.weights, ids, 1, T, act, {logits.data(), nullptr}, &rounding);
    PathResult r = compare_path(em.name, logits, ref_logits, ids, V, ref_entropy);
    r.overflow = rounding.first_overflow;
    results.push_back(r);
  }

  nlohmann::ordered_json paths = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json pj{{"path", r.name},
                              {"max_abs_dlogit_vs_f64", r.max_dlogit},
                              {"max_abs_dentropy_bits_vs_f64", r.max_dentropy},
                              {"mean_abs_dentropy_bits_vs_f64", r.mean_dentropy},
                              {"non_finite_logits", r.nonfinite_logits}};
    if (r.overflow) pj["first_overflow"] = location_text(*r.overflow);
    paths.push_back(std::move(pj));
  }
  section["reference"] = "float64 forward over the same weights and tokens";
  section["paths"] = std::move(paths);
  report.sections["precision"] = std::move(section);

  const PathResult& fp32 = results[0];
  if (fp32.nonfinite_logits == 0)
    report.add(Severity::kOk, "precision",
               fmt::format("fp32 vs float64: max |Δlogit| {:.2e}, max |Δentropy| {:.2e} bits", fp32.max_dlogit,
                           fp32.max_dentropy));
  for (std::size_t i = 1; i < results.size(); ++i) {
    const PathResult& r = results[i];
    if (r.overflow) {
      report.add(Severity::kWarning, "precision",
                 fmt::format("{} would overflow: first |x| beyond its range at {}; {} non-finite logits", r.name,
                             location_text(*r.overflow), r.nonfinite_logits));
    } else if (r.nonfinite_logits > 0) {
      report.add(Severity::kWarning, "precision", fmt::format("{}: {} non-finite logits", r.name, r.nonfinite_logits));
    } else {
      report.add(Severity::kOk, "precision",
                 fmt::format("{} would be safe here: max |Δlogit| {:.3g}, max |Δentropy| {:.3g} bits vs float64", r.name,
                             r.max_dlogit, r.max_dentropy));
    }
  }
}

void compare_with_reference(const model::Model& m, std::vector<std::int32_t> ids, const std::filesystem::path& ref_path,
                            double rel_tolerance, Report& report) {
  io::SafetensorsFile ref(ref_path);
  int B = 1, T = static_cast<int>(ids.size());
  if (const io::TensorInfo* in = ref.find("input_ids")) {
    auto ids64 = io::read_as_i64(ref, *in);
    if (in->shape.size() != 2) fail("{}: input_ids has shape {}, expected [B, T]", ref_path.string(), in->shape_string());
    B = static_cast<int>(in->shape[0]);
    T = static_cast<int>(in->shape[1]);
    ids.assign(ids64.begin(), ids64.end());
  }
  const auto& c = m.config;
  std::vector<float> logits(static_cast<std::size_t>(B) * T * c.vocab_size);
  std::vector<std::vector<float>> hidden;
  model::Activations act;
  model::forward(m, ids, B, T, act, {logits.data(), &hidden});

  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::optional<std::string> first_beyond;
  int compared = 0;
  auto compare = [&](const std::string& name, const std::vector<float>& got) {
    const io::TensorInfo* info = ref.find(name);
    if (!info) return;
    std::vector<float> want = io::read_as_f32(ref, *info);
    if (want.size() != got.size())
      fail("{}: '{}' has {} values, the model produces {} for input [{}, {}]", ref_path.string(), name, want.size(),
           got.size(), B, T);
    double max_diff = 0, max_ref = 0, sq = 0;
    std::size_t worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      double d = std::fabs(static_cast<double>(got[i]) - want[i]);
      if (std::isnan(d)) d = INFINITY;
      if (d > max_diff) {
        max_diff = d;
        worst = i;
      }
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[i])));
      sq += d * d;
    }
    double limit = rel_tolerance * std::max(1.0, max_ref);
    bool beyond = !(max_diff <= limit);
    std::size_t width = want.size() / (static_cast<std::size_t>(B) * T);
    std::size_t row = worst / width;
    rows.push_back({{"tensor", name}, {"max_abs_diff", max_diff}, {"rms_diff", std::sqrt(sq / want.size())},
                    {"max_abs_reference", max_ref}, {"beyond_tolerance", beyond},
                    {"worst_position", row % T}, {"worst_channel", worst % width}});
    ++compared;
    if (beyond && !first_beyond)
      first_beyond = fmt::format("{} (max |Δ| {:.3g} > {:.3g}, worst at token position {}, channel {})", name, max_diff,
                                 limit, row % T, worst % width);
  };
  for (std::size_t k = 0; k < hidden.size(); ++k) compare("hidden." + std::to_string(k), hidden[k]);
  compare("logits", logits);
  if (compared == 0)
    fail("{}: no hidden.K or logits tensors to compare (expected transformers' output_hidden_states layout)",
         ref_path.string());
  report.sections["compare"] = {{"reference", ref_path.string()}, {"tolerance_relative", rel_tolerance},
                                {"tensors", std::move(rows)}};
  if (first_beyond)
    report.add(Severity::kProblem, "compare", "first divergence beyond tolerance: " + *first_beyond);
  else
    report.add(Severity::kOk, "compare", fmt::format("{} tensors agree with {} within tolerance", compared,
                                                     ref_path.filename().string()));
}

}  // namespace entroscope::doctor
