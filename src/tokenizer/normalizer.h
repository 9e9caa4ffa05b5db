#pragma once
// Unicode NFC (the "NFC" normalizer of tokenizer.json, used by GPT-NeoX), via utf8proc.
#include <string>
#include <string_view>

namespace entroscope::tokenizer {

// Returns the NFC form of `text`: either `text` itself (when it is already NFC, the common case)
// or a view of `storage`, which then holds the normalized bytes. Bytes that are not valid UTF-8
// are kept as they are and split the text into separately normalized runs.
std::string_view nfc_normalize(std::string_view text, std::string& storage);

}  // namespace entroscope::tokenizer
