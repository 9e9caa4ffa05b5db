#include "experiment/spec_parser.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "common/json_file.h"
#include "experiment/scaling_summary.h"

namespace entroscope::experiment {

namespace {


namespace fs = std::filesystem;

// The YAML reader with the file name attached, so every helper can say where a problem is.
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  SourceLocation at(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return {file_, 0, 0};
    return {file_, mark.line + 1, mark.column + 1};
  }
  SourceLocation file_only() const { return {file_, 0, 0}; }

  // Checks that `node` is a map whose keys are all in `allowed` and appear once.
  void check_map(const YAML::Node& node, const std::string& what, const std::vector<std::string>& allowed) const {
    if (!node.IsMap()) fail_at(at(node), "{} must be a mapping ({}: ...)", what, allowed.front());
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) fail_at(at(it->first), "{}: keys must be plain names", what);
      const std::string key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        // YAML reads an unquoted {context} as a mapping with the key "context".
        const bool looks_like_template = node.size() == 1 && it->second.IsNull();
        fail_at(at(it->first), "unknown field '{}' in {} (expected: {}){}", key, what, join(allowed),
                looks_like_template ? fmt::format("; if you meant the text template {{{}}}, write it in quotes: \"{{{}}}\"",
                                                  key, key)
                                    : "");
      }
      if (!seen.insert(key).second) fail_at(at(it->first), "field '{}' appears twice in {}", key, what);
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) fail_at(at(node), "{} must be a single value, not a {}", what, kind(node));
    return node.Scalar();
  }

  std::string nonempty_string(const YAML::Node& node, const std::string& what) const {
    std::string s = scalar(node, what);
    if (s.empty()) fail_at(at(node), "{} is empty", what);
    return s;
  }

  long long integer(const YAML::Node& node, const std::string& what, long long lo, long long hi) const {
    const std::string s = scalar(node, what);
    long long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
      fail_at(at(node), "{} must be a whole number, got '{}'", what, s);
    if (v < lo || v > hi) fail_at(at(node), "{} must be between {} and {}, got {}", what, lo, hi, v);
    return v;
  }

  std::uint64_t unsigned_integer(const YAML::Node& node, const std::string& what) const {
    const std::string s = scalar(node, what);
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
      fail_at(at(node), "{} must be a non-negative whole number, got '{}'", what, s);
    return v;
  }

  double number(const YAML::Node& node, const std::string& what) const {
    const std::string s = scalar(node, what);
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
      fail_at(at(node), "{} must be a number, got '{}'", what, s);
    return v;
  }

  bool boolean(const YAML::Node& node, const std::string& what) const {
    const std::string s = scalar(node, what);
    if (s == "true") return true;
    if (s == "false") return false;
    fail_at(at(node), "{} must be true or false, got '{}'", what, s);
  }

  static std::string kind(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Map: return "mapping";
      case YAML::NodeType::Sequence: return "list";
      case YAML::NodeType::Null: return "empty value";
      default: return "value";
    }
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

 private:
  std::string file_;
};

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool other = (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!(alpha || (i > 0 && other))) return false;
  }
  return true;
}

// "<|endoftext|>"-like: a whole string that names a special token.
bool looks_like_special_token(const std::string& s) {
  return s.size() >= 5 && s.rfind("<|", 0) == 0 && s.compare(s.size() - 2, 2, "|>") == 0 &&
         s.find_first_of(" \t\n") == std::string::npos;
}

// A special-token-looking substring inside a longer template would silently be tokenized as plain
// characters (encode never parses special tokens); that is almost never what was meant.
std::string embedded_special_token(const std::string& s) {
  for (std::size_t open = s.find("<|"); open != std::string::npos; open = s.find("<|", open + 1)) {
    const std::size_t close = s.find("|>", open + 2);
    if (close == std::string::npos) break;
    const std::string candidate = s.substr(open, close + 2 - open);
    if (looks_like_special_token(candidate) && candidate.size() <= 64) return candidate;
  }
  return {};
}

