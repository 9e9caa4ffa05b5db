// \p{L}, \p{N} and \s as GPT-2's pattern means them (Unicode, not ASCII shortcuts).
#include <gtest/gtest.h>

#include <vector>

#include "tokenizer/char_class.h"

namespace entroscope::tokenizer {
namespace {

TEST(CharClass, AsciiTableAgreesWithUnicodeTables) {
  for (char32_t c = 0; c < 128; ++c) {
    EXPECT_EQ(detail::kAsciiClasses[c], classify_code_point(c)) << "U+" << std::hex << static_cast<int>(c);
  }
}

TEST(CharClass, WhitespaceIsExactlyUnicodeWhiteSpace) {
  const std::vector<char32_t> white_space = {0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,   0xA0,   0x1680,
                                             0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
                                             0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  std::vector<char32_t> found;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    if (classify(c) == CharClass::kWhitespace) found.push_back(c);
  }
  EXPECT_EQ(found, white_space);
}

TEST(CharClass, LettersAndNumbersFollowUnicodeCategories) {
  struct Case {
    char32_t c;
    CharClass want;
  };
  const Case cases[] = {
      {U'a', CharClass::kLetter},
      {0xE9, CharClass::kLetter},    // é
      {0x0120, CharClass::kLetter},  // Ġ is a real letter in text
      {0x30FC, CharClass::kLetter},  // ー (Lm)
      {0x01C5, CharClass::kLetter},  // ǅ (Lt)
      {0x0E01, CharClass::kLetter},  // ก
      {0x0E34, CharClass::kOther},   // Thai SARA I (Mn: a vowel sign is not \p{L})
      {0x0301, CharClass::kOther},   // combining acute
      {0x093F, CharClass::kOther},   // ि
      {U'7', CharClass::kNumber},
      {0xBD, CharClass::kNumber},     // ½ (No)
      {0xB2, CharClass::kNumber},     // ² (No)
      {0x216B, CharClass::kNumber},   // Ⅻ (Nl)
      {0x2460, CharClass::kNumber},   // ① (No)
      {0x0663, CharClass::kNumber},   // Arabic-Indic 3
      {0xFF15, CharClass::kNumber},   // full-width 5
      {0x1D7D8, CharClass::kNumber},  // mathematical double-struck 0
      {0xFEFF, CharClass::kOther},    // BOM is not \s
      {0x200B, CharClass::kOther},    // ZERO WIDTH SPACE is not \s
      {0x180E, CharClass::kOther},    // MONGOLIAN VOWEL SEPARATOR is not \s since Unicode 6.3
      {0x1C, CharClass::kOther},      // FILE SEPARATOR is not \s (Python's isspace says it is)
      {0x200D, CharClass::kOther},    // ZWJ
      {0xAD, CharClass::kOther},      // soft hyphen
      {0xE000, CharClass::kOther},    // private use
      {0x10FFFF, CharClass::kOther},  // noncharacter
      {0x1F44D, CharClass::kOther},   // 👍
      {U'\'', CharClass::kOther},
      {0x323B0, CharClass::kOther},   // CJK Extension J: Unicode 17.0, unassigned for the reference's Unicode 16
      {0x10940, CharClass::kOther},   // Sidetic (17.0)
      {0x10D4A, CharClass::kLetter},  // Garay letter (16.0, newer than utf8proc 2.8)
      {0x10D40, CharClass::kNumber},  // Garay digit zero (16.0)
      {0x1CCF0, CharClass::kNumber},  // outlined digit zero (16.0)
      {0x2EBF0, CharClass::kLetter},  // CJK Extension I (Unicode 15.1)
  };
  for (const Case& k : cases) {
    EXPECT_EQ(classify(k.c), k.want) << "U+" << std::hex << static_cast<std::uint32_t>(k.c);
  }
}

}  // namespace
}  // namespace entroscope::tokenizer
