#include "tokenizer/tokenizer.h"

#include "common/error.h"
#include "common/json_file.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/tokenizer_model.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_files.h"

namespace entroscope::tokenizer {
namespace {

namespace fs = std::filesystem;

TokenizerSpec read_vocab_file(const fs::path& vocab_path) {
  const fs::path merges_path = vocab_path.parent_path() / "merges.txt";
  if (!fs::exists(merges_path)) {
    fail("{}: vocabulary file without merges: {} does not exist", vocab_path.string(), merges_path.string());
  }
  return read_vocab_and_merges(vocab_path, read_vocab_json_file(vocab_path), merges_path);
}

// A .json file is a tokenizer.json when its "model" is an object, otherwise a vocab.json (whose
// values are ids; GPT-2's vocabulary does have a token "model").
TokenizerSpec read_json_tokenizer_file(const fs::path& path) {
  if (path.filename() == "vocab.json") return read_vocab_file(path);
  StreamedJson file = read_tokenizer_json_file(path);
  const nlohmann::json& root = file.root;
  if (root.is_object() && root.contains("model") && root["model"].is_object()) {
    return read_tokenizer_json(path, std::move(file));
  }
  return read_vocab_file(path);
}

TokenizerSpec read_spec(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "tokenizer.json"))
      return read_tokenizer_json(path / "tokenizer.json", read_tokenizer_json_file(path / "tokenizer.json"));
    if (fs::exists(path / "vocab.json")) return read_vocab_file(path / "vocab.json");
    fail("{}: no tokenizer here: the directory has neither tokenizer.json nor vocab.json + merges.txt", path.string());
  }
  if (!fs::exists(path, ec)) fail("{}: no such file or directory", path.string());
  return read_json_tokenizer_file(path);
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerModel> model) : model_(std::move(model)) {}

Tokenizer Tokenizer::load(const fs::path& path) {
  try {
    TokenizerSpec spec = read_spec(path);
    std::error_code ec;
    apply_tokenizer_config(fs::is_directory(path, ec) ? path : path.parent_path(), spec);
    return from_spec(spec);
  } catch (const nlohmann::json::exception& e) {
    // A field of an unexpected JSON type that no specific check caught.
    fail("{}: unexpected content: {}", path.string(), e.what());
  }
}

Tokenizer Tokenizer::from_tokenizer_json(std::string_view content, const std::string& origin) {
  try {
    return from_spec(read_tokenizer_json(origin, parse_tokenizer_json_text(content, origin)));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: unexpected content: {}", origin, e.what());
  }
}

Tokenizer Tokenizer::from_spec(const TokenizerSpec& spec) {
  return Tokenizer(std::shared_ptr<const TokenizerModel>(build_tokenizer_model(spec)));
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool allow_special) const {
  return encode(text, EncodeOptions{allow_special, false});
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<std::int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  encode_into(text, options, ids);
  return ids;
}

