#pragma once
// GPT-2's byte-level alphabet: every byte 0..255 is written as one printable Unicode character, so
// that vocabulary files can store arbitrary byte strings as JSON text ("Ġ" is the space 0x20,
// "Ċ" is 0x0A). Vocabulary and merge strings are in this alphabet; text is raw bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace entroscope::tokenizer {

// The code point that stands for `byte` in vocabulary files (e.g. 0x20 -> U+0120 'Ġ').
char32_t byte_to_alphabet_char(std::uint8_t byte);

// The byte that code point `c` stands for, or nullopt when `c` is not in the alphabet.
std::optional<std::uint8_t> alphabet_char_to_byte(char32_t c);

// Raw bytes -> the alphabet form used in vocab.json / merges.txt (UTF-8).
std::string bytes_to_alphabet(std::string_view bytes);

// Alphabet form (UTF-8) -> raw bytes; nullopt when the string is not valid UTF-8 or holds a
// character outside the alphabet (such a string cannot come out of byte-level BPE).
std::optional<std::string> alphabet_to_bytes(std::string_view text);

// The bytes a ByteLevel decoder gives for one token: the alphabet mapped back to bytes when every
// character is in the alphabet, otherwise the token's own UTF-8 bytes (HF tokenizers does the same,
// per token; NeoX's added space-run tokens hold real spaces).
std::string token_to_decoded_bytes(std::string_view token);
// The same, appended to `out`.
void append_decoded_bytes(std::string_view token, std::string& out);

}  // namespace entroscope::tokenizer
