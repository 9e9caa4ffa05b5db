// Added-token matching: leftmost first, longest there; NeoX's space runs before BPE.
#include <gtest/gtest.h>

#include "tokenizer/added_tokens.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

std::vector<std::string> split_to_strings(const AddedTokenMatcher& matcher, std::string_view text) {
  std::vector<std::string> out;
  matcher.split(
      text, [&](std::string_view piece) { out.push_back("text:" + std::string(piece)); },
      [&](std::int32_t id) { out.push_back("id:" + std::to_string(id)); });
  return out;
}

TEST(AddedTokenMatcher, FindsLeftmostThenLongest) {
  const AddedTokenMatcher matcher({{"ab", 1}, {"abc", 2}, {"bcd", 3}, {"d", 4}});
  EXPECT_EQ(split_to_strings(matcher, "xabcdy"), (std::vector<std::string>{"text:x", "id:2", "id:4", "text:y"}));
  EXPECT_EQ(split_to_strings(matcher, "abx"), (std::vector<std::string>{"id:1", "text:x"}));
  EXPECT_EQ(split_to_strings(matcher, "xbcd"), (std::vector<std::string>{"text:x", "id:3"}));
  EXPECT_EQ(split_to_strings(matcher, "none"), (std::vector<std::string>{"text:none"}));
  EXPECT_EQ(split_to_strings(matcher, ""), (std::vector<std::string>{}));
}

TEST(AddedTokenMatcher, EmptyMatcherPassesTextThrough) {
  const AddedTokenMatcher matcher;
  EXPECT_TRUE(matcher.empty());
  EXPECT_EQ(split_to_strings(matcher, "<|endoftext|>"), (std::vector<std::string>{"text:<|endoftext|>"}));
}

TEST(AddedTokens, NeoxSpaceRunsTakeTheSpaceAWordWouldCarry) {
  const Tokenizer& neox = test::fixture_tokenizer_json("neox20b");
  const std::int32_t x = *neox.token_to_id("x");
  const std::int32_t y = *neox.token_to_id("y");
  const std::int32_t space_y = *neox.token_to_id("\xC4\xA0y");
  EXPECT_EQ(neox.encode("x  y"), (std::vector<std::int32_t>{x, 50276, y}));
  EXPECT_EQ(neox.encode("x" + std::string(24, ' ') + "y"), (std::vector<std::int32_t>{x, 50254, y}));
  EXPECT_EQ(neox.encode("x" + std::string(25, ' ') + "y"), (std::vector<std::int32_t>{x, 50254, space_y}));
  EXPECT_EQ(neox.encode("x" + std::string(49, ' ') + "y"), (std::vector<std::int32_t>{x, 50254, 50254, space_y}));
  // Non-special added tokens match even when special tokens are plain text.
  EXPECT_EQ(neox.encode("x  y", false), neox.encode("x  y", true));
}

TEST(AddedTokens, SpecialTokensCutTheTextIntoSeparatelyEncodedPieces) {
  const Tokenizer& gpt2 = test::gpt2_from_vocab();
  EXPECT_EQ(gpt2.encode("Hello <|endoftext|> World", true), (std::vector<std::int32_t>{15496, 220, 50256, 2159}));
  EXPECT_EQ(gpt2.encode("<|endoftext|>", false), (std::vector<std::int32_t>{27, 91, 437, 1659, 5239, 91, 29}));
  EXPECT_EQ(gpt2.encode("<|endoftext|><|endoftext|>", true), (std::vector<std::int32_t>{50256, 50256}));
  EXPECT_EQ(test::fixture_tokenizer_json("neox20b").encode("a<|padding|>b", true).at(1), 1);
}

}  // namespace
}  // namespace entroscope::tokenizer
