#include "experiment/analysis_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiment/text_format.h"

namespace entroscope::experiment {

namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out + "\"";
}

std::string test_text(const std::optional<TestResult>& t) {
  if (!t) return "no test";
  if (t->name == "paired_t") {
    const std::string stat = t->statistic ? fmt::format("t = {:.2f}", *t->statistic) : std::string("t undefined");
    return fmt::format("paired t-test {} (df {:.0f}), {}", stat, t->df.value_or(0), format_p(t->p_value));
  }
  return fmt::format("sign-flip test ({} {} patterns), {}", t->exact ? "all" : "random", t->permutations,
                     format_p(t->p_value));
}

// One sentence that says what the interval supports, without over-reading it.
std::string reading(const ContrastSummary& k, Measure m, double level) {
  const DifferenceSummary& d = k.measures[index_of(m)];
  const double v = d.item_weighted.mean;
  const bool excludes_zero = d.item_weighted.ci.low > 0 || d.item_weighted.ci.high < 0;
  const std::string direction = v >= 0 ? "higher" : "lower";
  std::string s = fmt::format("mean {} is {:.3f} bits {} under {} than under {}", measure_label(m), std::fabs(v),
                              direction, k.plus, k.minus);
  const int n = d.n_negative + d.n_zero + d.n_positive;
  if (n <= 1) return s + "; with a single item there is no interval to read.";
  if (n < 10) {
    return s + fmt::format("; with only {} items the {:.0f}% interval [{:+.3f}, {:+.3f}] is not meaningful.", n, level * 100,
                           d.item_weighted.ci.low, d.item_weighted.ci.high);
  }
  if (excludes_zero)
    s += fmt::format("; the {:.0f}% interval excludes 0.", level * 100);
  else
    s += fmt::format("; the {:.0f}% interval includes 0, so no difference is resolved at this sample size.",
                     level * 100);
  return s;
}

}  // namespace

std::string describe_condition(const Condition& condition, const std::map<std::string, std::int32_t>& special_ids) {
  std::string out;
  for (std::size_t s = 0; s < condition.segments.size(); ++s) {
    const Segment& seg = condition.segments[s];
    std::string part;
    if (seg.kind == SegmentKind::kSpecialToken) {
      auto it = special_ids.find(seg.special);
      part = it == special_ids.end() ? seg.special : fmt::format("{} (id {})", seg.special, it->second);
    } else {
      part = quoted(seg.text.source());
    }
    if (seg.measured) part = "[" + part + "]";
    out += (s ? " + " : "") + part;
  }
  return out;
}

