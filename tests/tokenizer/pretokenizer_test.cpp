// GPT-2's split pattern, case by case: whitespace look-ahead, contractions, Unicode classes.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/pretokenizer.h"

namespace entroscope::tokenizer {
namespace {

std::vector<std::string> pieces_of(std::string_view text) {
  std::vector<std::string_view> views;
  split_gpt2_pieces(text, views);
  return std::vector<std::string>(views.begin(), views.end());
}

using Pieces = std::vector<std::string>;

TEST(Pretokenizer, WordsTakeOneLeadingSpace) {
  EXPECT_EQ(pieces_of("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(pieces_of(""), Pieces{});
  EXPECT_EQ(pieces_of("abc123 456!?  x"), (Pieces{"abc", "123", " 456", "!?", " ", " x"}));
}

TEST(Pretokenizer, SpaceRunsLeaveTheirLastSpaceToTheNextWord) {
  EXPECT_EQ(pieces_of("x   y"), (Pieces{"x", "  ", " y"}));
  EXPECT_EQ(pieces_of("a  \n  b"), (Pieces{"a", "  \n ", " b"}));
  EXPECT_EQ(pieces_of("x   "), (Pieces{"x", "   "}));  // at the end the run stays whole
  EXPECT_EQ(pieces_of("   x"), (Pieces{"  ", " x"}));
  EXPECT_EQ(pieces_of("x\n\ny"), (Pieces{"x", "\n", "\n", "y"}));
  EXPECT_EQ(pieces_of("x \n"), (Pieces{"x", " \n"}));
}

TEST(Pretokenizer, OnlyU0020IsTheOptionalLeadingSpace) {
  EXPECT_EQ(pieces_of("\tword"), (Pieces{"\t", "word"}));
  EXPECT_EQ(pieces_of("a\u00A0b"), (Pieces{"a", "\u00A0", "b"}));
  EXPECT_EQ(pieces_of(" \u00A0word"), (Pieces{" ", "\u00A0", "word"}));
  EXPECT_EQ(pieces_of("a\u3000\u3000b"), (Pieces{"a", "\u3000", "\u3000", "b"}));
}

TEST(Pretokenizer, WhitespaceIsUnicodeWhiteSpace) {
  EXPECT_EQ(pieces_of("end \u0085next"), (Pieces{"end", " ", "\u0085", "next"}));  // NEL is \s
  EXPECT_EQ(pieces_of("x \uFEFFy"), (Pieces{"x", " \uFEFF", "y"}));                // BOM is not
  EXPECT_EQ(pieces_of("x \u200By"), (Pieces{"x", " \u200B", "y"}));
  EXPECT_EQ(pieces_of("x \x1Cy"), (Pieces{"x", " \x1C", "y"}));
  EXPECT_EQ(pieces_of("x\u2028\u2029 y"), (Pieces{"x", "\u2028\u2029", " y"}));
  EXPECT_EQ(pieces_of("x \u202F"), (Pieces{"x", " \u202F"}));
}

TEST(Pretokenizer, ContractionsAreLowercaseAsciiAndComeFirst) {
  EXPECT_EQ(pieces_of("it's"), (Pieces{"it", "'s"}));
  EXPECT_EQ(pieces_of("IT'S"), (Pieces{"IT", "'", "S"}));
  EXPECT_EQ(pieces_of("we'LL"), (Pieces{"we", "'", "LL"}));
  EXPECT_EQ(pieces_of("you'll they've we're I'm he'd don't"),
            (Pieces{"you", "'ll", " they", "'ve", " we", "'re", " I", "'m", " he", "'d", " don", "'t"}));
  EXPECT_EQ(pieces_of("'veteran"), (Pieces{"'ve", "teran"}));
  EXPECT_EQ(pieces_of("it\u2019s"), (Pieces{"it", "\u2019", "s"}));
  EXPECT_EQ(pieces_of("rock'n'roll"), (Pieces{"rock", "'", "n", "'", "roll"}));
  EXPECT_EQ(pieces_of(" 's"), (Pieces{" '", "s"}));  // the leading space makes it punctuation
  EXPECT_EQ(pieces_of("...'s"), (Pieces{"...'", "s"}));
}

TEST(Pretokenizer, CombiningMarksAndScriptsSplitByCategory) {
  EXPECT_EQ(pieces_of("e\u0301"), (Pieces{"e", "\u0301"}));
  EXPECT_EQ(pieces_of("\u0E01\u0E34\u0E01"), (Pieces{"\u0E01", "\u0E34", "\u0E01"}));        // Thai vowel sign
  EXPECT_EQ(pieces_of(" \u00BD\u00B2\u216B\u2460"), (Pieces{" \u00BD\u00B2\u216B\u2460"}));  // all \p{N}
  EXPECT_EQ(pieces_of("\u65E5\u672C\u8A9E text"), (Pieces{"\u65E5\u672C\u8A9E", " text"}));
  EXPECT_EQ(pieces_of("\xC4\xA0x"), (Pieces{"\xC4\xA0x"}));  // Ġ in text is a letter
}

TEST(Pretokenizer, InvalidBytesArePunctuation) {
  EXPECT_EQ(pieces_of("a\xFF"
                      "b"),
            (Pieces{"a", "\xFF", "b"}));
  EXPECT_EQ(pieces_of(" \xFF\xFE!"), (Pieces{" \xFF\xFE!"}));
  EXPECT_EQ(pieces_of("\xE2\x80"
                      "a"),
            (Pieces{"\xE2\x80", "a"}));
}

TEST(Pretokenizer, PiecesCoverRandomTextExactly) {
  const std::vector<std::string> atoms = {"a",        "Z",
                                          "7",        " ",
                                          "  ",       "\n",
                                          "\t",       "'",
                                          "'s",       "\xC2\x85",
                                          "\xC2\xA0", "\xE3\x80\x80",
                                          "\xCC\x81", "\xEF\xBB\xBF",
                                          "!",        "\xF0\x9F\x91\x8D",
                                          "\xFF",     "\xE6\x97\xA5"};
  std::mt19937 rng(42);
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::string text;
    const int length = static_cast<int>(rng() % 20);
    for (int i = 0; i < length; ++i) text += atoms[rng() % atoms.size()];
    std::vector<std::string_view> views;
    split_gpt2_pieces(text, views);
    std::string joined;
    for (std::string_view v : views) {
      ASSERT_FALSE(v.empty());
      joined.append(v);
    }
    ASSERT_EQ(joined, text);
  }
}

}  // namespace
}  // namespace entroscope::tokenizer
