#pragma once
// entroscope's tokenizer: exact byte-level BPE as GPT-2 (vocab.json + merges.txt) and Hugging Face
// tokenizer.json files (GPT-2, GPT-NeoX / Pythia) define it. The same ids as tiktoken / HF
// tokenizers for any text; decoding gives back exact bytes.
//
//   auto tok = Tokenizer::load("models/demo-gpt2-s");
//   std::vector<int32_t> ids = tok.encode("Hello world");   // {15496, 995} for GPT-2
//   std::string bytes = tok.decode(ids);                     // "Hello world"
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace entroscope::tokenizer {

struct TokenizerModel;
struct TokenizerSpec;

class Tokenizer {
 public:
  // path: a model directory (tokenizer.json if present, else vocab.json + merges.txt), a
  // tokenizer.json file, or a vocab.json file (merges.txt beside it). Throws entroscope::Error
  // with a one-line message naming the file and the problem on anything malformed or unsupported.
  static Tokenizer load(const std::filesystem::path& path);
  // From an already-read description (the loaders' output); checks it the same way.
  static Tokenizer from_spec(const TokenizerSpec& spec);

  // Ids of `text` (any bytes; invalid UTF-8 is encoded byte by byte). No BOS/EOS is added.
  // allow_special=false: special tokens in the text are plain text (tiktoken's encode_ordinary;
  // HF's split_special_tokens); non-special added tokens (NeoX's space runs) still match.
  // allow_special=true: every added token is recognized (HF's default).
  // Thread-safe: the tokenizer is immutable after load.
  std::vector<std::int32_t> encode(std::string_view text, bool allow_special = false) const;
  // Same, appending to `ids` (lets a caller reuse one vector).
  void encode_into(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const;

  // Exact bytes of the ids, concatenated; may be invalid UTF-8 (an id can be part of a
  // character). Nothing is cleaned up or dropped (no "clean_up_tokenization_spaces", a BOM stays).
  // Throws entroscope::Error for an id that is not in the vocabulary.
  std::string decode(std::span<const std::int32_t> ids) const;
  // Bytes of one id (throws like decode).
  std::string_view token_bytes(std::int32_t id) const;

  // Id of a token written as in the vocabulary files ("Ġthe", "<|endoftext|>", NeoX's "  ").
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // Largest id + 1, including added tokens. Some ids below it may be unused.
  std::size_t vocab_size() const;
  // True when `id` names a token.
  bool is_valid_id(std::int32_t id) const;
  // Ids of the special added tokens (e.g. <|endoftext|>), ascending.
  const std::vector<std::int32_t>& special_ids() const;
  // The files the tokenizer was loaded from (for reproducibility metadata and hashes).
  const std::vector<std::filesystem::path>& source_files() const;

 private:
  explicit Tokenizer(std::shared_ptr<const TokenizerModel> model);
  void encode_normalizable(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const;
  void encode_pretokenizable(std::string_view text, std::vector<std::int32_t>& ids) const;

  // Immutable and shared: copies are cheap and every method is const and thread-safe.
  std::shared_ptr<const TokenizerModel> model_;
};

}  // namespace entroscope::tokenizer