Segment parse_segment(const YamlReader& yr, const YAML::Node& node, const std::string& what) {
  Segment seg;
  seg.where = yr.at(node);
  auto parse_template = [&](const YAML::Node& text_node, const std::string& text) {
    if (std::string tok = embedded_special_token(text); !tok.empty()) {
      fail_at(yr.at(text_node),
              "{}: the text contains '{}', which would be tokenized as plain characters; make it its own "
              "segment (- \"{}\"), or use `literal:` if the characters are meant",
              what, tok, tok);
    }
    try {
      return TextTemplate::parse(text);
    } catch (const Error& e) {
      fail_at(yr.at(text_node), "{}: {}", what, e.what());  // Error escapes the line breaks of a multi-line template
    }
  };
  if (node.IsScalar()) {
    const std::string text = node.Scalar();
    if (looks_like_special_token(text)) {
      seg.kind = SegmentKind::kSpecialToken;
      seg.special = text;
    } else {
      if (text.empty()) fail_at(seg.where, "{} is an empty string", what);
      seg.kind = SegmentKind::kTemplate;
      seg.text = parse_template(node, text);
    }
    return seg;
  }
  yr.check_map(node, what, {"text", "literal", "special", "measure"});
  int kinds = 0;
  if (node["text"]) {
    ++kinds;
    const std::string text = yr.nonempty_string(node["text"], what + ".text");
    seg.kind = SegmentKind::kTemplate;
    seg.text = parse_template(node["text"], text);
  }
  if (node["literal"]) {
    ++kinds;
    seg.kind = SegmentKind::kLiteral;
    seg.text = TextTemplate::literal(yr.nonempty_string(node["literal"], what + ".literal"));
  }
  if (node["special"]) {
    ++kinds;
    seg.kind = SegmentKind::kSpecialToken;
    seg.special = yr.nonempty_string(node["special"], what + ".special");
    if (seg.special != "bos" && seg.special != "eos" && !looks_like_special_token(seg.special) &&
        seg.special.find_first_of(" \t\n") != std::string::npos)
      fail_at(yr.at(node["special"]), "{}.special must be a token such as <|endoftext|>, or bos / eos", what);
  }
  if (kinds != 1)
    fail_at(seg.where, "{} must have exactly one of text:, literal: or special: (found {})", what, kinds);
  if (node["measure"]) seg.measured = yr.boolean(node["measure"], what + ".measure");
  return seg;
}

Condition parse_condition(const YamlReader& yr, const std::string& name, const YAML::Node& key,
                          const YAML::Node& node) {
  Condition c;
  c.name = name;
  c.where = yr.at(key);
  if (!is_identifier(name))
    fail_at(c.where, "condition name '{}' must start with a letter or '_' and use only letters, digits, '_', '-', '.'",
            name);
  if (!node.IsSequence() || node.size() == 0)
    fail_at(yr.at(node), "condition '{}' must be a non-empty list of segments", name);
  int measured = 0;
  for (std::size_t i = 0; i < node.size(); ++i) {
    Segment seg = parse_segment(yr, node[i], fmt::format("condition '{}' segment {}", name, i + 1));
    if (seg.measured) {
      if (++measured > 1)
        fail_at(seg.where, "condition '{}' has more than one segment with measure: true (exactly one is measured)",
                name);
      c.measured_segment = i;
    }
    c.segments.push_back(std::move(seg));
  }
  if (measured == 0)
    fail_at(c.where, "condition '{}' has no measured segment: mark the scored one with `measure: true`", name);
  if (c.measured_segment == 0)
    fail_at(c.segments[0].where,
            "condition '{}': the measured segment is first, so its first token has nothing to be predicted from; "
            "put a segment before it (for example \"<|endoftext|>\")",
            name);
  while (c.window_prefix_segments < c.measured_segment &&
         c.segments[c.window_prefix_segments].kind == SegmentKind::kSpecialToken)
    ++c.window_prefix_segments;
  return c;
}

