// The tokenizer.json options that are supported beyond the fixtures' settings: use_regex,
// add_prefix_space, ignore_merges, unk_token, NFC inside a Sequence, older spellings.
#include <gtest/gtest.h>

#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

using nlohmann::json;
using Ids = std::vector<std::int32_t>;

Tokenizer load_json(const json& root) {
  test::TempDir dir;
  return Tokenizer::load(dir.write("tokenizer.json", root.dump()));
}

// The toy plus the token "bĠ" (258) made by the merge "b Ġ", ranked first: it can only apply when
// a space is not split off before the word.
json toy_with_cross_word_merge() {
  json j = test::toy_tokenizer_json();
  j["model"]["vocab"]["b\xC4\xA0"] = 258;
  j["model"]["merges"] = json::array({"b \xC4\xA0", "a b"});
  return j;
}

TEST(TokenizerJsonOptions, UseRegexFalseEncodesTheTextAsOnePiece) {
  json j = toy_with_cross_word_merge();
  EXPECT_EQ(load_json(j).encode("ab ab"), (Ids{256, ' ', 256}));
  j["pre_tokenizer"]["use_regex"] = false;
  EXPECT_EQ(load_json(j).encode("ab ab"), (Ids{'a', 258, 256}));
}

TEST(TokenizerJsonOptions, AddPrefixSpaceAppliesToEachPieceBetweenAddedTokens) {
  json j = test::toy_tokenizer_json();
  j["pre_tokenizer"]["add_prefix_space"] = true;
  const Tokenizer tok = load_json(j);
  EXPECT_EQ(tok.encode("ab<|endoftext|>ab", true), (Ids{' ', 256, 257, ' ', 256}));
  EXPECT_EQ(tok.encode(" ab", true), (Ids{' ', 256}));
  EXPECT_EQ(tok.encode("", true), Ids{});
  EXPECT_EQ(tok.encode("<|endoftext|>", true), Ids{257});
}

TEST(TokenizerJsonOptions, IgnoreMergesTakesWholeTokensFirst) {
  json j = test::toy_tokenizer_json();
  j["model"]["vocab"]["abc"] = 258;  // no merge builds it
  EXPECT_EQ(load_json(j).encode("abc"), (Ids{256, 'c'}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(load_json(j).encode("abc"), (Ids{258}));
}

TEST(TokenizerJsonOptions, UnkTokenStandsForBytesWithoutToken) {
  json j = test::toy_tokenizer_json();
  j["model"]["vocab"].erase("z");
  j["model"]["vocab"]["<unk>"] = 'z';
  j["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(load_json(j).encode("azz"), (Ids{'a', 'z', 'z'}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(load_json(j).encode("azz"), (Ids{'a', 'z'}));
}

TEST(TokenizerJsonOptions, OlderAndEquivalentSpellingsLoad) {
  json j = test::toy_tokenizer_json();
  j["model"].erase("type");  // old files: a BPE model is recognized by its fields
  j["normalizer"] = json{{"type", "Sequence"}, {"normalizers", json::array({json{{"type", "NFC"}}})}};
  j["pre_tokenizer"] = json{{"type", "Sequence"}, {"pretokenizers", json::array({j["pre_tokenizer"]})}};
  j["decoder"] = nullptr;
  j["post_processor"] = json{{"type", "TemplateProcessing"},
                             {"single", json::array({json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})}};
  j["model"]["merges"] = json::array({json::array({"a", "b"})});
  j["added_tokens"][0].erase("normalized");  // HF default for a special token: not normalized
  const Tokenizer tok = load_json(j);
  EXPECT_EQ(tok.encode("ab<|endoftext|>", true), (Ids{256, 257}));
  EXPECT_EQ(tok.encode("A\xCC\x8A"), (Ids{0xC3, 0x85}));  // NFC: A + ring -> Å (C3 85)
}

TEST(TokenizerJsonOptions, NormalizedAddedTokensAreMatchedInNormalizedText) {
  json j = test::toy_tokenizer_json();
  j["normalizer"] = json{{"type", "NFC"}};
  // "ώ" (U+03CE) is normalized: found after NFC; "e" + U+0301 is not: found in the raw text.
  // New added tokens take the ids after the vocabulary (258 entries), as Hugging Face assigns them.
  j["added_tokens"].push_back(json{{"id", 258}, {"content", "\xCF\x8E"}, {"special", false}, {"normalized", true}});
  j["added_tokens"].push_back(json{{"id", 259}, {"content", "e\xCC\x81"}, {"special", false}, {"normalized", false}});
  const Tokenizer tok = load_json(j);
  EXPECT_EQ(tok.encode("\xCF\x89\xCC\x81"), (Ids{258}));  // NFC turns ω + U+0301 into ώ
  EXPECT_EQ(tok.encode("e\xCC\x81"), (Ids{259}));         // matched before NFC would make é
  EXPECT_EQ(tok.encode("\xC3\xA9"), (Ids{0xC3, 0xA9}));   // é itself is not the token
  EXPECT_EQ(tok.vocab_size(), 260u);
  EXPECT_EQ(tok.decode(Ids{258, 259}),
            "\xCF\x8E"
            "e\xCC\x81");
}

TEST(TokenizerJsonOptions, AddedTokenInTheByteAlphabetDecodesThroughIt) {
  // HF's ByteLevel decoder maps a token through the byte alphabet when every character is in it.
  json j = test::toy_tokenizer_json();
  j["added_tokens"].push_back(json{{"id", 258}, {"content", "\xC5\x83x"}, {"special", false}});  // "Ńx"
  EXPECT_EQ(load_json(j).decode(Ids{258}), "\xADx");  // Ń stands for byte 0xAD
}

}  // namespace
}  // namespace entroscope::tokenizer
