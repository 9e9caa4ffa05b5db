// The tokenizer.json components one by one, with the behaviour of the reference library (Hugging
// Face tokenizers 0.22) that the golden files do not reach: every Split behaviour, Oniguruma's
// empty matches, Metaspace's prepend schemes, Digits / Whitespace, character-level BPE options,
// templates, decoders, tokenizer_config.json.
#include <gtest/gtest.h>

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/split_pattern.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

using nlohmann::json;
using Ids = std::vector<std::int32_t>;
using Pieces = std::vector<std::string>;

PreTokenizerStep split_step(const std::string& pattern, bool is_regex, SplitBehavior behavior, bool invert = false) {
  PreTokenizerStep step{};
  step.kind = PreTokenizerKind::kSplit;
  step.pattern = TextPattern{is_regex, pattern};
  step.behavior = behavior;
  step.invert = invert;
  return step;
}

Pieces pieces(const std::vector<PreTokenizerStep>& steps, std::string_view text, bool at_origin = true) {
  return PreTokenizer(steps, "test").pieces(text, at_origin);
}

TEST(SplitBehaviors, EachBehaviorGluesMatchesAsTheReferenceDoes) {
  const std::string text = "the-final--countdown";
  EXPECT_EQ(pieces({split_step("-", false, SplitBehavior::kRemoved)}, text), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(pieces({split_step("-", false, SplitBehavior::kIsolated)}, text),
            (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pieces({split_step("-", false, SplitBehavior::kMergedWithPrevious)}, text),
            (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pieces({split_step("-", false, SplitBehavior::kMergedWithNext)}, text),
            (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pieces({split_step("-", false, SplitBehavior::kContiguous)}, text),
            (Pieces{"the", "-", "final", "--", "countdown"}));
  // invert: the matches are what is kept.
  EXPECT_EQ(pieces({split_step("\\w+", true, SplitBehavior::kRemoved, true)}, "Hey, you! x"),
            (Pieces{"Hey", "you", "x"}));
}

std::vector<std::pair<std::size_t, std::size_t>> regex_matches(const std::string& regex, std::string_view text) {
  std::vector<Span> matches;
  compile_split_pattern(TextPattern{true, regex}, "test")->find_matches(text, matches);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const Span& m : matches) out.emplace_back(m.begin, m.end);
  return out;
}

TEST(SplitPatterns, EmptyMatchesFollowOniguruma) {
  using M = std::vector<std::pair<std::size_t, std::size_t>>;
  // Only the first empty match after a non-empty one is dropped.
  EXPECT_EQ(regex_matches("\\d*", "a1bbb2"), (M{{0, 0}, {1, 2}, {3, 3}, {4, 4}, {5, 6}}));
  EXPECT_EQ(regex_matches("x*", "abxxc"), (M{{0, 0}, {1, 1}, {2, 4}, {5, 5}}));
  // Empty matches still cut the text; empty pieces are dropped.
  EXPECT_EQ(pieces({split_step("x*", true, SplitBehavior::kIsolated)}, "abxxc"), (Pieces{"a", "b", "xx", "c"}));
}

TEST(SplitPatterns, RegexesUseThePinnedUnicodeTables) {
  // U+10D4A (Garay, Unicode 16.0) is a letter for the reference; U+10940 (Sidetic, 17.0) is not.
  EXPECT_EQ(pieces({split_step("\\p{L}+", true, SplitBehavior::kIsolated)}, "a\U00010D4Ab\U00010940c"),
            (Pieces{"a\U00010D4Ab", "\U00010940", "c"}));
  // \s is White_Space: U+0085 yes, U+FEFF no; (?i) folds U+017F to s.
  EXPECT_EQ(pieces({split_step("\\s", true, SplitBehavior::kRemoved)}, "a\u0085b\uFEFFc"), (Pieces{"a", "b\uFEFFc"}));
  EXPECT_EQ(pieces({split_step("(?i:'s)", true, SplitBehavior::kIsolated)}, "x'\u017Fy'Sz"),
            (Pieces{"x", "'\u017F", "y", "'S", "z"}));
  EXPECT_THROW(compile_split_pattern(TextPattern{true, "[a&&b]"}, "test"), Error);
}

TEST(Normalizers, EachStepAsTheReference) {
  auto normalize = [](std::vector<NormalizerStep> steps, std::string_view text) {
    std::string storage;
    return std::string(Normalizer(steps, "test").apply(text, storage));
  };
  NormalizerStep prepend{NormalizerKind::kPrepend, "\u2581"};
  EXPECT_EQ(normalize({prepend}, "ab"), "\u2581ab");
  EXPECT_EQ(normalize({prepend}, ""), "");  // nothing to prepend to
  NormalizerStep replace_empty{NormalizerKind::kReplace, "Y", TextPattern{false, ""}};
  EXPECT_EQ(normalize({replace_empty}, "ab"), "YaYbY");
  NormalizerStep replace_regex{NormalizerKind::kReplace, "Y", TextPattern{true, "x*"}};
  EXPECT_EQ(normalize({replace_regex}, "axxb"), "YaYbY");
  NormalizerStep lowercase{NormalizerKind::kLowercase};
  EXPECT_EQ(normalize({lowercase}, "\u0130STANBUL \u03A3\u039F\u03A3"), "i\u0307stanbul \u03C3\u03BF\u03C3");  // no final sigma
  NormalizerStep strip{NormalizerKind::kStrip, "", {}, true, true};
  EXPECT_EQ(normalize({strip}, "\u00A0 \u3000ab c\t\n"), "ab c");
  EXPECT_EQ(normalize({NormalizerStep{NormalizerKind::kNfkc}}, "\uFB01 \u00B2"), "fi 2");
  EXPECT_EQ(normalize({NormalizerStep{NormalizerKind::kNfd}}, "\u00E9"), "e\u0301");
  EXPECT_EQ(normalize({NormalizerStep{NormalizerKind::kNfc}, lowercase, prepend}, "E\u0301"), "\u2581\u00E9");
  // The reference normalizes with Unicode 9.0 tables: marks and compositions added later are left
  // alone (utf8proc 2.8 would move U+10F46, combining class 220, before U+0301, and compose
  // U+11935 U+11930 into U+11938, both Unicode 11-13).
  const NormalizerStep nfc{NormalizerKind::kNfc};
  EXPECT_EQ(normalize({nfc}, "x\u0301\U00010F46"), "x\u0301\U00010F46");
  EXPECT_EQ(normalize({nfc}, "\U00011935\U00011930"), "\U00011935\U00011930");
  EXPECT_EQ(normalize({NormalizerStep{NormalizerKind::kNfd}}, "\U00011938"), "\U00011938");
  EXPECT_EQ(normalize({NormalizerStep{NormalizerKind::kNfkc}}, "\U0001E030"), "\U0001E030");  // 15.0, compat
  EXPECT_EQ(normalize({nfc}, "e\u0301\U00010F46e\u0301"), "\u00E9\U00010F46\u00E9");
}

PreTokenizerStep metaspace(PrependScheme scheme, bool split = true) {
  PreTokenizerStep step{};
  step.kind = PreTokenizerKind::kMetaspace;
  step.replacement = "\u2581";
  step.prepend_scheme = scheme;
  step.split = split;
  return step;
}

TEST(PreTokenizers, MetaspaceSchemes) {
  EXPECT_EQ(pieces({metaspace(PrependScheme::kAlways)}, "Hey  you\tthere"),
            (Pieces{"\u2581Hey", "\u2581", "\u2581you\tthere"}));
  EXPECT_EQ(pieces({metaspace(PrependScheme::kAlways, false)}, "a b"), (Pieces{"\u2581a\u2581b"}));
  EXPECT_EQ(pieces({metaspace(PrependScheme::kAlways)}, " a"), (Pieces{"\u2581a"}));  // already starts with it
  EXPECT_EQ(pieces({metaspace(PrependScheme::kNever)}, "a b"), (Pieces{"a", "\u2581b"}));
  // "first": only a piece that starts the input gets the replacement.
  EXPECT_EQ(pieces({metaspace(PrependScheme::kFirst)}, "a b", true), (Pieces{"\u2581a", "\u2581b"}));
  EXPECT_EQ(pieces({metaspace(PrependScheme::kFirst)}, "a b", false), (Pieces{"a", "\u2581b"}));
}

TEST(PreTokenizers, DigitsWhitespaceAndSequences) {
  PreTokenizerStep digits{};
  digits.kind = PreTokenizerKind::kDigits;
  digits.individual_digits = true;
  EXPECT_EQ(pieces({digits}, "ab123\u0663x"), (Pieces{"ab", "1", "2", "3", "\u0663", "x"}));
  digits.individual_digits = false;
  EXPECT_EQ(pieces({digits}, "ab123\u0663x"), (Pieces{"ab", "123\u0663", "x"}));
  PreTokenizerStep whitespace{};
  whitespace.kind = PreTokenizerKind::kWhitespace;
  EXPECT_EQ(pieces({whitespace}, "Hey man!! It's  ok_1 \u00E9t\u00E9"),
            (Pieces{"Hey", "man", "!!", "It", "'", "s", "ok_1", "\u00E9t\u00E9"}));
  PreTokenizerStep whitespace_split{};
  whitespace_split.kind = PreTokenizerKind::kWhitespaceSplit;
  EXPECT_EQ(pieces({whitespace_split}, " a,b \u3000 c "), (Pieces{"a,b", "c"}));
  // Steps apply in order to every piece: SmolLM2's Digits then ByteLevel.
  PreTokenizerStep byte_level{};
  byte_level.kind = PreTokenizerKind::kByteLevel;
  byte_level.use_regex = true;
  EXPECT_EQ(pieces({digits, byte_level}, "in 2024 it's"), (Pieces{"in", " ", "2024", " it", "'s"}));
  EXPECT_THROW(PreTokenizer({byte_level, digits}, "test"), Error);
}

// A character-level (SentencePiece-style) tokenizer.json: the given tokens, merges and options.
json char_level_json(const std::vector<std::string>& tokens, const json& merges) {
  json vocab = json::object();
  for (std::size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  return json{{"version", "1.0"},
              {"added_tokens", json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer", nullptr},
              {"post_processor", nullptr},
              {"decoder", nullptr},
              {"model", json{{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
}

Tokenizer load_json(const json& root) {
  test::TempDir dir;
  return Tokenizer::load(dir.write("tokenizer.json", root.dump()));
}

TEST(CharacterLevelBpe, UnknownCharactersUnkFusedOrDropped) {
  json j = char_level_json({"<unk>", "a"}, json::array());
  j["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(load_json(j).encode("axya"), (Ids{1, 0, 0, 1}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(load_json(j).encode("axya"), (Ids{1, 0, 1}));
  j["model"]["unk_token"] = nullptr;
  EXPECT_EQ(load_json(j).encode("axya"), (Ids{1, 1}));  // the reference drops them silently
}

TEST(CharacterLevelBpe, ByteFallbackGivesTheUtf8BytesAsTokens) {
  std::vector<std::string> tokens{"<unk>", "a"};
  for (int b = 0; b < 256; ++b) tokens.push_back(fmt::format("<0x{:02X}>", b));
  json j = char_level_json(tokens, json::array());
  j["model"]["unk_token"] = "<unk>";
  j["model"]["byte_fallback"] = true;
  j["decoder"] = json{{"type", "Sequence"}, {"decoders", json::array({json{{"type", "ByteFallback"}}, json{{"type", "Fuse"}}})}};
  const Tokenizer tok = load_json(j);
  const Ids ids = tok.encode("a\u00E9a");
  EXPECT_EQ(ids, (Ids{1, 2 + 0xC3, 2 + 0xA9, 1}));
  EXPECT_EQ(tok.decode_text(ids), "a\u00E9a");
  EXPECT_EQ(tok.token_bytes(2 + 0xC3), "\xC3");
  // A run of byte tokens that is not valid UTF-8: one U+FFFD per byte, the valid ones included.
  EXPECT_EQ(tok.decode_text(Ids{2 + 0x61, 2 + 0xE2, 1}), "\uFFFD\uFFFDa");
  EXPECT_EQ(tok.decode_bytes(Ids{2 + 0x61, 2 + 0xE2, 1}), "a\xE2" "a");
}

TEST(CharacterLevelBpe, ContinuingSubwordPrefixGluesAndCutsAsTheReference) {
  // Merges ["##b","##c"] -> "##bc" and ["a","##bc"] -> "abc" (the prefix is cut from the right part).
  json j = char_level_json({"a", "##b", "##c", "##bc", "abc", "b"}, json::array({json::array({"##b", "##c"}),
                                                                                json::array({"a", "##bc"})}));
  j["model"]["continuing_subword_prefix"] = "##";
  const Tokenizer tok = load_json(j);
  EXPECT_EQ(tok.encode("abc"), (Ids{4}));
  EXPECT_EQ(tok.encode("bc"), (Ids{5, 2}));  // the first character takes no prefix
}

TEST(CharacterLevelBpe, LongPiecesAreCutOnlyWhereNoMergeCanJoin) {
  // "▁" joins only "▁" on its left; an unsplit 20k-character text encodes as its words would.
  json j = char_level_json({"\u2581", "a", "b", "\u2581a", "ab", "\u2581ab", "\u2581\u2581"},
                           json::array({"\u2581 a", "a b", "\u2581a b", "\u2581 \u2581"}));
  const Tokenizer tok = load_json(j);
  std::string text;
  Ids want;
  for (int i = 0; i < 5000; ++i) {
    const std::string word = i % 7 == 0 ? "\u2581\u2581ab" : i % 5 == 0 ? "\u2581a" : "\u2581ab";
    text += word;
    const Ids ids = tok.encode(word);
    want.insert(want.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(tok.encode("\u2581\u2581ab"), (Ids{0, 5}));
  EXPECT_EQ(tok.encode(text), want);
}

TEST(Templates, PostProcessorAddsItsTokensOnlyWhenAsked) {
  json j = char_level_json({"a", "b", "<s>", "</s>"}, json::array());
  j["post_processor"] = json{
      {"type", "TemplateProcessing"},
      {"single", json::array({json{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                              json{{"Sequence", {{"id", "A"}, {"type_id", 1}}}}})},
      {"pair", json::array()},
      {"special_tokens", json{{"<s>", json{{"id", "<s>"}, {"ids", json::array({7, 8})}, {"tokens", {"<s>", "<s>"}}}}}}};
  // Ids of the template are used as written, even when they are not the vocabulary's.
  const Tokenizer tok = load_json(j);
  EXPECT_EQ(tok.encode("ab", EncodeOptions{true, true}), (Ids{7, 8, 0, 1}));
  EXPECT_EQ(tok.encode("ab", EncodeOptions{true, false}), (Ids{0, 1}));
  EXPECT_EQ(tok.encode("", EncodeOptions{true, true}), (Ids{7, 8}));
}

TEST(Templates, TokenizerConfigFlagsRebuildTheTemplate) {
  test::TempDir dir;
  json j = char_level_json({"a", "<s>", "</s>"}, json::array());
  dir.write("tokenizer.json", j.dump());
  dir.write("tokenizer_config.json",
            json{{"add_bos_token", true}, {"add_eos_token", true}, {"bos_token", "<s>"},
                 {"eos_token", json{{"content", "</s>"}}}}
                .dump());
  const Tokenizer tok = Tokenizer::load(dir.path());
  EXPECT_EQ(tok.encode("a", EncodeOptions{false, true}), (Ids{1, 0, 2}));
  EXPECT_EQ(tok.encode("a"), (Ids{0}));
  dir.write("tokenizer_config.json", json{{"add_bos_token", true}, {"bos_token", "<t>"}}.dump());
  try {
    Tokenizer::load(dir.path());
    FAIL() << "expected an error for an unknown bos_token";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bos_token \"<t>\" is not a token"), std::string::npos) << e.what();
  }
}

Decoder decoder_of(std::vector<DecoderStep> steps) { return Decoder(steps, true, "test"); }

TEST(Decoders, EachStepAsTheReference) {
  DecoderStep meta{DecoderKind::kMetaspace};
  meta.content = "\u2581";
  // Every replacement character of the first token goes, not only the leading one.
  EXPECT_EQ(decoder_of({meta}).decode({"\u2581\u2581a", "\u2581b", "a\u2581"}, true), "a ba ");
  meta.prepend_scheme = PrependScheme::kNever;
  EXPECT_EQ(decoder_of({meta}).decode({"\u2581a"}, true), " a");
  DecoderStep strip{DecoderKind::kStrip};
  strip.content = " ";
  strip.start = 1;
  strip.stop = 2;
  EXPECT_EQ(decoder_of({strip}).decode({"  ab "}, true), " ab");
  DecoderStep replace{DecoderKind::kReplace, TextPattern{false, "\u2581"}, " "};
  EXPECT_EQ(decoder_of({replace, DecoderStep{DecoderKind::kFuse}}).decode({"\u2581a", "\u2581\u2581b"}, true), " a  b");
  // ByteLevel: each token through the byte alphabet (or its own bytes), then from_utf8_lossy.
  const Decoder byte_level = decoder_of({DecoderStep{DecoderKind::kByteLevel}});
  const std::string e2_82 = bytes_to_alphabet("\xE2\x82");
  EXPECT_EQ(byte_level.decode({e2_82, "hello world"}, true), "\uFFFDhello world");  // ' ' is not in the alphabet
  EXPECT_EQ(byte_level.decode({bytes_to_alphabet("\xED\xA0\x80")}, true), "\uFFFD\uFFFD\uFFFD");  // a surrogate
  EXPECT_EQ(byte_level.decode({e2_82}, false), "\xE2\x82");
  // No decoder: the reference joins the tokens with spaces.
  EXPECT_EQ(Decoder({}, false, "test").decode({"a", "b"}, true), "a b");
}

TEST(Decoders, Utf8RepairReplacesEachMaximalInvalidSubpart) {
  auto lossy = [](std::string_view bytes) {
    std::string out;
    append_utf8_lossy(bytes, out);
    return out;
  };
  EXPECT_EQ(lossy("\xE2\x82"), "\uFFFD");
  EXPECT_EQ(lossy("\xE2\x82\xAC\xE2"), "\u20AC\uFFFD");
  EXPECT_EQ(lossy("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(lossy("\xC0\xAF"), "\uFFFD\uFFFD");
  EXPECT_EQ(lossy("\xEF\xBB\xBFok"), "\uFEFFok");
  EXPECT_EQ(lossy("\xF0\x9F\x98"), "\uFFFD");
}

}  // namespace
}  // namespace entroscope::tokenizer
