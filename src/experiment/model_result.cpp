#include "experiment/model_result.h"

#include "common/error.h"
#include "common/json_file.h"

namespace entroscope::experiment {

namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

ojson digest_json(const FileDigest& d) { return {{"file", d.file}, {"bytes", d.bytes}, {"sha256", d.sha256}}; }
FileDigest digest_from(const json& j) {
  return {j.at("file").get<std::string>(), json_integer<std::uint64_t>(j.at("bytes")), j.at("sha256").get<std::string>()};
}

ojson estimate_json(const Estimate& e) { return {{"mean", e.mean}, {"ci_low", e.ci.low}, {"ci_high", e.ci.high}}; }
Estimate estimate_from(const json& j) {
  return {j.at("mean").get<double>(), {j.at("ci_low").get<double>(), j.at("ci_high").get<double>()}};
}

template <typename T>
ojson optional_json(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}
template <typename T>
std::optional<T> optional_from(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

ojson test_json(const std::optional<TestResult>& t) {
  if (!t) return nullptr;
  ojson j = {{"name", t->name}, {"statistic", optional_json(t->statistic)}};
  if (t->df) j["df"] = *t->df;
  j["p_value"] = t->p_value;
  if (t->name == "sign_flip") {
    j["exact"] = t->exact;
    j["permutations"] = t->permutations;
  }
  return j;
}
std::optional<TestResult> test_from(const json& j) {
  if (j.is_null()) return std::nullopt;
  TestResult t;
  t.name = j.at("name").get<std::string>();
  t.statistic = optional_from<double>(j, "statistic");
  t.df = optional_from<double>(j, "df");
  t.p_value = j.at("p_value").get<double>();
  t.exact = j.value("exact", false);
  t.permutations = j.contains("permutations") ? json_integer<std::int64_t>(j.at("permutations")) : 0;
  return t;
}

ojson summary_json(const ModelSummary& s) {
  ojson conditions = ojson::array();
  for (const ConditionSummary& c : s.conditions) {
    ojson cj = {{"name", c.name}, {"n_tokens", c.n_tokens}};
    for (Measure m : kMeasures)
      cj[std::string(measure_key(m))] = {{"item_weighted", estimate_json(c.item_weighted[index_of(m)])},
                                         {"token_weighted", c.token_weighted[index_of(m)]}};
    cj["perplexity"] = c.perplexity;
    conditions.push_back(cj);
  }
  ojson contrasts = ojson::array();
  for (const ContrastSummary& k : s.contrasts) {
    ojson kj = {{"name", k.name}, {"plus", k.plus}, {"minus", k.minus}};
    for (Measure m : kMeasures) {
      const DifferenceSummary& d = k.measures[index_of(m)];
      kj[std::string(measure_key(m))] = {{"item_weighted", estimate_json(d.item_weighted)},
                                         {"token_weighted", d.token_weighted},
                                         {"sd_items", optional_json(d.sd_items)},
                                         {"n_negative", d.n_negative},
                                         {"n_zero", d.n_zero},
                                         {"n_positive", d.n_positive},
                                         {"test", test_json(d.test)}};
    }
    contrasts.push_back(kj);
  }
  return {{"n_items", s.n_items}, {"conditions", conditions}, {"contrasts", contrasts}};
}

ModelSummary summary_from(const json& j) {
  ModelSummary s;
  s.n_items = json_integer<std::size_t>(j.at("n_items"));
  for (const json& cj : j.at("conditions")) {
    ConditionSummary c;
    c.name = cj.at("name").get<std::string>();
    c.n_tokens = json_integer<std::size_t>(cj.at("n_tokens"));
    for (Measure m : kMeasures) {
      const json& mj = cj.at(std::string(measure_key(m)));
      c.item_weighted[index_of(m)] = estimate_from(mj.at("item_weighted"));
      c.token_weighted[index_of(m)] = mj.at("token_weighted").get<double>();
    }
    c.perplexity = cj.at("perplexity").get<double>();
    s.conditions.push_back(std::move(c));
  }
  for (const json& kj : j.at("contrasts")) {
    ContrastSummary k;
    k.name = kj.at("name").get<std::string>();
    k.plus = kj.at("plus").get<std::string>();
    k.minus = kj.at("minus").get<std::string>();
    for (Measure m : kMeasures) {
      const json& mj = kj.at(std::string(measure_key(m)));
      DifferenceSummary& d = k.measures[index_of(m)];
      d.item_weighted = estimate_from(mj.at("item_weighted"));
      d.token_weighted = mj.at("token_weighted").get<double>();
      d.sd_items = optional_from<double>(mj, "sd_items");
      d.n_negative = json_integer<int>(mj.at("n_negative"));
      d.n_zero = json_integer<int>(mj.at("n_zero"));
      d.n_positive = json_integer<int>(mj.at("n_positive"));
      d.test = test_from(mj.at("test"));
    }
    s.contrasts.push_back(std::move(k));
  }
  return s;
}

ojson model_json(const ModelProvenance& m) {
  ojson weights = ojson::array(), tokenizer = ojson::array();
  for (const auto& d : m.weight_files) weights.push_back(digest_json(d));
  for (const auto& d : m.tokenizer_files) tokenizer.push_back(digest_json(d));
  return {{"name", m.name},
          {"spec", m.spec},
          {"family", m.family},
          {"source", m.source},
          {"path", m.path},
          {"repo_id", m.repo_id},
          {"revision", m.revision},
          {"commit", m.commit},
          {"arch", m.arch},
          {"model_type", m.arch},  // config.json's model_type (= arch), under the name people search for
          {"parameters", m.parameters},
          {"non_embedding_parameters", m.non_embedding_parameters},
          {"context", m.context},
          {"vocab_size", m.vocab_size},
          {"storage_dtype", m.storage_dtype},
          {"compute_dtype", "float32"},
          {"special_tokens", m.special_tokens},
          {"config_file", digest_json(m.config_file)},
          {"weight_files", weights},
          {"tokenizer_files", tokenizer},
          {"config", m.config}};
}

ModelProvenance model_from(const json& j) {
  ModelProvenance m;
  m.name = j.at("name").get<std::string>();
  m.spec = j.at("spec").get<std::string>();
  m.family = j.at("family").get<std::string>();
  m.source = j.at("source").get<std::string>();
  m.path = j.at("path").get<std::string>();
  m.repo_id = j.at("repo_id").get<std::string>();
  m.revision = j.at("revision").get<std::string>();
  m.commit = j.at("commit").get<std::string>();
  m.arch = j.at("arch").get<std::string>();
  m.parameters = json_integer<long long>(j.at("parameters"));
  m.non_embedding_parameters = json_integer<long long>(j.at("non_embedding_parameters"));
  m.context = json_integer<int>(j.at("context"));
  m.vocab_size = json_integer<int>(j.at("vocab_size"));
  m.storage_dtype = j.at("storage_dtype").get<std::string>();
  for (const auto& [name, id] : j.at("special_tokens").items()) m.special_tokens[name] = json_integer<std::int32_t>(id);
  m.config_file = digest_from(j.at("config_file"));
  for (const json& d : j.at("weight_files")) m.weight_files.push_back(digest_from(d));
  for (const json& d : j.at("tokenizer_files")) m.tokenizer_files.push_back(digest_from(d));
  m.config = j.at("config");
  return m;
}

ojson items_json(const std::vector<ItemScores>& items, const ModelSummary& s) {
  ojson out = ojson::array();
  for (const ItemScores& item : items) {
    ojson ij = {{"id", item.id}, {"line", item.line}};
    for (std::size_t c = 0; c < item.conditions.size(); ++c) {
      const ItemConditionScores& v = item.conditions[c];
      ojson cj = {{"n_tokens", v.n_tokens}, {"n_preceding_tokens", v.n_preceding_tokens}, {"windows", v.windows}};
      for (Measure m : kMeasures) cj[std::string(measure_key(m))] = v.mean_bits[index_of(m)];
      ij[s.conditions.at(c).name] = cj;
    }
    out.push_back(ij);
  }
  return out;
}

std::vector<ItemScores> items_from(const json& j, const ModelSummary& s) {
  std::vector<ItemScores> items;
  for (const json& ij : j) {
    ItemScores item;
    item.id = ij.at("id").get<std::string>();
    item.line = json_integer<int>(ij.at("line"));
    for (const ConditionSummary& c : s.conditions) {
      const json& cj = ij.at(c.name);
      ItemConditionScores v;
      v.n_tokens = json_integer<std::size_t>(cj.at("n_tokens"));
      v.n_preceding_tokens = json_integer<std::size_t>(cj.at("n_preceding_tokens"));
      v.windows = json_integer<std::size_t>(cj.at("windows"));
      for (Measure m : kMeasures) v.mean_bits[index_of(m)] = cj.at(std::string(measure_key(m))).get<double>();
      item.conditions.push_back(v);
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

nlohmann::ordered_json run_info_json(const RunInfo& r, const nlohmann::json* seed) {
  ojson j = {{"entroscope_version", r.entroscope_version},
             {"git_hash", r.git_hash},
             {"blas", r.blas},
             {"gemm_kernel", r.gemm_kernel},
             {"threads", r.threads},
             {"device", r.device},
             {"device_name", r.device_name},
             {"batch_tokens", r.batch_tokens}};
  if (seed) j["seed"] = *seed;
  j["started_utc"] = r.started_utc;
  j["finished_utc"] = r.finished_utc;
  j["wall_seconds"] = r.wall_seconds;
  return j;
}

RunInfo run_info_from(const nlohmann::json& run) {
  RunInfo r;
  r.entroscope_version = run.at("entroscope_version").get<std::string>();
  r.git_hash = run.at("git_hash").get<std::string>();
  r.blas = run.at("blas").get<std::string>();
  r.gemm_kernel = run.value("gemm_kernel", std::string());  // absent before 0.2
  r.threads = json_integer<int>(run.at("threads"));
  r.device = run.value("device", std::string("cpu"));  // absent before the CUDA backend: cpu
  r.device_name = run.value("device_name", std::string());
  r.batch_tokens = json_integer<std::size_t>(run.at("batch_tokens"));
  r.started_utc = run.at("started_utc").get<std::string>();
  r.finished_utc = run.at("finished_utc").get<std::string>();
  r.wall_seconds = run.at("wall_seconds").get<double>();
  return r;
}

nlohmann::ordered_json result_to_json(const ModelResult& r) {
  ojson doc;
  doc["format"] = kResultsFormat;
  doc["format_version"] = kResultsFormatVersion;
  doc["status"] = "complete";
  doc["resume_key"] = r.resume_key;
  doc["experiment"] = {{"name", r.experiment_name}, {"file", r.experiment_file}, {"spec", r.spec}};
  doc["data"] = {{"file", r.data.file}, {"bytes", r.data.bytes}, {"sha256", r.data.sha256}, {"n_items", r.n_items}};
  doc["model"] = model_json(r.model);
  doc["run"] = run_info_json(r.run, &r.spec.at("statistics").at("bootstrap").at("seed"));
  doc["window"] = {{"length", r.window.length},
                   {"stride_setting", r.window.stride_setting},
                   {"stride_by_condition", r.window.stride_by_condition},
                   {"sequences_windowed", r.window.sequences_windowed},
                   {"max_windows", r.window.max_windows}};
  doc["per_token_file"] = r.per_token_file.empty() ? ojson(nullptr) : ojson(r.per_token_file);
  doc["summary"] = summary_json(r.summary);
  doc["items"] = items_json(r.items, r.summary);
  return doc;
}

ModelResult result_from_json(const nlohmann::json& doc, const std::string& label) {
  try {
    if (!doc.is_object() || !doc.contains("format") || doc.at("format") != kResultsFormat)
      fail("{}: not an entroscope experiment results file", label);
    if (json_integer<int>(doc.at("format_version")) != kResultsFormatVersion)
      fail("{}: results format version {} (this entroscope reads {})", label, doc.at("format_version").dump(),
           kResultsFormatVersion);
    if (doc.at("status").get<std::string>() != "complete") fail("{}: status is not complete", label);
    ModelResult r;
    r.resume_key = doc.at("resume_key").get<std::string>();
    r.experiment_name = doc.at("experiment").at("name").get<std::string>();
    r.experiment_file = doc.at("experiment").at("file").get<std::string>();
    r.spec = doc.at("experiment").at("spec");
    const json& d = doc.at("data");
    r.data = {d.at("file").get<std::string>(), json_integer<std::uint64_t>(d.at("bytes")), d.at("sha256").get<std::string>()};
    r.n_items = json_integer<std::size_t>(d.at("n_items"));
    r.model = model_from(doc.at("model"));
    r.run = run_info_from(doc.at("run"));
    const json& w = doc.at("window");
    r.window.length = json_integer<std::size_t>(w.at("length"));
    r.window.stride_setting = json_integer<std::size_t>(w.at("stride_setting"));
    for (const auto& [name, stride] : w.at("stride_by_condition").items())
      r.window.stride_by_condition[name] = json_integer<std::size_t>(stride);
    r.window.sequences_windowed = json_integer<std::size_t>(w.at("sequences_windowed"));
    r.window.max_windows = json_integer<std::size_t>(w.at("max_windows"));
    if (!doc.at("per_token_file").is_null()) r.per_token_file = doc.at("per_token_file").get<std::string>();
    r.summary = summary_from(doc.at("summary"));
    r.items = items_from(doc.at("items"), r.summary);
    return r;
  } catch (const json::exception& e) {
    fail("{}: malformed results file: {}", label, e.what());
  }
}

}  // namespace entroscope::experiment
