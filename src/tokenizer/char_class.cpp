#include "tokenizer/char_class.h"

#include <utf8proc.h>

namespace entroscope::tokenizer {
namespace {

struct CodePointRange {
  char32_t first;
  char32_t last;
  CharClass cls;
};

// Letters and numbers assigned in Unicode 15.1 and 16.0, which Debian 12's utf8proc 2.8
// (Unicode 15.0) reports as unassigned. From the Unicode 16.0 character database (general
// categories L* and N*; no White_Space character was added). Only consulted for code points
// utf8proc calls unassigned.
constexpr CodePointRange kNewerThanUtf8proc[] = {
    {0x1C89, 0x1C8A, CharClass::kLetter},   {0xA7CB, 0xA7CD, CharClass::kLetter},
    {0xA7DA, 0xA7DC, CharClass::kLetter},   {0x105C0, 0x105F3, CharClass::kLetter},
    {0x10D40, 0x10D49, CharClass::kNumber}, {0x10D4A, 0x10D65, CharClass::kLetter},
    {0x10D6F, 0x10D85, CharClass::kLetter}, {0x10EC2, 0x10EC4, CharClass::kLetter},
    {0x11380, 0x11389, CharClass::kLetter}, {0x1138B, 0x1138B, CharClass::kLetter},
    {0x1138E, 0x1138E, CharClass::kLetter}, {0x11390, 0x113B5, CharClass::kLetter},
    {0x113B7, 0x113B7, CharClass::kLetter}, {0x113D1, 0x113D1, CharClass::kLetter},
    {0x113D3, 0x113D3, CharClass::kLetter}, {0x116D0, 0x116E3, CharClass::kNumber},
    {0x11BC0, 0x11BE0, CharClass::kLetter}, {0x11BF0, 0x11BF9, CharClass::kNumber},
    {0x13460, 0x143FA, CharClass::kLetter}, {0x16100, 0x1611D, CharClass::kLetter},
    {0x16130, 0x16139, CharClass::kNumber}, {0x16D40, 0x16D6C, CharClass::kLetter},
    {0x16D70, 0x16D79, CharClass::kNumber}, {0x18CFF, 0x18CFF, CharClass::kLetter},
    {0x1CCF0, 0x1CCF9, CharClass::kNumber}, {0x1E5D0, 0x1E5ED, CharClass::kLetter},
    {0x1E5F0, 0x1E5F0, CharClass::kLetter}, {0x1E5F1, 0x1E5FA, CharClass::kNumber},
    {0x2EBF0, 0x2EE5D, CharClass::kLetter},
};

// Letters and numbers new in Unicode 17.0: not \p{L} / \p{N} for the reference library, so they
// are "other" even if a newer utf8proc knows them (the uver/u17_letters golden row pins this).
constexpr std::pair<char32_t, char32_t> kNewInUnicode17[] = {
    {0x088F, 0x088F},   {0x0C5C, 0x0C5C},   {0x0CDC, 0x0CDC},   {0xA7CE, 0xA7CF},   {0xA7D2, 0xA7D2},
    {0xA7D4, 0xA7D4},   {0xA7F1, 0xA7F1},   {0x10940, 0x10959}, {0x10EC5, 0x10EC7}, {0x11DB0, 0x11DDB},
    {0x11DE0, 0x11DE9}, {0x16EA0, 0x16ED3}, {0x16FF2, 0x16FF6}, {0x187F8, 0x187FF}, {0x18D09, 0x18D1E},
    {0x18D80, 0x18DF2}, {0x1E6C0, 0x1E6FF}, {0x2B73A, 0x2B73F}, {0x2CEA2, 0x2CEAD}, {0x323B0, 0x33479},
};

CharClass class_of_unassigned(char32_t c) {
  for (const CodePointRange& r : kNewerThanUtf8proc) {
    if (c < r.first) break;
    if (c <= r.last) return r.cls;
  }
  return CharClass::kOther;
}

bool new_in_unicode17(char32_t c) {
  if (c < 0x088F) return false;
  for (const auto& [first, last] : kNewInUnicode17) {
    if (c < first) return false;
    if (c <= last) return true;
  }
  return false;
}

}  // namespace

CharClass classify_code_point(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CN:
      return class_of_unassigned(c);
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return new_in_unicode17(c) ? CharClass::kOther : CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return new_in_unicode17(c) ? CharClass::kOther : CharClass::kNumber;
    // White_Space is exactly the separators (Zs, Zl, Zp) plus the controls U+0009..000D and
    // U+0085; utf8proc has no White_Space property, so it is derived from the categories.
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return CharClass::kWhitespace;
    default:
      if ((c >= 0x09 && c <= 0x0D) || c == 0x85) return CharClass::kWhitespace;
      return CharClass::kOther;
  }
}

bool is_decimal_number(char32_t c) {
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  if (category == UTF8PROC_CATEGORY_CN) {
    return class_of_unassigned(c) == CharClass::kNumber;  // every digit set added in 16.0 is Nd
  }
  return category == UTF8PROC_CATEGORY_ND && !new_in_unicode17(c);
}

bool is_word_char(char32_t c) {
  const CharClass cls = classify_code_point(c);
  if (cls == CharClass::kLetter || cls == CharClass::kNumber) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

bool is_rust_word_char(char32_t c) {
  if (classify_code_point(c) == CharClass::kLetter) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_PC:
      return !new_in_unicode17(c);
    case UTF8PROC_CATEGORY_ND:
      return is_decimal_number(c);
    default:
      return false;
  }
}

std::vector<std::pair<char32_t, char32_t>> code_point_ranges(bool (*member)(char32_t)) {
  std::vector<std::pair<char32_t, char32_t>> ranges;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c == 0xD800) c = 0xE000;
    if (!member(c)) continue;
    if (!ranges.empty() && ranges.back().second + 1 == c) {
      ranges.back().second = c;
    } else {
      ranges.emplace_back(c, c);
    }
  }
  return ranges;
}

}  // namespace entroscope::tokenizer
