#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

// GPT-2's rule: bytes that are printable Latin-1 characters ('!'..'~', '¡'..'¬', '®'..'ÿ') stand
// for themselves; the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) are given the
// code points 256, 257, ... in byte order, which keeps every alphabet character printable.
struct Alphabet {
  std::array<char32_t, 256> byte_to_char{};
  std::array<std::int16_t, 324> char_to_byte{};  // index: code point; -1 = not in the alphabet

  Alphabet() {
    char_to_byte.fill(-1);
    char32_t next_extra = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t c = printable ? static_cast<char32_t>(b) : next_extra++;
      byte_to_char[b] = c;
      char_to_byte[c] = static_cast<std::int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet table;
  return table;
}

}  // namespace

char32_t byte_to_alphabet_char(std::uint8_t byte) { return alphabet().byte_to_char[byte]; }

std::optional<std::uint8_t> alphabet_char_to_byte(char32_t c) {
  const Alphabet& a = alphabet();
  if (c >= a.char_to_byte.size() || a.char_to_byte[c] < 0) return std::nullopt;
  return static_cast<std::uint8_t>(a.char_to_byte[c]);
}

std::string bytes_to_alphabet(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) append_utf8(out, byte_to_alphabet_char(b));
  return out;
}

std::optional<std::string> alphabet_to_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    Utf8Char ch = decode_utf8(text, pos);
    if (!ch.valid) return std::nullopt;
    std::optional<std::uint8_t> b = alphabet_char_to_byte(ch.code_point);
    if (!b) return std::nullopt;
    out.push_back(static_cast<char>(*b));
    pos += ch.length;
  }
  return out;
}

std::string token_to_decoded_bytes(std::string_view token) {
  std::string out;
  append_decoded_bytes(token, out);
  return out;
}

void append_decoded_bytes(std::string_view token, std::string& out) {
  const std::size_t start = out.size();
  const Alphabet& a = alphabet();
  std::size_t pos = 0;
  while (pos < token.size()) {
    const Utf8Char ch = decode_utf8(token, pos);
    if (!ch.valid || ch.code_point >= a.char_to_byte.size() || a.char_to_byte[ch.code_point] < 0) {
      out.resize(start);  // a character outside the alphabet: the token's own bytes
      out.append(token);
      return;
    }
    out.push_back(static_cast<char>(a.char_to_byte[ch.code_point]));
    pos += ch.length;
  }
}

}  // namespace entroscope::tokenizer
