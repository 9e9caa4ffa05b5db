// The byte-level alphabet and the strict UTF-8 decoder it relies on.
#include <gtest/gtest.h>

#include <set>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

TEST(ByteLevelAlphabet, IsABijectionOntoPrintableCharacters) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_to_alphabet_char(static_cast<std::uint8_t>(b));
    EXPECT_TRUE(seen.insert(c).second) << "byte " << b << " shares its character";
    EXPECT_GT(c, 0x20u) << "byte " << b << " maps to a control or space";
    EXPECT_NE(c, 0x7Fu);
    EXPECT_FALSE(c >= 0x80 && c <= 0xA0) << "byte " << b;
    EXPECT_NE(c, 0xADu) << "byte " << b;
    ASSERT_TRUE(alphabet_char_to_byte(c).has_value());
    EXPECT_EQ(*alphabet_char_to_byte(c), b);
  }
}

TEST(ByteLevelAlphabet, MatchesGpt2sWellKnownCharacters) {
  EXPECT_EQ(byte_to_alphabet_char('!'), U'!');
  EXPECT_EQ(byte_to_alphabet_char(0xFF), U'\u00FF');
  EXPECT_EQ(byte_to_alphabet_char(0x00), U'\u0100');  // Ā
  EXPECT_EQ(byte_to_alphabet_char(0x09), U'\u0109');  // ĉ
  EXPECT_EQ(byte_to_alphabet_char(0x0A), U'\u010A');  // Ċ
  EXPECT_EQ(byte_to_alphabet_char(0x20), U'\u0120');  // Ġ
  EXPECT_EQ(byte_to_alphabet_char(0x7F), U'\u0121');  // ġ
  EXPECT_EQ(byte_to_alphabet_char(0xAD), U'\u0143');  // Ń, the last extra character
  EXPECT_EQ(bytes_to_alphabet(" the\n"), "\xC4\xA0the\xC4\x8A");
}

TEST(ByteLevelAlphabet, ConvertsBackOnlyAlphabetStrings) {
  EXPECT_EQ(alphabet_to_bytes("\xC4\xA0hello"), std::optional<std::string>(" hello"));
  EXPECT_EQ(alphabet_to_bytes(""), std::optional<std::string>(""));
  EXPECT_FALSE(alphabet_to_bytes(" hello").has_value());        // U+0020 is not in the alphabet
  EXPECT_FALSE(alphabet_to_bytes("\xE2\x80\x99").has_value());  // ’
  EXPECT_FALSE(alphabet_to_bytes("\xC4").has_value());          // truncated UTF-8
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(alphabet_to_bytes(bytes_to_alphabet(all)), std::optional<std::string>(all));
}

TEST(ByteLevelAlphabet, DecodesTokensOutsideTheAlphabetAsTheirOwnBytes) {
  EXPECT_EQ(token_to_decoded_bytes("\xC4\xA0world"), " world");
  EXPECT_EQ(token_to_decoded_bytes("<|endoftext|>"), "<|endoftext|>");
  EXPECT_EQ(token_to_decoded_bytes("    "), "    ");                              // GPT-NeoX's space-run tokens
  EXPECT_EQ(token_to_decoded_bytes("\xC3\xA2\xC4\xA2\xC4\xBB"), "\xE2\x80\x99");  // "âĢĻ" is ’
}

TEST(Utf8, DecodesWellFormedSequences) {
  const std::string text = "a\xC3\xA9\xE2\x80\x99\xF0\x9F\x91\x8D";  // a é ’ 👍
  std::vector<std::pair<char32_t, int>> got;
  for (std::size_t pos = 0; pos < text.size();) {
    Utf8Char ch = decode_utf8(text, pos);
    ASSERT_TRUE(ch.valid);
    got.emplace_back(ch.code_point, ch.length);
    pos += ch.length;
  }
  EXPECT_EQ(got, (std::vector<std::pair<char32_t, int>>{{U'a', 1}, {0xE9, 2}, {0x2019, 3}, {0x1F44D, 4}}));
  std::string encoded;
  for (auto [c, len] : got) append_utf8(encoded, c);
  EXPECT_EQ(encoded, text);
}

TEST(Utf8, RejectsIllFormedSequencesOneByteAtATime) {
  for (std::string bad : {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                          "\xF5\x80\x80\x80", "\xFF", "\xE2\x80", "\xF0\x9F\x91"}) {
    Utf8Char ch = decode_utf8(bad, 0);
    EXPECT_FALSE(ch.valid) << "first byte " << static_cast<int>(static_cast<unsigned char>(bad[0]));
    EXPECT_EQ(ch.length, 1);
    EXPECT_FALSE(is_valid_utf8(bad));
  }
  EXPECT_TRUE(is_valid_utf8("\xEF\xBB\xBFok \xF4\x8F\xBF\xBF"));  // BOM and U+10FFFF are fine
}

}  // namespace
}  // namespace entroscope::tokenizer
