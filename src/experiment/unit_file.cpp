#include "experiment/unit_file.h"

#include <fmt/format.h>

#include <cmath>

#include "common/durable_file.h"
#include "common/error.h"
#include "common/json_file.h"
#include "experiment/checked_output.h"

namespace entroscope::experiment {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string unit_file_name(const std::string& model, const WorkUnit& unit) {
  return fmt::format("{}.{:05}.{}.json", model, unit.chunk, unit.id);
}

fs::path units_dir(const fs::path& shard_dir) { return shard_dir / "units"; }

namespace {

// Compact rows: a unit of 100 items with context holds thousands of token records.
ojson span_json(const Span& s) { return ojson::array({s.begin, s.end}); }
Span span_from(const json& j) { return {json_integer<std::size_t>(j.at(0)), json_integer<std::size_t>(j.at(1))}; }

ojson scored_json(const ScoredItems& s) {
  ojson items = ojson::array();
  for (const ItemScores& item : s.items) {
    ojson conditions = ojson::array();
    for (const ItemConditionScores& v : item.conditions)
      conditions.push_back({v.n_tokens, v.n_preceding_tokens, v.windows, v.mean_bits[0], v.mean_bits[1]});
    items.push_back({item.id, item.line, conditions});
  }
  ojson tokens = ojson::array();
  for (const TokenRecord& t : s.tokens)
    tokens.push_back({t.item, t.condition, t.token_index, t.position, t.token_id, t.entropy_bits, t.surprisal_bits});
  ojson words = ojson::array();
  for (const WordRecord& w : s.words) {
    const WordMeasures& m = w.measures;
    words.push_back({w.item, w.condition, w.word_index, w.measured_begin, m.word, span_json(m.char_span),
                     span_json(m.byte_span), span_json(m.token_span), span_json(m.unit_span), m.surprisal_bits,
                     m.surprisal_bow_bits, m.surprisal_bow_wordsprobability_bits, m.surprisal_bow_minicons_bits,
                     m.first_subword_entropy_bits, m.unit_entropy_bits, m.log2_p_bow_after, m.log2_denominator,
                     m.boundary_inside_token});
  }
  return {{"items", items},
          {"tokens", tokens},
          {"words", words},
          {"sequences_windowed", s.window.sequences_windowed},
          {"max_windows", s.window.max_windows}};
}

ScoredItems scored_from(const json& j) {
  ScoredItems s;
  for (const json& ij : j.at("items")) {
    ItemScores item;
    item.id = ij.at(0).get<std::string>();
    item.line = json_integer<int>(ij.at(1));
    for (const json& c : ij.at(2)) {
      ItemConditionScores v;
      v.n_tokens = json_integer<std::size_t>(c.at(0));
      v.n_preceding_tokens = json_integer<std::size_t>(c.at(1));
      v.windows = json_integer<std::size_t>(c.at(2));
      v.mean_bits[0] = c.at(3).get<double>();
      v.mean_bits[1] = c.at(4).get<double>();
      item.conditions.push_back(v);
    }
    s.items.push_back(std::move(item));
  }
  for (const json& t : j.at("tokens"))
    s.tokens.push_back({json_integer<std::uint32_t>(t.at(0)), json_integer<std::uint32_t>(t.at(1)), json_integer<std::uint32_t>(t.at(2)),
                        json_integer<std::uint32_t>(t.at(3)), json_integer<std::int32_t>(t.at(4)), t.at(5).get<double>(),
                        t.at(6).get<double>()});
  for (const json& w : j.at("words")) {
    WordRecord r{json_integer<std::uint32_t>(w.at(0)), json_integer<std::uint32_t>(w.at(1)), json_integer<std::uint32_t>(w.at(2)),
                 json_integer<std::uint32_t>(w.at(3)), {}};
    WordMeasures& m = r.measures;
    m.word = w.at(4).get<std::string>();
    m.char_span = span_from(w.at(5));
    m.byte_span = span_from(w.at(6));
    m.token_span = span_from(w.at(7));
    m.unit_span = span_from(w.at(8));
    m.surprisal_bits = w.at(9).get<double>();
    m.surprisal_bow_bits = w.at(10).get<double>();
    m.surprisal_bow_wordsprobability_bits = w.at(11).get<double>();
    m.surprisal_bow_minicons_bits = w.at(12).get<double>();
    m.first_subword_entropy_bits = w.at(13).get<double>();
    m.unit_entropy_bits = w.at(14).get<double>();
    m.log2_p_bow_after = w.at(15).get<double>();
    m.log2_denominator = w.at(16).get<double>();
    m.boundary_inside_token = w.at(17).get<bool>();
    s.words.push_back(std::move(r));
  }
  s.window.sequences_windowed = json_integer<std::size_t>(j.at("sequences_windowed"));
  s.window.max_windows = json_integer<std::size_t>(j.at("max_windows"));
  return s;
}

// What a merge relies on: one score per item of the unit, finite numbers (JSON reads 1e999 as
// infinity), and records that name the unit's own items.
void check_scores(const UnitResult& u, const std::string& label) {
  const ScoredItems& s = u.scored;
  if (s.items.size() != u.item_count)
    fail("{}: {} items scored for a unit of {}", label, s.items.size(), u.item_count);
  auto finite = [&](double v) {
    if (!std::isfinite(v)) fail("{}: a non-finite number in the unit's scores", label);
  };
  auto own_item = [&](std::uint32_t item) {
    if (item < u.first_item || item - u.first_item >= u.item_count)
      fail("{}: a record names item {}, outside the unit's items {}-{}", label, item, u.first_item,
           u.first_item + u.item_count - 1);
  };
  for (const ItemScores& item : s.items)
    for (const ItemConditionScores& v : item.conditions) {
      finite(v.mean_bits[0]);
      finite(v.mean_bits[1]);
    }
  for (const TokenRecord& t : s.tokens) {
    own_item(t.item);
    finite(t.entropy_bits);
    finite(t.surprisal_bits);
  }
  for (const WordRecord& w : s.words) {
    own_item(w.item);
    const WordMeasures& m = w.measures;
    for (double v : {m.surprisal_bits, m.surprisal_bow_bits, m.surprisal_bow_wordsprobability_bits,
                     m.surprisal_bow_minicons_bits, m.first_subword_entropy_bits, m.unit_entropy_bits,
                     m.log2_p_bow_after, m.log2_denominator})
      finite(v);
  }
}

}  // namespace

ojson unit_to_json(const UnitResult& u) {
  ojson doc;
  doc["format"] = kUnitFormat;
  doc["format_version"] = kUnitFormatVersion;
  doc["unit_id"] = u.unit_id;
  doc["model"] = u.model;
  doc["resume_key"] = u.resume_key;
  doc["chunk"] = u.chunk;
  doc["first_item"] = u.first_item;
  doc["item_count"] = u.item_count;
  doc["unit_items"] = u.unit_items;
  doc["shard"] = u.shard;
  doc["shard_count"] = u.shard_count;
  doc["experiment_file"] = u.experiment_file;
  doc["experiment_sha256"] = u.experiment_sha256;
  doc["run"] = run_info_json(u.run);
  doc["status"] = u.failure.empty() ? "done" : "failed";
  if (!u.failure.empty()) doc["failure"] = u.failure;
  doc["unit_records"] = u.unit_records;
  if (u.failure.empty()) doc["scores"] = scored_json(u.scored);
  return doc;
}

UnitResult unit_from_json(const json& doc, const std::string& label) {
  if (!doc.is_object()) fail("{}: not an entroscope work-unit file", label);
  const auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() || *format != kUnitFormat)
    fail("{}: not an entroscope work-unit file", label);
  const auto version = doc.find("format_version");
  if (version == doc.end() || !version->is_number_integer() || *version != kUnitFormatVersion)
    fail("{}: work-unit format version {} is not the {} this entroscope reads", label,
         version == doc.end() ? std::string("(none)") : version->dump(), kUnitFormatVersion);
  try {
    UnitResult u;
    u.unit_id = doc.at("unit_id").get<std::string>();
    u.model = doc.at("model").get<std::string>();
    u.resume_key = doc.at("resume_key").get<std::string>();
    u.chunk = json_integer<std::size_t>(doc.at("chunk"));
    u.first_item = json_integer<std::size_t>(doc.at("first_item"));
    u.item_count = json_integer<std::size_t>(doc.at("item_count"));
    u.unit_items = json_integer<std::size_t>(doc.at("unit_items"));
    u.shard = json_integer<std::size_t>(doc.at("shard"));
    u.shard_count = json_integer<std::size_t>(doc.at("shard_count"));
    u.experiment_file = doc.at("experiment_file").get<std::string>();
    u.experiment_sha256 = doc.at("experiment_sha256").get<std::string>();
    u.run = run_info_from(doc.at("run"));
    const std::string status = doc.at("status").get<std::string>();
    if (status == "failed") {
      u.failure = doc.at("failure").get<std::string>();
      if (u.failure.empty()) fail("{}: a failed unit without its reason", label);
    } else if (status != "done") {
      fail("{}: unknown unit status '{}'", label, status);
    }
    u.unit_records = doc.at("unit_records").get<bool>();
    if (u.failure.empty()) u.scored = scored_from(doc.at("scores"));
    if (u.failure.empty()) check_scores(u, label);
    return u;
  } catch (const json::exception& e) {
    fail("{}: malformed work-unit file: {}", label, e.what());
  }
}

void write_unit_file(const fs::path& path, const UnitResult& unit) {
  const ojson doc = unit_to_json(unit);
  require_finite(doc, path.string());
  write_file_atomic(path, doc.dump() + "\n");
}

UnitResult read_unit_file(const fs::path& path) { return unit_from_json(read_json_file(path), path.string()); }

}  // namespace entroscope::experiment
