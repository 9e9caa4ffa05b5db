#include "experiment/scaling_summary.h"

#include <fmt/format.h>

#include "experiment/checked_output.h"
#include "experiment/model_source.h"
#include "experiment/text_format.h"

namespace entroscope::experiment {

std::string contrast_slug(const std::string& contrast_name) {
  std::string compact;
  for (char c : contrast_name)
    if (c != ' ') compact += c;
  return file_safe(compact);
}

std::vector<Measure> reported_measures(const ExperimentSpec& spec) {
  std::vector<Measure> out;
  for (Metric m : spec.metrics) {
    if (m == Metric::kEntropy) out.push_back(Measure::kEntropy);
    if (m == Metric::kSurprisal) out.push_back(Measure::kSurprisal);
  }
  if (out.empty()) out.push_back(Measure::kEntropy);
  return out;
}

namespace {


std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) line += ',';
    line += csv_field(cells[i]);
  }
  return line + "\n";
}

}  // namespace

std::string scaling_csv(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes) {
  const auto measures = reported_measures(spec);
  std::vector<std::string> header = {"model", "family", "arch", "status", "params_total", "params_non_embedding",
                                     "n_items"};
  for (const Condition& c : spec.conditions) {
    for (Measure m : measures) {
      const std::string base = fmt::format("{}_mean_{}", c.name, measure_key(m));
      for (const char* suffix : {"", "_ci_low", "_ci_high"}) header.push_back(base + suffix);
      header.push_back(fmt::format("{}_token_weighted_{}", c.name, measure_key(m)));
    }
    if (spec.wants(Metric::kPerplexity)) header.push_back(c.name + "_perplexity");
    header.push_back(c.name + "_n_tokens");
  }
  for (const Contrast& k : spec.contrasts) {
    for (Measure m : measures) {
      const std::string base = fmt::format("{}_delta_{}", contrast_slug(k.name), measure_key(m));
      for (const char* suffix : {"", "_ci_low", "_ci_high", "_token_weighted", "_p_value"})
        header.push_back(base + suffix);
    }
  }
  header.push_back("results_file");
  header.push_back("failure");

  std::string out;
  out += csv_line(header);
  for (const ModelOutcome& o : outcomes) {
    std::vector<std::string> row = {o.name, o.family, o.arch, std::string(model_status_name(o.status)),
                                    std::to_string(o.parameters), std::to_string(o.non_embedding_parameters)};
    const ModelResult* r = o.result ? &*o.result : nullptr;
    const std::string what = "scaling_summary.csv, model " + o.name;
    auto num = [&](double v) { return finite_number(v, what); };
    row.push_back(r ? std::to_string(r->n_items) : "");
    for (std::size_t c = 0; c < spec.conditions.size(); ++c) {
      const ConditionSummary* cs = r ? &r->summary.conditions.at(c) : nullptr;
      for (Measure m : measures) {
        if (cs) {
          const Estimate& e = cs->item_weighted[index_of(m)];
          for (double v : {e.mean, e.ci.low, e.ci.high, cs->token_weighted[index_of(m)]}) row.push_back(num(v));
        } else {
          row.insert(row.end(), 4, "");
        }
      }
      if (spec.wants(Metric::kPerplexity)) row.push_back(cs ? num(cs->perplexity) : "");
      row.push_back(cs ? std::to_string(cs->n_tokens) : "");
    }
    for (std::size_t k = 0; k < spec.contrasts.size(); ++k) {
      const ContrastSummary* ks = r ? &r->summary.contrasts.at(k) : nullptr;
      for (Measure m : measures) {
        if (ks) {
          const DifferenceSummary& d = ks->measures[index_of(m)];
          for (double v : {d.item_weighted.mean, d.item_weighted.ci.low, d.item_weighted.ci.high, d.token_weighted})
            row.push_back(num(v));
          row.push_back(d.test ? num(d.test->p_value) : "");
        } else {
          row.insert(row.end(), 5, "");
        }
      }
    }
    row.push_back(o.results_file);
    row.push_back(o.failure);
    out += csv_line(row);
  }
  return out;
}

