#pragma once
// entroscope's tokenizer: Hugging Face tokenizer.json pipelines (byte-level BPE as in GPT-2,
// GPT-NeoX, Llama 3, Qwen2/3, OLMo-2; SentencePiece-style BPE with byte fallback as in Llama 2 and
// Mistral) and GPT-2's vocab.json + merges.txt, reproduced exactly: the same ids as HF tokenizers
// (and tiktoken for GPT-2) for any text, and the same decoded text.
//
//   auto tok = Tokenizer::load("models/demo-gpt2-s");
//   std::vector<int32_t> ids = tok.encode("Hello world");   // {15496, 995} for GPT-2
//   std::string text = tok.decode_text(ids);                // "Hello world"
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

struct EncodeOptions {
  // false: special tokens in the text are plain text (tiktoken's encode_ordinary; HF's
  // split_special_tokens); non-special added tokens (NeoX's space runs) still match.
  // true: every added token is recognized (HF's default).
  bool allow_special = false;
  // Run the post-processor: the tokens the file's template (or tokenizer_config.json's
  // add_bos_token / add_eos_token) puts around the text, e.g. Llama's and Mistral's <s>.
  bool add_special_tokens = false;
};

class Tokenizer {
 public:
  // path: a model directory (tokenizer.json if present, else vocab.json + merges.txt), a
  // tokenizer.json file, or a vocab.json file (merges.txt beside it). tokenizer_config.json
  // beside them is read for add_bos_token / add_eos_token. Throws entroscope::Error with a
  // one-line message naming the file and the problem on anything malformed or unsupported.
  static Tokenizer load(const std::filesystem::path& path);
  // A tokenizer.json's content (no tokenizer_config.json); errors name `origin`.
  static Tokenizer from_tokenizer_json(std::string_view content, const std::string& origin);
  // From an already-read description (the loaders' output); checks it the same way.
  static Tokenizer from_spec(const TokenizerSpec& spec);

  // Ids of `text` (any bytes; invalid UTF-8 is encoded byte by byte). Thread-safe: the tokenizer
  // is immutable after load.
  std::vector<std::int32_t> encode(std::string_view text, bool allow_special = false) const;
  std::vector<std::int32_t> encode(std::string_view text, const EncodeOptions& options) const;
  // Same, appending to `ids` (lets a caller reuse one vector).
  void encode_into(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const;
  void encode_into(std::string_view text, const EncodeOptions& options, std::vector<std::int32_t>& ids) const;

  // The text HF tokenizers' decode(ids, skip_special_tokens) returns, byte for byte: always valid
  // UTF-8 (invalid byte sequences repaired as the file's decoder does), unknown ids dropped, no
  // "clean_up_tokenization_spaces".
  std::string decode_text(std::span<const std::int32_t> ids, bool skip_special = false) const;
  // The same decoder without the UTF-8 repair: the exact bytes (an id can be part of a character).
  std::string decode_bytes(std::span<const std::int32_t> ids, bool skip_special = false) const;
  // The bytes of each id as it stands in running text (token_bytes), concatenated. Throws
  // entroscope::Error for an id that is not in the vocabulary.
  std::string decode(std::span<const std::int32_t> ids) const;
  // Bytes one id stands for in running text: GPT-2's "Ġthe" is " the", SentencePiece's "▁the" is
  // " the", "<0xE2>" is the byte E2, an added token its content (throws like decode).
  std::string_view token_bytes(std::int32_t id) const;
  // The token as written in the tokenizer files ("Ġthe", "▁the", "<|endoftext|>").
  std::string_view token_string(std::int32_t id) const;

  // Id of a token written as in the vocabulary files ("Ġthe", "<|endoftext|>", NeoX's "  ").
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // Largest id + 1, including added tokens. Some ids below it may be unused.
  std::size_t vocab_size() const;
  // True when `id` names a token.
  bool is_valid_id(std::int32_t id) const;
  // The ids the post-processor puts before the text (Llama's and Mistral's <s>); empty if none.
  std::vector<std::int32_t> template_prefix_ids() const;
  // Ids of the special added tokens (e.g. <|endoftext|>), ascending.
  const std::vector<std::int32_t>& special_ids() const;
  // Ids of the added tokens with lstrip (minicons counts them as word-initial), ascending.
  const std::vector<std::int32_t>& lstrip_ids() const;
  // Hugging Face's tokenizer.vocab_size: the model's vocabulary without the added tokens (Pythia's
  // 50254, below its added space runs).
  std::size_t model_vocab_entries() const;
  // The files the tokenizer was loaded from (for reproducibility metadata and hashes).
  const std::vector<std::filesystem::path>& source_files() const;

 private:
  explicit Tokenizer(std::shared_ptr<const TokenizerModel> model);
  void encode_text(std::string_view text, bool allow_special, std::vector<std::int32_t>& ids) const;
  void encode_normalizable(std::string_view text, bool at_origin, bool allow_special,
                           std::vector<std::int32_t>& ids) const;
  std::vector<std::string> decoder_input(std::span<const std::int32_t> ids, bool skip_special) const;

  // Immutable and shared: copies are cheap and every method is const and thread-safe.
  std::shared_ptr<const TokenizerModel> model_;
};

}  // namespace entroscope::tokenizer
