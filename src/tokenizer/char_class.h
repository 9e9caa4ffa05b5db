#pragma once
// The character classes GPT-2's split pattern is written in, with their Unicode meanings:
// \p{L} and \p{N} are the general categories L* and N* (from utf8proc, completed to Unicode 17);
// \s is the White_Space property, as in Rust's regex, Oniguruma and tiktoken: it includes U+0085
// and U+00A0 and excludes U+FEFF, U+200B, U+180E and U+001C..001F.
#include <array>
#include <cstdint>

namespace entroscope::tokenizer {

enum class CharClass : std::uint8_t {
  kLetter,      // \p{L}
  kNumber,      // \p{N}
  kWhitespace,  // \s
  kOther,       // [^\s\p{L}\p{N}], also every byte that is not valid UTF-8
};

// Class of a Unicode scalar value (not for surrogates; those never come out of decode_utf8).
CharClass classify_code_point(char32_t c);

namespace detail {
// ASCII is by far the most common input; a constant table skips the utf8proc lookup for it.
// (A test checks it against classify_code_point.)
constexpr std::array<CharClass, 128> make_ascii_classes() {
  std::array<CharClass, 128> t{};
  for (char32_t c = 0; c < 128; ++c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
      t[c] = CharClass::kLetter;
    else if (c >= '0' && c <= '9')
      t[c] = CharClass::kNumber;
    else if (c == ' ' || (c >= 0x09 && c <= 0x0D))
      t[c] = CharClass::kWhitespace;
    else
      t[c] = CharClass::kOther;
  }
  return t;
}
inline constexpr std::array<CharClass, 128> kAsciiClasses = make_ascii_classes();
}  // namespace detail

inline CharClass classify(char32_t c) { return c < 128 ? detail::kAsciiClasses[c] : classify_code_point(c); }

}  // namespace entroscope::tokenizer
