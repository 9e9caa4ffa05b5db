#pragma once
// tokenizer.json decoders: token strings -> text, as Hugging Face tokenizers' decode_chain does it
// (ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace; a Sequence is flattened by the
// loader). Two renderings of the same pipeline:
//   text   exactly the reference's output, always valid UTF-8: ByteLevel repairs the joined bytes
//          with from_utf8_lossy (one U+FFFD per maximal invalid subpart), ByteFallback turns a run
//          of <0xXX> tokens that is not valid UTF-8 into one U+FFFD per byte;
//   bytes  the same with no repair: the exact bytes the tokens stand for (an id can be part of a
//          character), which is what per-token tables and byte-exact round trips need.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/split_pattern.h"
#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

class Decoder {
 public:
  Decoder() = default;
  // has_decoder false: the file's decoder is null, and tokens are joined with single spaces.
  Decoder(const std::vector<DecoderStep>& steps, bool has_decoder, const std::string& origin);

  // Decodes the token strings (as in the files; added tokens' content).
  std::string decode(std::vector<std::string> tokens, bool repair_utf8) const;
  // The bytes one token stands for inside running text: the per-token steps only (the whole-text
  // steps Fuse and Strip, and Metaspace's first-token rule, are left out; nothing is repaired).
  std::string token_bytes(std::string_view token) const;

 private:
  struct Step {
    DecoderStep spec;
    std::shared_ptr<const SplitPattern> pattern;  // kReplace
  };
  void apply(const Step& step, std::vector<std::string>& tokens, bool repair_utf8, bool first_is_start) const;

  std::vector<Step> steps_;
  bool has_decoder_ = true;
};

// Rust's String::from_utf8_lossy: each maximal invalid subpart (WHATWG) becomes one U+FFFD.
void append_utf8_lossy(std::string_view bytes, std::string& out);

}  // namespace entroscope::tokenizer
