#include "tokenizer/tokenizer_json.h"

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

bool bool_field(const std::string& origin, const json& object, const char* where, const char* key, bool fallback) {
  if (!object.contains(key) || object[key].is_null()) return fallback;
  if (!object[key].is_boolean()) fail("{}: {}.{} must be true or false", origin, where, key);
  return object[key].get<bool>();
}

// The components of a "Sequence" (or the component itself).
std::vector<json> flatten_sequence(const std::string& origin, const json& component, const char* where,
                                   const char* list_key) {
  if (type_of(component) != "Sequence") return {component};
  if (!component.contains(list_key) || !component[list_key].is_array()) {
    fail("{}: {} of type Sequence needs a \"{}\" array", origin, where, list_key);
  }
  std::vector<json> parts;
  for (const json& part : component[list_key]) {
    for (json& inner : flatten_sequence(origin, part, where, list_key)) parts.push_back(std::move(inner));
  }
  return parts;
}

void read_normalizer(const std::string& origin, const json& root, TokenizerSpec& spec) {
  if (!root.contains("normalizer") || root["normalizer"].is_null()) return;
  for (const json& part : flatten_sequence(origin, root["normalizer"], "normalizer", "normalizers")) {
    const std::string type = type_of(part);
    if (type == "NFC") {
      spec.nfc = true;
    } else {
      fail("{}: normalizer {} is not supported (only NFC, alone or in a Sequence)", origin,
           type.empty() ? part.dump() : json_quoted(type));
    }
  }
}

void read_pre_tokenizer(const std::string& origin, const json& root, TokenizerSpec& spec) {
  if (!root.contains("pre_tokenizer") || root["pre_tokenizer"].is_null()) {
    fail("{}: pre_tokenizer is null; only byte-level BPE (pre_tokenizer ByteLevel) is supported", origin);
  }
  std::vector<json> parts = flatten_sequence(origin, root["pre_tokenizer"], "pre_tokenizer", "pretokenizers");
  for (const json& part : parts) {
    if (type_of(part) != "ByteLevel") {
      const std::string type = type_of(part);
      fail("{}: pre_tokenizer {} is not supported (only a single ByteLevel)", origin,
           type.empty() ? part.dump() : json_quoted(type));
    }
  }
  if (parts.size() != 1) fail("{}: pre_tokenizer must hold exactly one ByteLevel (found {})", origin, parts.size());
  const json& byte_level = parts[0];
  if (!byte_level.contains("add_prefix_space")) {
    fail("{}: pre_tokenizer ByteLevel has no add_prefix_space field", origin);
  }
  spec.add_prefix_space = bool_field(origin, byte_level, "pre_tokenizer", "add_prefix_space", false);
  spec.use_regex = bool_field(origin, byte_level, "pre_tokenizer", "use_regex", true);
}

void read_decoder(const std::string& origin, const json& root) {
  if (!root.contains("decoder") || root["decoder"].is_null()) return;
  for (const json& part : flatten_sequence(origin, root["decoder"], "decoder", "decoders")) {
    const std::string type = type_of(part);
    if (type != "ByteLevel") {
      fail("{}: decoder {} is not supported (only ByteLevel)", origin, type.empty() ? part.dump() : json_quoted(type));
    }
  }
}

// encode() returns the ids of the text alone; a post-processor that adds tokens (BOS/EOS) would
// make that differ from what the file describes, so it is refused.
void read_post_processor(const std::string& origin, const json& root) {
  if (!root.contains("post_processor") || root["post_processor"].is_null()) return;
  for (const json& part : flatten_sequence(origin, root["post_processor"], "post_processor", "processors")) {
    const std::string type = type_of(part);
    if (type == "ByteLevel") continue;
    if (type == "TemplateProcessing") {
      const json single = part.value("single", json::array());
      const bool only_text =
          single.is_array() && single.size() == 1 && single[0].is_object() && single[0].contains("Sequence");
      if (only_text) continue;
      fail("{}: post_processor TemplateProcessing adds tokens around the text ({}), which is not supported", origin,
           single.dump());
    }
    fail("{}: post_processor {} is not supported (only ByteLevel, or a TemplateProcessing that adds nothing)", origin,
         type.empty() ? part.dump() : json_quoted(type));
  }
}

