#pragma once
// An experiment, as the YAML file describes it (docs/experiments.md): which models, which items,
// how each condition builds a token sequence from an item, what is measured, which differences
// are compared and how uncertainty is estimated. Parsed and checked by spec_parser.h; nothing
// here touches a model.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/source_location.h"
#include "experiment/text_template.h"

namespace entroscope::experiment {

enum class SegmentKind {
  kTemplate,      // text with {field} placeholders, tokenized as plain text
  kLiteral,       // text taken as written (braces are not placeholders), tokenized as plain text
  kSpecialToken,  // one token id: a vocabulary entry such as <|endoftext|>, or the config's bos / eos
};

struct Segment {
  SegmentKind kind = SegmentKind::kTemplate;
  TextTemplate text;        // kTemplate / kLiteral
  std::string special;      // kSpecialToken: "<|endoftext|>", "bos" or "eos"
  bool measured = false;    // the span whose next-token predictions are scored
  SourceLocation where;
};

struct Condition {
  std::string name;
  std::vector<Segment> segments;
  std::size_t measured_segment = 0;  // index into segments
  // Leading special-token segments: repeated at the start of every window when a sequence is
  // longer than the model's context, so that every window starts the same way.
  std::size_t window_prefix_segments = 0;
  SourceLocation where;
};

struct Contrast {
  std::string name;     // as written ("with_context - no_context") or the given name
  std::size_t plus = 0;   // index into conditions
  std::size_t minus = 0;
  SourceLocation where;
};

struct ModelEntry {
  std::string spec;     // directory, bundled demo name or Hub id, as written
  std::string name;     // label for files and tables; empty: derived from the resolved model
  std::string family;   // series in the scaling plot; empty: from the architecture
  SourceLocation where;
};

enum class Metric { kEntropy, kSurprisal, kPerplexity };
enum class PerTokenFormat { kNone, kJsonl, kCsv };
enum class PairedTestKind { kNone, kPairedT, kSignFlip };
enum class ScalingAxis { kTotalParameters, kNonEmbeddingParameters };
// What one measured value is about: each token of the measured span, or each of its words
// (docs/words.md: entropy at the word's unit start, beginning-of-word corrected surprisal).
enum class Unit { kToken, kWord };

std::string_view metric_name(Metric m);               // "entropy", "surprisal", "perplexity"
std::string_view per_token_format_name(PerTokenFormat f);  // "none", "jsonl", "csv"
std::string_view paired_test_name(PairedTestKind k);  // "none", "paired_t", "sign_flip"
std::string_view scaling_axis_name(ScalingAxis a);    // "parameters", "non_embedding_parameters"
std::string_view unit_name(Unit u);                   // "token", "word"

struct BootstrapSettings {
  int samples = 10000;
  std::uint64_t seed = 0;
  double level = 0.95;
};

struct TestSettings {
  PairedTestKind kind = PairedTestKind::kPairedT;
  int permutations = 10000;  // sign_flip: random sign patterns (all of them when 2^n is fewer)
};

struct WindowSettings {
  int length = 0;  // tokens per window; 0: the model's context
  int stride = 0;  // tokens a window advances; 0: half of the room after the window prefix
};

struct ExperimentSpec {
  std::filesystem::path file;  // the YAML file
  std::string name;            // `name:` or the file's stem
  std::string description;
  std::vector<ModelEntry> models;
  std::filesystem::path data_file;  // resolved relative to the YAML file's folder
  SourceLocation data_where;
  std::string id_field = "id";
  std::vector<Condition> conditions;
  std::vector<Metric> metrics;      // in the order given; entropy always included
  Unit unit = Unit::kToken;
  PerTokenFormat per_token = PerTokenFormat::kNone;  // per measured unit: token or word rows
  std::vector<Contrast> contrasts;
  BootstrapSettings bootstrap;
  TestSettings test;
  WindowSettings window;
  ScalingAxis scaling_axis = ScalingAxis::kTotalParameters;
  std::size_t batch_tokens = 4096;  // bounds B*T per forward call; never changes a number

  bool wants(Metric m) const;
  const Condition* find_condition(const std::string& name) const;
  // Item fields any template reads, sorted and unique.
  std::vector<std::string> referenced_fields() const;
  // Everything that decides the numbers (not the names, paths or batch size), for the results
  // file and the resume key.
  nlohmann::json canonical() const;
};

}  // namespace entroscope::experiment