// "a - b" (or "a-b" when that splits into two known names in exactly one way).
std::pair<std::size_t, std::size_t> parse_difference(const YamlReader& yr, const YAML::Node& node,
                                                     const std::string& expr,
                                                     const std::vector<Condition>& conditions) {
  auto index_of = [&](const std::string& n) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < conditions.size(); ++i)
      if (conditions[i].name == n) return i;
    return std::nullopt;
  };
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  std::vector<std::string> names;
  for (const auto& c : conditions) names.push_back(c.name);
  std::string left, right;
  if (const auto spaced = expr.find(" - "); spaced != std::string::npos) {
    left = trim(expr.substr(0, spaced));
    right = trim(expr.substr(spaced + 3));
  } else {
    int splits = 0;
    for (std::size_t p = expr.find('-'); p != std::string::npos; p = expr.find('-', p + 1)) {
      std::string l = trim(expr.substr(0, p)), r = trim(expr.substr(p + 1));
      if (index_of(l) && index_of(r)) {
        left = l;
        right = r;
        ++splits;
      }
    }
    if (splits != 1)
      fail_at(yr.at(node), "contrast '{}' must read 'CONDITION - CONDITION' (conditions: {})", expr,
              YamlReader::join(names));
  }
  auto l = index_of(left), r = index_of(right);
  if (!l) fail_at(yr.at(node), "contrast '{}' names unknown condition '{}' (conditions: {})", expr, left, YamlReader::join(names));
  if (!r) fail_at(yr.at(node), "contrast '{}' names unknown condition '{}' (conditions: {})", expr, right, YamlReader::join(names));
  if (*l == *r) fail_at(yr.at(node), "contrast '{}' compares a condition with itself", expr);
  return {*l, *r};
}

void parse_models(const YamlReader& yr, const YAML::Node& node, ExperimentSpec& spec) {
  if (!node.IsSequence() || node.size() == 0)
    fail_at(yr.at(node), "models must be a non-empty list (model directories, demo names or Hub ids)");
  std::set<std::string> names;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node m = node[i];
    const std::string what = fmt::format("models[{}]", i);
    ModelEntry e;
    e.where = yr.at(m);
    if (m.IsScalar()) {
      e.spec = yr.nonempty_string(m, what);
    } else {
      yr.check_map(m, what, {"model", "name", "family"});
      if (!m["model"]) fail_at(e.where, "{} needs `model:` (a directory, demo name or Hub id)", what);
      e.spec = yr.nonempty_string(m["model"], what + ".model");
      if (m["name"]) {
        e.name = yr.nonempty_string(m["name"], what + ".name");
        if (!is_identifier(e.name))
          fail_at(yr.at(m["name"]), "{}.name '{}' must use only letters, digits, '_', '-', '.' (it names files)", what,
                  e.name);
        if (!names.insert(e.name).second) fail_at(yr.at(m["name"]), "model name '{}' is used twice", e.name);
      }
      if (m["family"]) e.family = yr.nonempty_string(m["family"], what + ".family");
    }
    spec.models.push_back(std::move(e));
  }
}

void parse_statistics(const YamlReader& yr, const YAML::Node& node, ExperimentSpec& spec) {
  yr.check_map(node, "statistics", {"bootstrap", "test", "permutations"});
  if (const YAML::Node b = node["bootstrap"]) {
    yr.check_map(b, "statistics.bootstrap", {"samples", "seed", "level"});
    if (b["samples"]) spec.bootstrap.samples = static_cast<int>(yr.integer(b["samples"], "statistics.bootstrap.samples", 100, 10'000'000));
    if (b["seed"]) spec.bootstrap.seed = yr.unsigned_integer(b["seed"], "statistics.bootstrap.seed");
    if (b["level"]) {
      spec.bootstrap.level = yr.number(b["level"], "statistics.bootstrap.level");
      if (!(spec.bootstrap.level > 0.5 && spec.bootstrap.level < 1.0))
        fail_at(yr.at(b["level"]), "statistics.bootstrap.level must be between 0.5 and 1 (e.g. 0.95), got {}",
                spec.bootstrap.level);
    }
  }
  if (const YAML::Node t = node["test"]) {
    const std::string s = yr.scalar(t, "statistics.test");
    if (s == "paired_t") spec.test.kind = PairedTestKind::kPairedT;
    else if (s == "sign_flip") spec.test.kind = PairedTestKind::kSignFlip;
    else if (s == "none") spec.test.kind = PairedTestKind::kNone;
    else fail_at(yr.at(t), "statistics.test must be paired_t, sign_flip or none, got '{}'", s);
  }
  if (node["permutations"])
    spec.test.permutations = static_cast<int>(yr.integer(node["permutations"], "statistics.permutations", 100, 10'000'000));
}