void read_merges(const std::string& origin, const json& merges, TokenizerSpec& spec) {
  if (!merges.is_array()) fail("{}: model.merges must be an array", origin);
  spec.merges_from_json = true;
  spec.merges.reserve(merges.size());
  std::uint32_t index = 0;
  for (const json& merge : merges) {
    if (merge.is_string()) {
      const std::string& text = merge.get_ref<const std::string&>();
      const std::size_t space = text.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
          text.find(' ', space + 1) != std::string::npos) {
        fail("{}: model.merges[{}]: expected two tokens separated by one space, got {}", origin, index,
             json_quoted(text));
      }
      spec.merges.push_back(MergeSpec{text.substr(0, space), text.substr(space + 1), index});
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string() &&
               !merge[0].get_ref<const std::string&>().empty() && !merge[1].get_ref<const std::string&>().empty()) {
      spec.merges.push_back(MergeSpec{merge[0].get<std::string>(), merge[1].get<std::string>(), index});
    } else {
      fail("{}: model.merges[{}]: expected \"A B\" or [\"A\", \"B\"], got {}", origin, index,
           merge.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    ++index;
  }
}

void read_model(const std::string& origin, const json& root, TokenizerSpec& spec) {
  if (!root.contains("model") || !root["model"].is_object()) fail("{}: no \"model\" object", origin);
  const json& model = root["model"];
  const std::string type = type_of(model);
  // Old files omit the type; HF then recognizes a BPE model by its fields.
  const bool looks_like_bpe = model.contains("vocab") && model.contains("merges");
  if (!(type == "BPE" || (type.empty() && looks_like_bpe))) {
    fail("{}: model type {} is not supported (only BPE)", origin, type.empty() ? "(none)" : json_quoted(type));
  }
  if (model.contains("dropout") && !model["dropout"].is_null()) {
    if (!model["dropout"].is_number() || model["dropout"].get<double>() != 0.0) {
      fail("{}: model.dropout is {}; BPE dropout makes encoding random and is not supported", origin,
           model["dropout"].dump());
    }
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() &&
        !(model[key].is_string() && model[key].get_ref<const std::string&>().empty())) {
      fail("{}: model.{} is {}; it is not supported for byte-level BPE", origin, key, model[key].dump());
    }
  }
  if (bool_field(origin, model, "model", "byte_fallback", false)) {
    fail("{}: model.byte_fallback is true; it is not supported for byte-level BPE", origin);
  }
  spec.fuse_unk = bool_field(origin, model, "model", "fuse_unk", false);
  spec.ignore_merges = bool_field(origin, model, "model", "ignore_merges", false);
  if (model.contains("unk_token") && !model["unk_token"].is_null()) {
    if (!model["unk_token"].is_string()) fail("{}: model.unk_token must be a string or null", origin);
    spec.unk_token = model["unk_token"].get<std::string>();
  }
  if (!model.contains("vocab")) fail("{}: model has no vocab", origin);
  spec.vocab = parse_vocab_object(origin, model["vocab"], "model.vocab");
  if (!model.contains("merges")) fail("{}: model has no merges", origin);
  read_merges(origin, model["merges"], spec);
}

void read_added_tokens(const std::string& origin, const json& root, TokenizerSpec& spec) {
  if (!root.contains("added_tokens") || root["added_tokens"].is_null()) return;
  const json& tokens = root["added_tokens"];
  if (!tokens.is_array()) fail("{}: added_tokens must be an array", origin);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const json& t = tokens[i];
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
        !t["content"].is_string()) {
      fail("{}: added_tokens[{}] needs an integer \"id\" and a string \"content\"", origin, i);
    }
    const std::string content = t["content"].get<std::string>();
    const std::int64_t id =
        t["id"].is_number_unsigned()
            ? static_cast<std::int64_t>(std::min<std::uint64_t>(t["id"].get<std::uint64_t>(), kMaxTokenId + 1))
            : t["id"].get<std::int64_t>();
    if (id < 0 || id > kMaxTokenId)
      fail("{}: added_tokens[{}] ({}): id {} is out of range", origin, i, json_quoted(content), id);
    if (content.empty()) fail("{}: added_tokens[{}] (id {}) has empty content", origin, i, id);
    for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
      if (bool_field(origin, t, "added_tokens", flag, false)) {
        fail("{}: added_tokens[{}] ({}) uses {}, which is not supported", origin, i, json_quoted(content), flag);
      }
    }
    const bool special = bool_field(origin, t, "added_tokens", "special", false);
    // HF's AddedToken default: special tokens are matched on the raw text, others after normalization.
    const bool normalized = bool_field(origin, t, "added_tokens", "normalized", !special);
    spec.added_tokens.push_back(AddedTokenSpec{static_cast<std::int32_t>(id), content, special, normalized});
  }
}

}  // namespace

TokenizerSpec read_tokenizer_json(const std::filesystem::path& path, const json& root) {
  TokenizerSpec spec;
  spec.origin = path.string();
  spec.merges_origin = spec.origin;
  spec.source_files = {path};
  if (!root.is_object()) fail("{}: expected a JSON object (a Hugging Face tokenizer.json)", spec.origin);
  read_model(spec.origin, root, spec);
  read_normalizer(spec.origin, root, spec);
  read_pre_tokenizer(spec.origin, root, spec);
  read_decoder(spec.origin, root);
  read_post_processor(spec.origin, root);
  read_added_tokens(spec.origin, root, spec);
  return spec;
}

}  // namespace entroscope::tokenizer