std::string scaling_long_csv(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes) {
  const auto measures = reported_measures(spec);
  std::string out = csv_line({"model", "family", "arch", "status", "params_total", "params_non_embedding", "n_items",
                              "unit", "kind", "name", "measure", "estimate", "ci_low", "ci_high", "token_weighted",
                              "p_value", "n_units", "results_file", "failure"});
  const std::string unit(unit_name(spec.unit));
  for (const ModelOutcome& o : outcomes) {
    const std::vector<std::string> model = {o.name, o.family, o.arch, std::string(model_status_name(o.status)),
                                            std::to_string(o.parameters), std::to_string(o.non_embedding_parameters)};
    const std::string what = "scaling_summary_long.csv, model " + o.name;
    auto num = [&](double v) { return finite_number(v, what); };
    auto row = [&](std::vector<std::string> cells) {
      std::vector<std::string> line = model;
      line.insert(line.end(), cells.begin(), cells.end());
      out += csv_line(line);
    };
    if (!o.result) {  // one row says which model is missing and why
      row({"", unit, "", "", "", "", "", "", "", "", "", "", o.results_file, o.failure});
      continue;
    }
    const ModelResult& r = *o.result;
    const std::string n_items = std::to_string(r.n_items);
    for (const ConditionSummary& c : r.summary.conditions) {
      for (Measure m : measures) {
        const Estimate& e = c.item_weighted[index_of(m)];
        row({n_items, unit, "condition", c.name, std::string(measure_key(m)), num(e.mean), num(e.ci.low), num(e.ci.high),
             num(c.token_weighted[index_of(m)]), "", std::to_string(c.n_tokens), o.results_file, ""});
      }
      if (spec.wants(Metric::kPerplexity))
        row({n_items, unit, "condition", c.name, "perplexity", num(c.perplexity), "", "", "", "",
             std::to_string(c.n_tokens), o.results_file, ""});
    }
    for (const ContrastSummary& k : r.summary.contrasts) {
      for (Measure m : measures) {
        const DifferenceSummary& d = k.measures[index_of(m)];
        row({n_items, unit, "contrast", k.name, std::string(measure_key(m)), num(d.item_weighted.mean),
             num(d.item_weighted.ci.low), num(d.item_weighted.ci.high), num(d.token_weighted),
             d.test ? num(d.test->p_value) : "", "", o.results_file, ""});
      }
    }
  }
  return out;
}

nlohmann::ordered_json scaling_json(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                                    const std::vector<SlopeFit>& fits) {
  using ojson = nlohmann::ordered_json;
  const auto measures = reported_measures(spec);
  ojson models = ojson::array();
  for (const ModelOutcome& o : outcomes) {
    ojson mj = {{"model", o.name},
                {"family", o.family},
                {"arch", o.arch},
                {"status", model_status_name(o.status)},
                {"params_total", o.parameters},
                {"params_non_embedding", o.non_embedding_parameters}};
    if (!o.result) {
      mj["failure"] = o.failure;
      mj["log_file"] = o.log_file;
      models.push_back(mj);
      continue;
    }
    const ModelResult& r = *o.result;
    mj["results_file"] = o.results_file;
    mj["n_items"] = r.n_items;
    ojson conditions = ojson::object();
    for (const ConditionSummary& c : r.summary.conditions) {
      ojson cj = {{"n_tokens", c.n_tokens}};
      for (Measure m : measures) {
        const Estimate& e = c.item_weighted[index_of(m)];
        cj[std::string(measure_key(m))] = {{"mean", e.mean},
                                           {"ci_low", e.ci.low},
                                           {"ci_high", e.ci.high},
                                           {"token_weighted", c.token_weighted[index_of(m)]}};
      }
      if (spec.wants(Metric::kPerplexity)) cj["perplexity"] = c.perplexity;
      conditions[c.name] = cj;
    }
    mj["conditions"] = conditions;
    ojson contrasts = ojson::object();
    for (const ContrastSummary& k : r.summary.contrasts) {
      ojson kj;
      for (Measure m : measures) {
        const DifferenceSummary& d = k.measures[index_of(m)];
        ojson dj = {{"delta", d.item_weighted.mean},
                    {"ci_low", d.item_weighted.ci.low},
                    {"ci_high", d.item_weighted.ci.high},
                    {"token_weighted", d.token_weighted}};
        dj["p_value"] = d.test ? ojson(d.test->p_value) : ojson(nullptr);
        kj[std::string(measure_key(m))] = dj;
      }
      contrasts[k.name] = kj;
    }
    mj["contrasts"] = contrasts;
    models.push_back(mj);
  }
  ojson fits_json = ojson::array();
  for (const SlopeFit& f : fits) {
    ojson fj = {{"contrast", spec.contrasts.at(f.contrast).name},
                {"measure", measure_key(f.measure)},
                {"family", f.family},
                {"models", f.models},
                {"x", fmt::format("log10({})", scaling_axis_name(spec.scaling_axis))},
                {"slope_bits_per_decade", f.line.slope},
                {"intercept_bits", f.line.intercept}};
    if (f.slope_ci) {
      fj["slope_ci_low"] = f.slope_ci->low;
      fj["slope_ci_high"] = f.slope_ci->high;
    } else {
      fj["note"] = f.note;
    }
    fits_json.push_back(fj);
  }
  return {{"format", "entroscope-scaling-summary"},
          {"format_version", 1},
          {"experiment", spec.name},
          {"experiment_file", spec.file.string()},
          {"x_axis", scaling_axis_name(spec.scaling_axis)},
          {"confidence_level", spec.bootstrap.level},
          {"bootstrap_samples", spec.bootstrap.samples},
          {"seed", spec.bootstrap.seed},
          {"interval_method",
           "paired percentile bootstrap over items; slope intervals refit the line on every resample (models "
           "held fixed)"},
          {"models", models},
          {"fits", fits_json}};
}

}  // namespace entroscope::experiment
