#include "tokenizer/pretokenizer.h"

#include "tokenizer/char_class.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

struct ClassifiedChar {
  CharClass cls;
  std::size_t length;
};

inline ClassifiedChar char_at(std::string_view text, std::size_t pos) {
  const auto b = static_cast<unsigned char>(text[pos]);
  if (b < 0x80) return {detail::kAsciiClasses[b], 1};
  const Utf8Char ch = decode_utf8(text, pos);
  if (!ch.valid) return {CharClass::kOther, 1};
  return {classify_code_point(ch.code_point), ch.length};
}

// End of the run of characters of class `cls` that starts at `pos`.
std::size_t run_end(std::string_view text, std::size_t pos, CharClass cls) {
  while (pos < text.size()) {
    const ClassifiedChar c = char_at(text, pos);
    if (c.cls != cls) break;
    pos += c.length;
  }
  return pos;
}

// The contractions are ASCII and lowercase only ("IT'S" and "it’s" have none).
std::size_t contraction_length(std::string_view text, std::size_t pos) {
  std::string_view rest = text.substr(pos + 1);
  if (rest.empty()) return 0;
  switch (rest[0]) {
    case 's':
    case 't':
    case 'm':
    case 'd':
      return 2;
    default:
      break;
  }
  std::string_view two = rest.substr(0, 2);
  if (two == "ll" || two == "ve" || two == "re") return 3;
  return 0;
}

}  // namespace

std::size_t gpt2_piece_end(std::string_view text, std::size_t start) {
  const std::size_t n = text.size();
  if (text[start] == '\'') {
    if (std::size_t len = contraction_length(text, start)) return start + len;
  }
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": only U+0020 can be the optional space.
  const std::size_t body = text[start] == ' ' ? start + 1 : start;
  if (body < n) {
    const ClassifiedChar c = char_at(text, body);
    if (c.cls != CharClass::kWhitespace) return run_end(text, body + c.length, c.cls);
  }
  // text[start] is whitespace. "\s+(?!\S)": the whole run if it reaches the end of the text,
  // otherwise the run without its last character (which then may lead the next word);
  // "\s+" catches a single whitespace character before a non-space.
  std::size_t last_char_start = start;
  std::size_t pos = start;
  while (pos < n) {
    const ClassifiedChar c = char_at(text, pos);
    if (c.cls != CharClass::kWhitespace) break;
    last_char_start = pos;
    pos += c.length;
  }
  if (pos == n) return n;
  return last_char_start > start ? last_char_start : pos;
}

void split_gpt2_pieces(std::string_view text, std::vector<std::string_view>& pieces) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = gpt2_piece_end(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
}

}  // namespace entroscope::tokenizer