void parse_metrics(const YamlReader& yr, const YAML::Node& node, ExperimentSpec& spec) {
  if (!node.IsSequence() || node.size() == 0)
    fail_at(yr.at(node), "metrics must be a non-empty list of entropy, surprisal, perplexity");
  spec.metrics.clear();
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string s = yr.scalar(node[i], "metrics entry");
    Metric m;
    if (s == "entropy") m = Metric::kEntropy;
    else if (s == "surprisal") m = Metric::kSurprisal;
    else if (s == "perplexity") m = Metric::kPerplexity;
    else if (s == "per_token")
      fail_at(yr.at(node[i]), "per-token values are requested with the top-level field `per_token: csv` (or jsonl)");
    else fail_at(yr.at(node[i]), "unknown metric '{}' (expected entropy, surprisal, perplexity)", s);
    if (std::find(spec.metrics.begin(), spec.metrics.end(), m) != spec.metrics.end())
      fail_at(yr.at(node[i]), "metric '{}' is listed twice", s);
    spec.metrics.push_back(m);
  }
}

}  // namespace

ExperimentSpec parse_experiment_text(const std::string& yaml, const fs::path& path) {
  const std::string file = path.string();
  YamlReader yr(file);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's depth guard; its own message says "bad file"
    // Its mark is where the scanner stopped reading ahead, so only the line is worth showing.
    fail_at(SourceLocation{file, e.mark.line + 1, 0}, "invalid YAML: nested deeper than {} levels (the limit)",
            e.depth() - 1);
  } catch (const YAML::Exception& e) {
    SourceLocation where{file, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    fail_at(where, "invalid YAML: {}", e.msg);
  }
  if (!root || root.IsNull()) fail_at(yr.file_only(), "the experiment file is empty");
  yr.check_map(root, "the experiment file",
               {"models", "data", "conditions", "contrasts", "metrics", "per_token", "unit", "statistics", "window",
                "scaling", "batch_tokens", "id_field", "name", "description"});

  ExperimentSpec spec;
  spec.file = path;
  spec.name = path.stem().string();
  spec.metrics = {Metric::kEntropy, Metric::kSurprisal, Metric::kPerplexity};
  for (const char* required : {"models", "data", "conditions"})
    if (!root[required]) fail_at(yr.file_only(), "missing required field '{}'", required);

  if (root["name"]) spec.name = yr.nonempty_string(root["name"], "name");
  if (root["description"]) spec.description = yr.scalar(root["description"], "description");
  parse_models(yr, root["models"], spec);

  const std::string data = yr.nonempty_string(root["data"], "data");
  spec.data_where = yr.at(root["data"]);
  spec.data_file = fs::path(data).is_absolute() ? fs::path(data) : path.parent_path() / data;
  if (root["id_field"]) spec.id_field = yr.nonempty_string(root["id_field"], "id_field");

  const YAML::Node conds = root["conditions"];
  if (!conds.IsMap() || conds.size() == 0)
    fail_at(yr.at(conds), "conditions must be a mapping of condition names to lists of segments");
  std::set<std::string> seen;
  for (auto it = conds.begin(); it != conds.end(); ++it) {
    const std::string name = yr.scalar(it->first, "condition name");
    if (!seen.insert(name).second) fail_at(yr.at(it->first), "condition '{}' is defined twice", name);
    spec.conditions.push_back(parse_condition(yr, name, it->first, it->second));
  }

  if (const YAML::Node cs = root["contrasts"]) {
    if (!cs.IsSequence()) fail_at(yr.at(cs), "contrasts must be a list such as [\"with_context - no_context\"]");
    std::set<std::string> names;
    for (std::size_t i = 0; i < cs.size(); ++i) {
      const YAML::Node c = cs[i];
      Contrast contrast;
      contrast.where = yr.at(c);
      if (c.IsMap()) {
        yr.check_map(c, fmt::format("contrasts[{}]", i), {"name", "difference"});
        if (!c["difference"]) fail_at(contrast.where, "contrasts[{}] needs `difference: A - B`", i);
      }
      // (A yaml-cpp Node assigned to another copies the value into the referenced node, so the
      // expression's node is picked once instead of reassigned.)
      const YAML::Node expr_node = c.IsMap() ? c["difference"] : c;
      const std::string expr = yr.nonempty_string(expr_node, "contrast difference");
      auto [plus, minus] = parse_difference(yr, expr_node, expr, spec.conditions);
      contrast.plus = plus;
      contrast.minus = minus;
      contrast.name = c.IsMap() && c["name"] ? yr.nonempty_string(c["name"], "contrast name")
                                             : spec.conditions[plus].name + " - " + spec.conditions[minus].name;
      if (!names.insert(contrast.name).second) fail_at(contrast.where, "contrast '{}' is listed twice", contrast.name);
      // Contrast names become file and column names; two that clean to the same one would
      // overwrite each other.
      for (const Contrast& earlier : spec.contrasts) {
        if (contrast_slug(earlier.name) == contrast_slug(contrast.name)) {
          fail_at(contrast.where, "contrasts '{}' and '{}' give the same file and column name '{}'; rename one",
                  earlier.name, contrast.name, contrast_slug(contrast.name));
        }
      }
      spec.contrasts.push_back(std::move(contrast));
    }
  }

  if (root["metrics"]) parse_metrics(yr, root["metrics"], spec);
  if (const YAML::Node pt = root["per_token"]) {
    const std::string s = yr.scalar(pt, "per_token");
    if (s == "csv") spec.per_token = PerTokenFormat::kCsv;
    else if (s == "jsonl") spec.per_token = PerTokenFormat::kJsonl;
    else if (s == "none" || s == "false") spec.per_token = PerTokenFormat::kNone;
    else fail_at(yr.at(pt), "per_token must be csv, jsonl or none, got '{}'", s);
  }
  if (const YAML::Node u = root["unit"]) {
    const std::string s = yr.scalar(u, "unit");
    if (s == "token") spec.unit = Unit::kToken;
    else if (s == "word") spec.unit = Unit::kWord;
    else fail_at(yr.at(u), "unit must be token or word, got '{}'", s);
    if (spec.unit == Unit::kWord) {
      for (const Condition& c : spec.conditions) {
        if (c.segments[c.measured_segment].kind == SegmentKind::kSpecialToken)
          fail_at(c.segments[c.measured_segment].where,
                  "condition '{}': with unit: word the measured segment must be text, not a special token", c.name);
      }
    }
  }
  if (root["statistics"]) parse_statistics(yr, root["statistics"], spec);
  if (const YAML::Node w = root["window"]) {
    yr.check_map(w, "window", {"length", "stride"});
    if (w["length"]) spec.window.length = static_cast<int>(yr.integer(w["length"], "window.length", 2, 1 << 20));
    if (w["stride"]) spec.window.stride = static_cast<int>(yr.integer(w["stride"], "window.stride", 1, 1 << 20));
    if (spec.window.length > 0 && spec.window.stride >= spec.window.length)
      fail_at(yr.at(w["stride"]), "window.stride ({}) must be smaller than window.length ({}) so windows overlap",
              spec.window.stride, spec.window.length);
  }
  if (const YAML::Node s = root["scaling"]) {
    yr.check_map(s, "scaling", {"x"});
    if (s["x"]) {
      const std::string x = yr.scalar(s["x"], "scaling.x");
      if (x == "parameters") spec.scaling_axis = ScalingAxis::kTotalParameters;
      else if (x == "non_embedding_parameters") spec.scaling_axis = ScalingAxis::kNonEmbeddingParameters;
      else fail_at(yr.at(s["x"]), "scaling.x must be parameters or non_embedding_parameters, got '{}'", x);
    }
  }
  if (root["batch_tokens"])
    spec.batch_tokens = static_cast<std::size_t>(yr.integer(root["batch_tokens"], "batch_tokens", 1, 1LL << 26));
  return spec;
}

ExperimentSpec parse_experiment_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("{}: no such experiment file", path.string());
  return parse_experiment_text(read_text_file(path), path);
}

}  // namespace entroscope::experiment
