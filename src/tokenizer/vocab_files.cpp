#include "tokenizer/vocab_files.h"

#include <algorithm>
#include <unordered_map>

#include "common/error.h"
#include "common/json_file.h"
#include "tokenizer/json_quote.h"

namespace entroscope::tokenizer {
namespace {

namespace fs = std::filesystem;

// A special-token entry in tokenizer_config.json / special_tokens_map.json: "..." or {"content": "..."}.
std::optional<std::string> special_token_content(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return std::nullopt;
}

constexpr const char* kSpecialTokenKeys[] = {"bos_token", "eos_token", "unk_token", "pad_token",
                                             "sep_token", "cls_token", "mask_token"};

// Reads the special tokens (and add_prefix_space) that transformers would take from the files
// beside vocab.json. Returns false when neither file exists.
bool read_special_token_configs(const fs::path& dir, TokenizerSpec& spec,
                                const std::unordered_map<std::string, std::int32_t>& vocab_ids, bool& add_prefix_space) {
  std::vector<std::string> names;
  bool found = false;

  const fs::path config_path = dir / "tokenizer_config.json";
  if (fs::exists(config_path)) {
    found = true;
    spec.source_files.push_back(config_path);
    nlohmann::json config = read_json_file(config_path);
    if (!config.is_object()) fail("{}: expected a JSON object", config_path.string());
    if (config.contains("add_prefix_space") && !config["add_prefix_space"].is_null()) {
      if (!config["add_prefix_space"].is_boolean())
        fail("{}: add_prefix_space must be true or false", config_path.string());
      add_prefix_space = config["add_prefix_space"].get<bool>();
    }
    if (config.contains("added_tokens_decoder")) {
      const nlohmann::json& decoder = config["added_tokens_decoder"];
      if (!decoder.is_object()) fail("{}: added_tokens_decoder must be an object", config_path.string());
      for (const auto& item : decoder.items()) {
        const std::string& id_text = item.key();
        const nlohmann::json& token = item.value();
        std::optional<std::string> content = special_token_content(token);
        std::int64_t id = -1;
        try {
          std::size_t used = 0;
          id = std::stoll(id_text, &used);
          if (used != id_text.size()) id = -1;
        } catch (const std::exception&) {
          id = -1;
        }
        if (id < 0 || id > kMaxTokenId || !content) {
          fail("{}: added_tokens_decoder entry {} must have a non-negative integer key and a \"content\" string",
               config_path.string(), json_quoted(id_text));
        }
        auto flag = [&](const char* key) {
          if (!token.contains(key) || token[key].is_null()) return false;
          if (!token[key].is_boolean()) {
            fail("{}: added token {}: {} must be true or false", config_path.string(), json_quoted(*content), key);
          }
          return token[key].get<bool>();
        };
        AddedTokenSpec added{static_cast<std::int32_t>(id), *content, flag("special"), flag("normalized")};
        added.lstrip = flag("lstrip");
        added.rstrip = flag("rstrip");
        added.single_word = flag("single_word");
        spec.added_tokens.push_back(std::move(added));
      }
    }
    for (const char* key : kSpecialTokenKeys) {
      if (config.contains(key)) {
        if (auto content = special_token_content(config[key])) names.push_back(*content);
      }
    }
  }

  const fs::path map_path = dir / "special_tokens_map.json";
  if (fs::exists(map_path)) {
    found = true;
    spec.source_files.push_back(map_path);
    nlohmann::json map = read_json_file(map_path);
    if (!map.is_object()) fail("{}: expected a JSON object", map_path.string());
    for (const char* key : kSpecialTokenKeys) {
      if (map.contains(key)) {
        if (auto content = special_token_content(map[key])) names.push_back(*content);
      }
    }
    if (map.contains("additional_special_tokens") && map["additional_special_tokens"].is_array()) {
      for (const auto& entry : map["additional_special_tokens"]) {
        if (auto content = special_token_content(entry)) names.push_back(*content);
      }
    }
  }

  for (const std::string& name : names) {
    bool known = false;
    for (const AddedTokenSpec& t : spec.added_tokens) known = known || t.content == name;
    auto it = vocab_ids.find(name);
    // A named special token that is not in vocab.json would get a new id in transformers; these
    // files never rely on that, so it is left out rather than guessed.
    if (!known && it != vocab_ids.end()) spec.added_tokens.push_back(AddedTokenSpec{it->second, name, true, false});
  }
  return found;
}

}  // namespace

std::vector<std::pair<std::string, std::int32_t>> parse_vocab_object(const std::string& origin,
                                                                     const nlohmann::json& vocab,
                                                                     const std::string& what) {
  if (!vocab.is_object()) fail("{}: {} must be a JSON object mapping token strings to ids", origin, what);
  std::vector<std::pair<std::string, std::int32_t>> entries;
  entries.reserve(vocab.size());
  for (const auto& [token, value] : vocab.items()) {
    if (!value.is_number_integer()) {
      fail("{}: {}: the id of token {} is not an integer (got {})", origin, what, json_quoted(token),
           value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    const std::int64_t id =
        value.is_number_unsigned()
            ? static_cast<std::int64_t>(std::min<std::uint64_t>(value.get<std::uint64_t>(), kMaxTokenId + 1))
            : value.get<std::int64_t>();
    if (id < 0 || id > kMaxTokenId) {
      fail("{}: {}: the id {} of token {} is out of range (0..{})", origin, what, value.dump(), json_quoted(token),
           kMaxTokenId);
    }
    entries.emplace_back(token, static_cast<std::int32_t>(id));
  }
  if (entries.empty()) fail("{}: {} is empty", origin, what);
  return entries;
}

std::vector<MergeSpec> parse_merges_txt(const fs::path& merges_path, std::string_view content) {
  std::vector<MergeSpec> merges;
  merges.reserve(content.size() / 8);
  std::uint32_t line_number = 0;
  std::size_t pos = 0;
  std::size_t blank_line = 0;  // first blank line seen; fine only if nothing follows it
  while (pos < content.size()) {
    std::size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF file; '\r' is never in a token
    if (line_number == 1 && line.starts_with("#version")) continue;
    if (line.empty()) {
      if (blank_line == 0) blank_line = line_number;
      continue;
    }
    if (blank_line != 0) fail("{}: line {}: empty line in the middle of the merges", merges_path.string(), blank_line);
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      fail("{}: line {}: expected two tokens separated by one space, got {}", merges_path.string(), line_number,
           json_quoted(line));
    }
    merges.push_back(MergeSpec{std::string(line.substr(0, space)), std::string(line.substr(space + 1)), line_number});
  }
  return merges;
}

TokenizerSpec read_vocab_and_merges(const fs::path& vocab_path, std::vector<std::pair<std::string, std::int32_t>> vocab,
                                    const fs::path& merges_path) {
  TokenizerSpec spec;
  spec.origin = vocab_path.string();
  spec.merges_origin = merges_path.string();
  spec.source_files = {vocab_path, merges_path};
  spec.model.vocab = std::move(vocab);
  spec.model.merges = parse_merges_txt(merges_path, read_text_file(merges_path));

  std::unordered_map<std::string, std::int32_t> vocab_ids(spec.model.vocab.begin(), spec.model.vocab.end());
  bool add_prefix_space = false;
  if (!read_special_token_configs(vocab_path.parent_path(), spec, vocab_ids, add_prefix_space)) {
    auto it = vocab_ids.find("<|endoftext|>");
    if (it != vocab_ids.end()) spec.added_tokens.push_back(AddedTokenSpec{it->second, "<|endoftext|>", true, false});
  }
  // GPT-2's pipeline, as transformers' GPT2Tokenizer runs it.
  PreTokenizerStep byte_level{};
  byte_level.kind = PreTokenizerKind::kByteLevel;
  byte_level.add_prefix_space = add_prefix_space;
  byte_level.use_regex = true;
  spec.pre_tokenizer = {byte_level};
  spec.decoder = {DecoderStep{DecoderKind::kByteLevel, {}, {}, 0, 0, PrependScheme::kAlways}};
  return spec;
}

namespace {

std::int32_t token_id_in_spec(const TokenizerSpec& spec, const std::string& token) {
  for (const AddedTokenSpec& t : spec.added_tokens) {
    if (t.content == token) return t.id;
  }
  for (const auto& [content, id] : spec.model.vocab) {
    if (content == token) return id;
  }
  return -1;
}

}  // namespace

void apply_tokenizer_config(const fs::path& dir, TokenizerSpec& spec) {
  const fs::path config_path = dir / "tokenizer_config.json";
  std::error_code ec;
  if (!fs::exists(config_path, ec)) return;
  const nlohmann::json config = read_json_file(config_path);
  if (!config.is_object()) fail("{}: expected a JSON object", config_path.string());
  // The id a flag adds, -1 when the flag is false, nullopt when the file does not set the flag.
  auto added_id = [&](const char* flag, const char* token_key) -> std::optional<std::int32_t> {
    if (!config.contains(flag) || config[flag].is_null()) return std::nullopt;
    if (!config[flag].is_boolean()) fail("{}: {} must be true or false", config_path.string(), flag);
    if (!config[flag].get<bool>()) return -1;
    const std::optional<std::string> name =
        config.contains(token_key) ? special_token_content(config[token_key]) : std::nullopt;
    if (!name) fail("{}: {} is true but {} is not set", config_path.string(), flag, token_key);
    const std::int32_t id = token_id_in_spec(spec, *name);
    if (id < 0) fail("{}: {} {} is not a token of {}", config_path.string(), token_key, json_quoted(*name), spec.origin);
    return id;
  };
  const std::optional<std::int32_t> bos = added_id("add_bos_token", "bos_token");
  const std::optional<std::int32_t> eos = added_id("add_eos_token", "eos_token");
  if (!bos && !eos) return;
  // transformers rebuilds the post-processor from these flags (LlamaTokenizerFast,
  // GPT2TokenizerFast's add_bos_token for OPT): they replace the file's template.
  std::vector<TemplatePiece> single;
  if (bos && *bos >= 0) single.push_back(TemplatePiece{false, {*bos}});
  single.push_back(TemplatePiece{true, {}});
  if (eos && *eos >= 0) single.push_back(TemplatePiece{false, {*eos}});
  spec.template_single = std::move(single);
  if (std::find(spec.source_files.begin(), spec.source_files.end(), config_path) == spec.source_files.end()) {
    spec.source_files.push_back(config_path);
  }
}

}  // namespace entroscope::tokenizer