std::string analysis_text(const ExperimentSpec& spec, const ModelResult& r, const std::string& results_file) {
  const ModelProvenance& m = r.model;
  const ModelSummary& s = r.summary;
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  const std::string title = fmt::format("entroscope experiment '{}': model {}", r.experiment_name, m.name);
  line(title);
  line(std::string(display_width(title), '='));
  if (!spec.description.empty()) {
    std::string description = spec.description;
    while (!description.empty() && description.back() == '\n') description.pop_back();
    line(description);
  }
  line("");
  line(fmt::format("model       {} ({}, {} architecture), {} parameters ({} non-embedding)", m.name, m.family, m.arch,
                   grouped(m.parameters), grouped(m.non_embedding_parameters)));
  line(fmt::format("            {} [{}{}]", m.path, m.source,
                   m.repo_id.empty() ? std::string() : fmt::format(": {} @ {}", m.repo_id, m.commit)));
  for (const FileDigest& w : m.weight_files)
    line(fmt::format("weights     {} ({} bytes) sha256 {}", w.file, grouped(static_cast<long long>(w.bytes)), w.sha256));
  line(fmt::format("compute     float32 (stored as {}), {} threads, GEMM kernel {}",
                   m.storage_dtype.empty() ? "?" : m.storage_dtype, r.run.threads,
                   r.run.gemm_kernel.empty() ? r.run.blas : r.run.gemm_kernel));
  line(fmt::format("data        {}: {} items (sha256 {})", r.data.file, r.n_items, r.data.sha256));
  line("conditions  (segments tokenized separately and concatenated; [measured span])");
  std::size_t width = 0;
  for (const Condition& c : spec.conditions) width = std::max(width, c.name.size());
  for (const Condition& c : spec.conditions)
    line(fmt::format("            {} = {}", pad_right(c.name, width), describe_condition(c, m.special_tokens)));
  std::string strides;
  for (const auto& [condition, stride] : r.window.stride_by_condition)
    strides += fmt::format("{}{} ({})", strides.empty() ? "" : ", ", stride, condition);
  line(fmt::format("window      {} tokens, stride {}{}; {} item/condition sequence(s) needed more than one window",
                   r.window.length, strides, r.window.stride_setting ? "" : " (default: half the room)",
                   r.window.sequences_windowed));
  line(fmt::format("statistics  paired percentile bootstrap over items: {} resamples, seed {}, {:.0f}% level",
                   spec.bootstrap.samples, spec.bootstrap.seed, spec.bootstrap.level * 100));
  line("");

  const int level = static_cast<int>(std::lround(spec.bootstrap.level * 100));
  const bool words = spec.unit == Unit::kWord;
  if (words) {
    line("unit        word: measured values are per word of the measured span (docs/words.md): the first");
    line("            subword's entropy and the beginning-of-word corrected surprisal (surprisal_bow_bits)");
  }
  line(fmt::format("Per condition (bits; item-weighted = mean over items of each item's mean over its measured {})",
                   words ? "words" : "tokens"));
  std::vector<std::vector<std::string>> rows = {{"condition", words ? "words" : "tokens", "entropy", fmt::format("{}% CI", level),
                                                 "token-wtd", "surprisal", fmt::format("{}% CI", level), "token-wtd",
                                                 "perplexity"}};
  for (const ConditionSummary& c : s.conditions) {
    const auto& h = c.item_weighted[index_of(Measure::kEntropy)];
    const auto& su = c.item_weighted[index_of(Measure::kSurprisal)];
    rows.push_back({c.name, std::to_string(c.n_tokens), fmt::format("{:.4f}", h.mean),
                    fmt::format("[{:.4f}, {:.4f}]", h.ci.low, h.ci.high),
                    fmt::format("{:.4f}", c.token_weighted[index_of(Measure::kEntropy)]), fmt::format("{:.4f}", su.mean),
                    fmt::format("[{:.4f}, {:.4f}]", su.ci.low, su.ci.high),
                    fmt::format("{:.4f}", c.token_weighted[index_of(Measure::kSurprisal)]),
                    fmt::format("{:.2f}", c.perplexity)});
  }
  out += text_table(rows, 1);
  line("");

  if (!s.contrasts.empty()) {
    line("Contrasts (per-item differences, bits)");
    for (const ContrastSummary& k : s.contrasts) {
      line(fmt::format("  {}", k.name));
      for (Measure mm : kMeasures) {
        const DifferenceSummary& d = k.measures[index_of(mm)];
        line(fmt::format("    {:<9}  {} {}% CI {}  token-weighted {}  sd {}  items lower/equal/higher {}/{}/{}",
                         measure_label(mm), signed_fixed(d.item_weighted.mean, 4), level,
                         signed_interval(d.item_weighted.ci.low, d.item_weighted.ci.high, 4),
                         signed_fixed(d.token_weighted, 4), d.sd_items ? fmt::format("{:.4f}", *d.sd_items) : "-",
                         d.n_negative, d.n_zero, d.n_positive));
        line(fmt::format("               {}", test_text(d.test)));
      }
    }
    line("");
    line("Reading");
    for (const ContrastSummary& k : s.contrasts)
      for (Measure mm : kMeasures) line(fmt::format("  {}: {}", k.name, reading(k, mm, spec.bootstrap.level)));
    line("");
  }

  line("Reproducibility");
  line(fmt::format("  entroscope {} (git {}), started {}, finished {} ({:.1f} s)", r.run.entroscope_version,
                   r.run.git_hash, r.run.started_utc, r.run.finished_utc, r.run.wall_seconds));
  for (const FileDigest& t : m.tokenizer_files) line(fmt::format("  tokenizer {} sha256 {}", t.file, t.sha256));
  line(fmt::format("  resume key {}", r.resume_key));
  line(fmt::format("  results    {}", results_file));
  if (!r.per_token_file.empty()) line(fmt::format("  {}  {}", words ? "per-word " : "per-token", r.per_token_file));
  return out;
}

}  // namespace entroscope::experiment
