#pragma once
// The character classes tokenizer split patterns are written in, pinned to the Unicode version of
// the reference implementation (Hugging Face tokenizers' Oniguruma: Unicode 16.0):
//   \p{L}, \p{N}  general categories L* and N* (utf8proc's tables, completed to Unicode 16.0 and
//                 with the Unicode 17.0 additions held back, whatever utf8proc version is linked);
//   \s            the White_Space property, as in Oniguruma, Rust's regex and tiktoken: it includes
//                 U+0085 and U+00A0 and excludes U+FEFF, U+200B, U+180E and U+001C..001F.
// Other categories (marks, Nd, Pc for \w and \d) come from utf8proc as it is.
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace entroscope::tokenizer {

enum class CharClass : std::uint8_t {
  kLetter,      // \p{L}
  kNumber,      // \p{N}
  kWhitespace,  // \s
  kOther,       // [^\s\p{L}\p{N}], also every byte that is not valid UTF-8
};

// Class of a Unicode scalar value (not for surrogates; those never come out of decode_utf8).
CharClass classify_code_point(char32_t c);

// The finer classes regex escapes name (\d is Nd; \w is L, M, N and Pc, as in Oniguruma).
bool is_decimal_number(char32_t c);  // Nd
bool is_word_char(char32_t c);       // \w
// Rust regex's \w minus what callers add (Join_Control, non-mark Other_Alphabetic): letters,
// letter numbers (Nl), marks, Nd and Pc.
bool is_rust_word_char(char32_t c);

// Inclusive code point ranges, ascending, of the scalar values (surrogates excluded) for which
// `member` is true: the character sets a regex engine is given instead of its own tables.
std::vector<std::pair<char32_t, char32_t>> code_point_ranges(bool (*member)(char32_t));

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