void Tokenizer::encode_into(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const {
  encode_text(text, allow_special, ids);
}

void Tokenizer::encode_into(std::string_view text, const EncodeOptions& options, std::vector<std::int32_t>& ids) const {
  const TokenizerModel& m = *model_;
  if (!options.add_special_tokens || !m.template_single) {
    encode_text(text, options.allow_special, ids);
    return;
  }
  for (const TemplatePiece& piece : *m.template_single) {
    if (piece.is_text) {
      encode_text(text, options.allow_special, ids);
    } else {
      ids.insert(ids.end(), piece.ids.begin(), piece.ids.end());
    }
  }
}

// The order of HF tokenizers: added tokens on the raw text, then normalization of each piece
// between them, then normalized added tokens, then pre-tokenization and BPE of each remaining
// piece on its own.
void Tokenizer::encode_text(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const {
  model_->raw_tokens.split(
      text, allow_special,
      [&](std::string_view piece, std::size_t offset) { encode_normalizable(piece, offset == 0, allow_special, ids); },
      [&](std::int32_t id) { ids.push_back(id); });
}

void Tokenizer::encode_normalizable(std::string_view text, bool at_origin, bool allow_special,
                                    std::vector<std::int32_t>& ids) const {
  const TokenizerModel& m = *model_;
  std::string storage;
  bool start_moved = false;
  const std::string_view normalized = m.normalizer.apply(text, storage, &start_moved);
  at_origin = at_origin && !start_moved;
  m.normalized_tokens.split(
      normalized, allow_special,
      [&](std::string_view piece, std::size_t offset) {
        m.pre_tokenizer.for_each_piece(piece, at_origin && offset == 0,
                                       [&](std::string_view word) { m.bpe.encode(word, ids); });
      },
      [&](std::int32_t id) { ids.push_back(id); });
}

std::string_view Tokenizer::token_bytes(std::int32_t id) const {
  const TokenizerModel& m = *model_;
  if (!is_valid_id(id)) {
    fail("cannot decode id {}: not in the vocabulary (ids 0..{}{})", id, m.vocab_size() - 1,
         id >= 0 && static_cast<std::size_t>(id) < m.vocab_size() ? ", this one is unused" : "");
  }
  return m.token_bytes.at(static_cast<std::size_t>(id));
}

std::string_view Tokenizer::token_string(std::int32_t id) const {
  if (!is_valid_id(id)) token_bytes(id);  // throws the same error
  return model_->token_strings.at(static_cast<std::size_t>(id));
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (std::int32_t id : ids) out.append(token_bytes(id));
  return out;
}

// As the reference: ids that name no token are dropped silently, and skip_special drops every id
// whose string is a special token's.
std::vector<std::string> Tokenizer::decoder_input(std::span<const std::int32_t> ids, bool skip_special) const {
  const TokenizerModel& m = *model_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (std::int32_t id : ids) {
    if (!is_valid_id(id)) continue;
    if (skip_special && m.skipped_as_special[static_cast<std::size_t>(id)]) continue;
    tokens.emplace_back(m.token_strings.at(static_cast<std::size_t>(id)));
  }
  return tokens;
}

// A ByteLevel decoder joins the tokens' bytes (token_bytes) and repairs the result once: the
// table lookups give the same bytes without building a string per token.
std::string Tokenizer::decode_text(std::span<const std::int32_t> ids, bool skip_special) const {
  const TokenizerModel& m = *model_;
  if (!m.byte_level_decoder) return m.decoder.decode(decoder_input(ids, skip_special), true);
  const std::string bytes = decode_bytes(ids, skip_special);
  if (is_valid_utf8(bytes)) return bytes;
  std::string text;
  text.reserve(bytes.size() + 8);
  append_utf8_lossy(bytes, text);
  return text;
}

std::string Tokenizer::decode_bytes(std::span<const std::int32_t> ids, bool skip_special) const {
  const TokenizerModel& m = *model_;
  if (!m.byte_level_decoder) return m.decoder.decode(decoder_input(ids, skip_special), false);
  std::string bytes;
  bytes.reserve(ids.size() * 4);
  for (std::int32_t id : ids) {
    if (!is_valid_id(id) || (skip_special && m.skipped_as_special[static_cast<std::size_t>(id)])) continue;
    bytes.append(m.token_bytes.at(static_cast<std::size_t>(id)));
  }
  return bytes;
}

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  return model_->token_ids.find(token);
}

std::size_t Tokenizer::vocab_size() const { return model_->vocab_size(); }

bool Tokenizer::is_valid_id(std::int32_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < model_->vocab_size() && model_->id_known[id];
}

std::vector<std::int32_t> Tokenizer::template_prefix_ids() const {
  std::vector<std::int32_t> ids;
  if (!model_->template_single) return ids;
  for (const TemplatePiece& piece : *model_->template_single) {
    if (piece.is_text) break;
    ids.insert(ids.end(), piece.ids.begin(), piece.ids.end());
  }
  return ids;
}

const std::vector<std::int32_t>& Tokenizer::special_ids() const { return model_->special_ids; }
const std::vector<std::int32_t>& Tokenizer::lstrip_ids() const { return model_->lstrip_ids; }
std::size_t Tokenizer::model_vocab_entries() const { return model_->model_vocab_entries; }

const std::vector<fs::path>& Tokenizer::source_files() const { return model_->source_files; }

}  // namespace entroscope::tokenizer
