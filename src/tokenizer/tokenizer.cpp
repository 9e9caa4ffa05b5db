#include "tokenizer/tokenizer.h"

#include "common/error.h"
#include "common/json_file.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/tokenizer_model.h"
#include "tokenizer/vocab_files.h"

namespace entroscope::tokenizer {
namespace {

namespace fs = std::filesystem;

TokenizerSpec read_vocab_file(const fs::path& vocab_path, const nlohmann::json& vocab_json) {
  const fs::path merges_path = vocab_path.parent_path() / "merges.txt";
  if (!fs::exists(merges_path)) {
    fail("{}: vocabulary file without merges: {} does not exist", vocab_path.string(), merges_path.string());
  }
  return read_vocab_and_merges(vocab_path, vocab_json, merges_path);
}

// A .json file is a tokenizer.json when its "model" is an object, otherwise a vocab.json (whose
// values are ids; GPT-2's vocabulary does have a token "model").
TokenizerSpec read_json_tokenizer_file(const fs::path& path) {
  nlohmann::json root = read_json_file(path);
  if (root.is_object() && root.contains("model") && root["model"].is_object()) return read_tokenizer_json(path, root);
  return read_vocab_file(path, root);
}

TokenizerSpec read_spec(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "tokenizer.json"))
      return read_tokenizer_json(path / "tokenizer.json", read_json_file(path / "tokenizer.json"));
    if (fs::exists(path / "vocab.json"))
      return read_vocab_file(path / "vocab.json", read_json_file(path / "vocab.json"));
    fail("{}: no tokenizer here: the directory has neither tokenizer.json nor vocab.json + merges.txt", path.string());
  }
  if (!fs::exists(path, ec)) fail("{}: no such file or directory", path.string());
  return read_json_tokenizer_file(path);
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerModel> model) : model_(std::move(model)) {}

Tokenizer Tokenizer::load(const fs::path& path) {
  try {
    return from_spec(read_spec(path));
  } catch (const nlohmann::json::exception& e) {
    // A field of an unexpected JSON type that no specific check caught.
    fail("{}: unexpected content: {}", path.string(), e.what());
  }
}

Tokenizer Tokenizer::from_spec(const TokenizerSpec& spec) {
  return Tokenizer(std::make_shared<const TokenizerModel>(build_tokenizer_model(spec)));
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool allow_special) const {
  std::vector<std::int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  encode_into(text, allow_special, ids);
  return ids;
}

// The order of HF tokenizers: added tokens on the raw text, then normalization, then normalized
// added tokens, then pre-tokenization and BPE of each remaining piece on its own.
void Tokenizer::encode_into(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const {
  const TokenizerModel& m = *model_;
  const AddedTokenMatcher& raw = allow_special ? m.raw_with_special : m.raw_without_special;
  raw.split(
      text, [&](std::string_view piece) { encode_normalizable(piece, allow_special, ids); },
      [&](std::int32_t id) { ids.push_back(id); });
}

void Tokenizer::encode_normalizable(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const {
  const TokenizerModel& m = *model_;
  std::string storage;
  const std::string_view normalized = m.nfc ? nfc_normalize(text, storage) : text;
  const AddedTokenMatcher& matcher = allow_special ? m.normalized_with_special : m.normalized_without_special;
  matcher.split(
      normalized, [&](std::string_view piece) { encode_pretokenizable(piece, ids); },
      [&](std::int32_t id) { ids.push_back(id); });
}

void Tokenizer::encode_pretokenizable(std::string_view text, std::vector<std::int32_t>& ids) const {
  const TokenizerModel& m = *model_;
  std::string with_space;
  if (m.add_prefix_space && !text.empty() && text.front() != ' ') {
    with_space.reserve(text.size() + 1);
    with_space.push_back(' ');
    with_space.append(text);
    text = with_space;
  }
  if (!m.use_regex) {
    m.bpe.encode(text, ids);
    return;
  }
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = gpt2_piece_end(text, pos);
    m.bpe.encode(text.substr(pos, end - pos), ids);
    pos = end;
  }
}

std::string_view Tokenizer::token_bytes(std::int32_t id) const {
  const TokenizerModel& m = *model_;
  if (!is_valid_id(id)) {
    fail("cannot decode id {}: not in the vocabulary (ids 0..{}{})", id, m.vocab_size() - 1,
         id >= 0 && static_cast<std::size_t>(id) < m.vocab_size() ? ", this one is unused" : "");
  }
  const std::uint32_t begin = m.decoded_offsets[id];
  return std::string_view(m.decoded_bytes).substr(begin, m.decoded_offsets[id + 1] - begin);
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (std::int32_t id : ids) out.append(token_bytes(id));
  return out;
}

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = model_->token_ids.find(std::string(token));
  if (it == model_->token_ids.end()) return std::nullopt;
  return it->second;
}

std::size_t Tokenizer::vocab_size() const { return model_->vocab_size(); }

bool Tokenizer::is_valid_id(std::int32_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < model_->vocab_size() && model_->id_known[id];
}

const std::vector<std::int32_t>& Tokenizer::special_ids() const { return model_->special_ids; }

const std::vector<fs::path>& Tokenizer::source_files() const { return model_->source_files; }

}  // namespace entroscope::tokenizer
