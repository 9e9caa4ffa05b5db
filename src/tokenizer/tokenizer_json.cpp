#include "tokenizer/tokenizer_json.h"

#include <set>
#include <unordered_map>

#include "common/error.h"
#include "tokenizer/json_quote.h"
#include "tokenizer/vocab_files.h"

namespace entroscope::tokenizer {
namespace {

using nlohmann::json;

std::string type_of(const json& component) {
  if (component.is_object() && component.contains("type") && component["type"].is_string()) {
    return component["type"].get<std::string>();
  }
  return {};
}

std::string describe(const json& component) {
  const std::string type = type_of(component);
  return type.empty() ? component.dump(-1, ' ', false, json::error_handler_t::replace) : json_quoted(type);
}

bool bool_field(const std::string& origin, const json& object, const std::string& where, const char* key,
                bool fallback) {
  if (!object.contains(key) || object[key].is_null()) return fallback;
  if (!object[key].is_boolean()) fail("{}: {}.{} must be true or false", origin, where, key);
  return object[key].get<bool>();
}

std::string string_field(const std::string& origin, const json& object, const std::string& where, const char* key) {
  if (!object.contains(key) || !object[key].is_string()) fail("{}: {} needs a string \"{}\"", origin, where, key);
  return object[key].get<std::string>();
}

std::size_t count_field(const std::string& origin, const json& object, const std::string& where, const char* key) {
  if (!object.contains(key) || !object[key].is_number_unsigned()) {
    fail("{}: {} needs a non-negative integer \"{}\"", origin, where, key);
  }
  return object[key].get<std::size_t>();
}

// One Unicode character as UTF-8 (Metaspace's replacement, Strip's content).
std::string one_char_field(const std::string& origin, const json& object, const std::string& where, const char* key) {
  const std::string value = string_field(origin, object, where, key);
  std::size_t characters = 0;
  for (unsigned char c : value) characters += (c & 0xC0) != 0x80;
  if (characters != 1) fail("{}: {}.{} must be a single character, got {}", origin, where, key, json_quoted(value));
  return value;
}

// The components of a "Sequence" (or the component itself), with their paths for messages.
void flatten_sequence(const std::string& origin, const json& component, const std::string& where,
                      const char* list_key, std::vector<std::pair<json, std::string>>& out) {
  if (type_of(component) != "Sequence") {
    out.emplace_back(component, where);
    return;
  }
  if (!component.contains(list_key) || !component[list_key].is_array()) {
    fail("{}: {} of type Sequence needs a \"{}\" array", origin, where, list_key);
  }
  const json& parts = component[list_key];
  for (std::size_t i = 0; i < parts.size(); ++i) {
    flatten_sequence(origin, parts[i], fmt::format("{}.{}[{}]", where, list_key, i), list_key, out);
  }
}

std::vector<std::pair<json, std::string>> components(const std::string& origin, const json& root, const char* key,
                                                     const char* list_key) {
  std::vector<std::pair<json, std::string>> out;
  if (root.contains(key) && !root[key].is_null()) flatten_sequence(origin, root[key], key, list_key, out);
  return out;
}

TextPattern pattern_field(const std::string& origin, const json& object, const std::string& where) {
  if (!object.contains("pattern") || !object["pattern"].is_object() || object["pattern"].size() != 1) {
    fail("{}: {} needs a \"pattern\" of the form {{\"String\": ...}} or {{\"Regex\": ...}}", origin, where);
  }
  const json& pattern = object["pattern"];
  const std::string kind = pattern.begin().key();
  const json& value = pattern.begin().value();
  if (!value.is_string() || (kind != "String" && kind != "Regex")) {
    fail("{}: {}.pattern must be {{\"String\": ...}} or {{\"Regex\": ...}}, got {}", origin, where,
         object["pattern"].dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return TextPattern{kind == "Regex", value.get<std::string>()};
}

PrependScheme prepend_scheme_field(const std::string& origin, const json& object, const std::string& where) {
  PrependScheme scheme = PrependScheme::kAlways;
  if (object.contains("prepend_scheme") && !object["prepend_scheme"].is_null()) {
    const json& value = object["prepend_scheme"];
    const std::string name = value.is_string() ? value.get<std::string>() : "";
    if (name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      fail("{}: {}.prepend_scheme must be \"always\", \"first\" or \"never\", got {}", origin, where,
           value.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  // The older add_prefix_space: false only agrees with "never" (the reference refuses the rest).
  if (!bool_field(origin, object, where, "add_prefix_space", true) && scheme != PrependScheme::kNever) {
    fail("{}: {}: add_prefix_space false does not match prepend_scheme (it needs \"never\")", origin, where);
  }
  return scheme;
}

void read_normalizer(const std::string& origin, const json& root, TokenizerSpec& spec) {
  for (const auto& [part, where] : components(origin, root, "normalizer", "normalizers")) {
    const std::string type = type_of(part);
    NormalizerStep step{NormalizerKind::kNfc, {}, {}, false, false};
    if (type == "NFC") {
      step.kind = NormalizerKind::kNfc;
    } else if (type == "NFD") {
      step.kind = NormalizerKind::kNfd;
    } else if (type == "NFKC") {
      step.kind = NormalizerKind::kNfkc;
    } else if (type == "NFKD") {
      step.kind = NormalizerKind::kNfkd;
    } else if (type == "Lowercase") {
      step.kind = NormalizerKind::kLowercase;
    } else if (type == "Prepend") {
      step.kind = NormalizerKind::kPrepend;
      step.content = string_field(origin, part, where, "prepend");
    } else if (type == "Replace") {
      step.kind = NormalizerKind::kReplace;
      step.pattern = pattern_field(origin, part, where);
      step.content = string_field(origin, part, where, "content");
    } else if (type == "Strip") {
      step.kind = NormalizerKind::kStrip;
      step.strip_left = bool_field(origin, part, where, "strip_left", false);
      step.strip_right = bool_field(origin, part, where, "strip_right", false);
    } else {
      fail("{}: {}: normalizer {} is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, "
           "Strip, Sequence)",
           origin, where, describe(part));
    }
    spec.normalizer.push_back(std::move(step));
  }
}

SplitBehavior behavior_field(const std::string& origin, const json& object, const std::string& where) {
  const std::string name = string_field(origin, object, where, "behavior");
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail("{}: {}.behavior {} is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous", origin,
       where, json_quoted(name));
}

void read_pre_tokenizer(const std::string& origin, const json& root, TokenizerSpec& spec) {
  for (const auto& [part, where] : components(origin, root, "pre_tokenizer", "pretokenizers")) {
    const std::string type = type_of(part);
    PreTokenizerStep step{};
    if (type == "ByteLevel") {
      step.kind = PreTokenizerKind::kByteLevel;
      if (!part.contains("add_prefix_space")) fail("{}: {}: ByteLevel has no add_prefix_space field", origin, where);
      step.add_prefix_space = bool_field(origin, part, where, "add_prefix_space", false);
      step.use_regex = bool_field(origin, part, where, "use_regex", true);
    } else if (type == "Split") {
      step.kind = PreTokenizerKind::kSplit;
      step.pattern = pattern_field(origin, part, where);
      step.behavior = behavior_field(origin, part, where);
      step.invert = bool_field(origin, part, where, "invert", false);
    } else if (type == "Metaspace") {
      step.kind = PreTokenizerKind::kMetaspace;
      step.replacement = one_char_field(origin, part, where, "replacement");
      step.prepend_scheme = prepend_scheme_field(origin, part, where);
      step.split = bool_field(origin, part, where, "split", true);
    } else if (type == "Digits") {
      step.kind = PreTokenizerKind::kDigits;
      step.individual_digits = bool_field(origin, part, where, "individual_digits", false);
    } else if (type == "Whitespace") {
      step.kind = PreTokenizerKind::kWhitespace;
    } else if (type == "WhitespaceSplit") {
      step.kind = PreTokenizerKind::kWhitespaceSplit;
    } else {
      fail("{}: {}: pre_tokenizer {} is not supported (supported: ByteLevel, Split, Metaspace, Digits, Whitespace, "
           "WhitespaceSplit, Sequence)",
           origin, where, describe(part));
    }
    spec.pre_tokenizer.push_back(std::move(step));
  }
}

void read_decoder(const std::string& origin, const json& root, TokenizerSpec& spec) {
  spec.has_decoder = root.contains("decoder") && !root["decoder"].is_null();
  for (const auto& [part, where] : components(origin, root, "decoder", "decoders")) {
    const std::string type = type_of(part);
    DecoderStep step{};
    if (type == "ByteLevel") {
      step.kind = DecoderKind::kByteLevel;
    } else if (type == "Metaspace") {
      step.kind = DecoderKind::kMetaspace;
      step.content = one_char_field(origin, part, where, "replacement");
      step.prepend_scheme = prepend_scheme_field(origin, part, where);
    } else if (type == "ByteFallback") {
      step.kind = DecoderKind::kByteFallback;
    } else if (type == "Fuse") {
      step.kind = DecoderKind::kFuse;
    } else if (type == "Strip") {
      step.kind = DecoderKind::kStrip;
      step.content = one_char_field(origin, part, where, "content");
      step.start = count_field(origin, part, where, "start");
      step.stop = count_field(origin, part, where, "stop");
    } else if (type == "Replace") {
      step.kind = DecoderKind::kReplace;
      step.pattern = pattern_field(origin, part, where);
      step.content = string_field(origin, part, where, "content");
    } else {
      fail("{}: {}: decoder {} is not supported (supported: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, "
           "Replace, Sequence)",
           origin, where, describe(part));
    }
    spec.decoder.push_back(std::move(step));
  }
}

// Ids of a token named in a post-processor: the added tokens and the vocabulary.
std::int32_t named_token_id(const std::string& origin, const std::string& where, const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_number_unsigned()) {
    fail("{}: {} must be [\"token\", id]", origin, where);
  }
  return static_cast<std::int32_t>(std::min<std::uint64_t>(pair[1].get<std::uint64_t>(), kMaxTokenId));
}

std::vector<TemplatePiece> read_template(const std::string& origin, const json& part, const std::string& where) {
  if (!part.contains("single") || !part["single"].is_array()) fail("{}: {} needs a \"single\" array", origin, where);
  const json special_tokens = part.value("special_tokens", json::object());
  if (!special_tokens.is_object()) fail("{}: {}.special_tokens must be an object", origin, where);
  std::vector<TemplatePiece> pieces;
  bool has_text = false;
  const json& single = part["single"];
  for (std::size_t i = 0; i < single.size(); ++i) {
    const json& piece = single[i];
    const std::string piece_where = fmt::format("{}.single[{}]", where, i);
    if (piece.is_object() && piece.contains("Sequence") && piece["Sequence"].is_object()) {
      const std::string id = piece["Sequence"].value("id", "");
      if (id != "A") fail("{}: {}: a single-sequence template can only hold $A, got {}", origin, piece_where, json_quoted(id));
      pieces.push_back(TemplatePiece{true, {}});
      has_text = true;
    } else if (piece.is_object() && piece.contains("SpecialToken") && piece["SpecialToken"].is_object() &&
               piece["SpecialToken"].contains("id") && piece["SpecialToken"]["id"].is_string()) {
      const std::string name = piece["SpecialToken"]["id"].get<std::string>();
      if (!special_tokens.contains(name) || !special_tokens[name].is_object() ||
          !special_tokens[name].contains("ids") || !special_tokens[name]["ids"].is_array()) {
        fail("{}: {}: special token {} is not defined in {}.special_tokens", origin, piece_where, json_quoted(name),
             where);
      }
      TemplatePiece special{false, {}};
      for (const json& id : special_tokens[name]["ids"]) {
        if (!id.is_number_unsigned() || id.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxTokenId)) {
          fail("{}: {}.special_tokens[{}].ids must hold token ids", origin, where, json_quoted(name));
        }
        special.ids.push_back(static_cast<std::int32_t>(id.get<std::uint64_t>()));
      }
      pieces.push_back(std::move(special));
    } else {
      fail("{}: {}: expected {{\"SpecialToken\": ...}} or {{\"Sequence\": ...}}", origin, piece_where);
    }
  }
  if (!has_text) fail("{}: {}.single has no $A (the text)", origin, where);
  return pieces;
}

void read_post_processor(const std::string& origin, const json& root, TokenizerSpec& spec) {
  for (const auto& [part, where] : components(origin, root, "post_processor", "processors")) {
    const std::string type = type_of(part);
    std::optional<std::vector<TemplatePiece>> single;
    if (type == "ByteLevel") continue;  // offsets only
    if (type == "TemplateProcessing") {
      single = read_template(origin, part, where);
    } else if (type == "BertProcessing" || type == "RobertaProcessing") {
      const std::int32_t cls = named_token_id(origin, where + ".cls", part.value("cls", json()));
      const std::int32_t sep = named_token_id(origin, where + ".sep", part.value("sep", json()));
      single = std::vector<TemplatePiece>{{false, {cls}}, {true, {}}, {false, {sep}}};
    } else {
      fail("{}: {}: post_processor {} is not supported (supported: TemplateProcessing, ByteLevel, BertProcessing, "
           "RobertaProcessing, Sequence)",
           origin, where, describe(part));
    }
    if (spec.template_single) fail("{}: {}: more than one post-processor adds tokens", origin, where);
    spec.template_single = std::move(single);
  }
}

void read_merges(const std::string& origin, const json& merges, BpeModelSpec& model) {
  if (!merges.is_array()) fail("{}: model.merges must be an array", origin);
  model.merges_from_json = true;
  model.merges.reserve(merges.size());
  std::uint32_t index = 0;
  for (const json& merge : merges) {
    if (merge.is_string()) {
      const std::string& text = merge.get_ref<const std::string&>();
      if (text.starts_with("#version")) {
        ++index;
        continue;
      }
      const std::size_t space = text.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
          text.find(' ', space + 1) != std::string::npos) {
        fail("{}: model.merges[{}]: expected two tokens separated by one space, got {}", origin, index,
             json_quoted(text));
      }
      model.merges.push_back(MergeSpec{text.substr(0, space), text.substr(space + 1), index});
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string() &&
               !merge[0].get_ref<const std::string&>().empty() && !merge[1].get_ref<const std::string&>().empty()) {
      model.merges.push_back(MergeSpec{merge[0].get<std::string>(), merge[1].get<std::string>(), index});
    } else {
      fail("{}: model.merges[{}]: expected \"A B\" or [\"A\", \"B\"], got {}", origin, index,
           merge.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    ++index;
  }
}

std::string optional_string_field(const std::string& origin, const json& model, const char* key) {
  if (!model.contains(key) || model[key].is_null()) return {};
  if (!model[key].is_string()) fail("{}: model.{} must be a string or null", origin, key);
  return model[key].get<std::string>();
}

void read_model(const std::string& origin, const json& root, StreamedJson& file, TokenizerSpec& spec) {
  if (!root.contains("model") || !root["model"].is_object()) fail("{}: no \"model\" object", origin);
  const json& model = root["model"];
  const std::string type = type_of(model);
  // Old files omit the type; HF then recognizes a BPE model by its fields.
  const bool has_vocab = file.vocab || model.contains("vocab");
  const bool has_merges = file.merges || model.contains("merges");
  const bool looks_like_bpe = has_vocab && has_merges;
  if (!(type == "BPE" || (type.empty() && looks_like_bpe))) {
    fail("{}: model type {} is not supported (only BPE)", origin, type.empty() ? "(none)" : json_quoted(type));
  }
  if (model.contains("dropout") && !model["dropout"].is_null()) {
    if (!model["dropout"].is_number() || model["dropout"].get<double>() != 0.0) {
      fail("{}: model.dropout is {}; BPE dropout makes encoding random and is not supported", origin,
           model["dropout"].dump());
    }
  }
  BpeModelSpec& m = spec.model;
  m.continuing_subword_prefix = optional_string_field(origin, model, "continuing_subword_prefix");
  m.end_of_word_suffix = optional_string_field(origin, model, "end_of_word_suffix");
  m.byte_fallback = bool_field(origin, model, "model", "byte_fallback", false);
  m.fuse_unk = bool_field(origin, model, "model", "fuse_unk", false);
  m.ignore_merges = bool_field(origin, model, "model", "ignore_merges", false);
  if (model.contains("unk_token") && !model["unk_token"].is_null()) {
    if (!model["unk_token"].is_string()) fail("{}: model.unk_token must be a string or null", origin);
    m.unk_token = model["unk_token"].get<std::string>();
  }
  if (!has_vocab) fail("{}: model has no vocab", origin);
  if (file.vocab) {
    if (file.vocab->empty()) fail("{}: model.vocab is empty", origin);
    m.vocab = std::move(*file.vocab);
  } else {
    m.vocab = parse_vocab_object(origin, model["vocab"], "model.vocab");
  }
  if (!has_merges) fail("{}: model has no merges", origin);
  if (file.merges) {
    m.merges_from_json = true;
    m.merges = std::move(*file.merges);
  } else {
    read_merges(origin, model["merges"], m);
  }
}

// The reference ignores the ids written in added_tokens: a token whose content is already known
// (an earlier added token, else the vocabulary) keeps that id, a new one takes the next free id
// from the vocabulary's size on. A file whose ids disagree would tokenize differently here and
// there, so that is an error.
void read_added_tokens(const std::string& origin, const json& root, TokenizerSpec& spec) {
  if (!root.contains("added_tokens") || root["added_tokens"].is_null()) return;
  const json& tokens = root["added_tokens"];
  if (!tokens.is_array()) fail("{}: added_tokens must be an array", origin);
  // content -> vocabulary id, only for the added tokens' contents (a handful).
  std::unordered_map<std::string, std::int32_t> vocab_ids;
  for (const json& t : tokens) {
    if (t.is_object() && t.contains("content") && t["content"].is_string()) vocab_ids.emplace(t["content"].get<std::string>(), -1);
  }
  for (const auto& [token, id] : spec.model.vocab) {
    auto it = vocab_ids.find(token);
    if (it != vocab_ids.end() && it->second < 0) it->second = id;
  }
  std::unordered_map<std::string, std::int32_t> added_ids;
  std::int64_t next_id = static_cast<std::int64_t>(spec.model.vocab.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const json& t = tokens[i];
    const std::string where = fmt::format("added_tokens[{}]", i);
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
        !t["content"].is_string()) {
      fail("{}: {} needs an integer \"id\" and a string \"content\"", origin, where);
    }
    const std::string content = t["content"].get<std::string>();
    const std::int64_t id =
        t["id"].is_number_unsigned()
            ? static_cast<std::int64_t>(std::min<std::uint64_t>(t["id"].get<std::uint64_t>(), kMaxTokenId + 1))
            : t["id"].get<std::int64_t>();
    if (id < 0 || id > kMaxTokenId) fail("{}: {} ({}): id {} is out of range", origin, where, json_quoted(content), id);
    if (content.empty()) fail("{}: {} (id {}) has empty content", origin, where, id);
    std::int64_t assigned;
    if (auto it = added_ids.find(content); it != added_ids.end()) {
      assigned = it->second;
    } else if (auto v = vocab_ids.find(content); v != vocab_ids.end() && v->second >= 0) {
      assigned = v->second;
    } else {
      assigned = next_id++;
    }
    if (assigned != id) {
      fail("{}: {} ({}) has id {}, but Hugging Face tokenizers gives it id {} (the vocabulary's id for that content, "
           "or the next id after the vocabulary)",
           origin, where, json_quoted(content), id, assigned);
    }
    added_ids.emplace(content, static_cast<std::int32_t>(id));
    AddedTokenSpec added;
    added.id = static_cast<std::int32_t>(id);
    added.content = content;
    added.special = bool_field(origin, t, where, "special", false);
    // HF's AddedToken default: special tokens are matched on the raw text, others after normalization.
    added.normalized = bool_field(origin, t, where, "normalized", !added.special);
    added.lstrip = bool_field(origin, t, where, "lstrip", false);
    added.rstrip = bool_field(origin, t, where, "rstrip", false);
    added.single_word = bool_field(origin, t, where, "single_word", false);
    spec.added_tokens.push_back(std::move(added));
  }
}

}  // namespace

TokenizerSpec read_tokenizer_json(const std::filesystem::path& path, StreamedJson file) {
  const json& root = file.root;
  TokenizerSpec spec;
  spec.origin = path.string();
  spec.merges_origin = spec.origin;
  spec.source_files = {path};
  if (!root.is_object()) fail("{}: expected a JSON object (a Hugging Face tokenizer.json)", spec.origin);
  if (root.contains("version") && !(root["version"].is_string() && root["version"].get<std::string>() == "1.0")) {
    fail("{}: version {} is not supported (only \"1.0\")", spec.origin, root["version"].dump());
  }
  for (const char* key : {"truncation", "padding"}) {
    if (root.contains(key) && !root[key].is_null()) {
      fail("{}: {} is set; entroscope scores whole texts and does not {} (set it to null)", spec.origin, key,
           std::string(key) == "truncation" ? "truncate" : "pad");
    }
  }
  read_model(spec.origin, root, file, spec);
  read_normalizer(spec.origin, root, spec);
  read_pre_tokenizer(spec.origin, root, spec);
  read_decoder(spec.origin, root, spec);
  read_added_tokens(spec.origin, root, spec);
  read_post_processor(spec.origin, root, spec);
  return spec;
}

}  // namespace entroscope::tokenizer
