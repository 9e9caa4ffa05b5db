#pragma once
// tokenizer.json normalizers, applied in order to each piece of text between added tokens:
// NFC, NFD, NFKC, NFKD (utf8proc, held to the reference's Unicode 9.0 tables), Lowercase,
// Prepend, Replace, Strip; a Sequence is flattened into the list by the loader.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/split_pattern.h"
#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

// Returns the NFC form of `text`: either `text` itself (when it is already NFC, the common case)
// or a view of `storage`, which then holds the normalized bytes. Bytes that are not valid UTF-8
// are kept as they are and split the text into separately normalized runs.
std::string_view nfc_normalize(std::string_view text, std::string& storage);

class Normalizer {
 public:
  Normalizer() = default;
  // `origin` names the file in errors (a Replace regex that does not compile).
  Normalizer(const std::vector<NormalizerStep>& steps, const std::string& origin);

  bool empty() const { return steps_.empty(); }
  // The normalized text: `text` itself when no step changes it, else a view of `storage`.
  // *start_moved (when given) is set when the normalized text no longer begins where the input
  // began (Strip removed leading characters, or Replace rewrote more than the first character):
  // what the reference's offsets would say, for Metaspace's prepend_scheme "first".
  std::string_view apply(std::string_view text, std::string& storage, bool* start_moved = nullptr) const;

 private:
  struct Step {
    NormalizerStep spec;
    std::shared_ptr<const SplitPattern> pattern;  // kReplace
  };
  // Applies one step to `in`, writing `out`; false when the text is unchanged (out unused).
  bool apply_step(const Step& step, std::string_view in, std::string& out, bool& start_moved) const;

  std::vector<Step> steps_;
};

}  // namespace entroscope::tokenizer
