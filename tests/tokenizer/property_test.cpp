// Properties over random inputs: decoding undoes encoding (byte-exact, or up to NFC for NeoX),
// the fast NFC path equals plain utf8proc NFC, special tokens appear exactly when allowed.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "tokenizer/normalizer.h"
#include "tokenizer/split_pattern.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

std::string random_bytes(std::mt19937& rng) {
  static const std::string favourites = std::string(" \n\t'sa0.<|>", 11) + std::string("\x00\x80\xC2\xE2\xF0\xFF", 6);
  std::string s;
  const std::size_t length = rng() % 64;
  for (std::size_t i = 0; i < length; ++i) {
    s.push_back(rng() % 3 == 0 ? favourites[rng() % favourites.size()] : static_cast<char>(rng() % 256));
  }
  return s;
}

// Valid UTF-8 from code points drawn over ranges where tokenizers go wrong.
std::string random_unicode(std::mt19937& rng, std::size_t max_chars = 40) {
  struct Range {
    char32_t first, last;
  };
  static const Range ranges[] = {
      {0x20, 0x7E},     {0x00, 0x1F},       {0x80, 0x24F},      {0x300, 0x36F},    // ASCII, C0, Latin, marks
      {0x370, 0x6FF},   {0x900, 0x97F},     {0xE00, 0xE7F},     {0x1100, 0x11FF},  // Greek..Arabic, Indic, Thai, jamo
      {0x2000, 0x206F}, {0x2100, 0x24FF},   {0x3000, 0x30FF},   {0x4E00, 0x4E80},   {0xAC00, 0xAC40},
      {0xFE00, 0xFEFF}, {0x1F300, 0x1F6FF}, {0x1D400, 0x1D7FF}, {0xE0000, 0xE007F}, {0x10000, 0x10FFFF},
      {0x20, 0x20},     {0x85, 0x85},
  };
  std::string s;
  const std::size_t length = rng() % max_chars;
  for (std::size_t i = 0; i < length; ++i) {
    const Range& r = ranges[rng() % std::size(ranges)];
    char32_t c = r.first + static_cast<char32_t>(rng() % (r.last - r.first + 1));
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    append_utf8(s, c);
  }
  return s;
}

std::string utf8proc_nfc(const std::string& text) {
  utf8proc_uint8_t* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(text.c_str()));
  std::string result(reinterpret_cast<const char*>(out));
  std::free(out);
  return result;
}

TEST(RoundTrip, RandomBytesDecodeToThemselves) {
  std::mt19937 rng(1);
  const Tokenizer& from_vocab = test::gpt2_from_vocab();
  const Tokenizer& from_json = test::fixture_tokenizer_json("gpt2");
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_bytes(rng);
    for (bool special : {false, true}) {
      ASSERT_EQ(from_vocab.decode(from_vocab.encode(text, special)), text) << test::to_hex(text);
      ASSERT_EQ(from_json.decode(from_json.encode(text, special)), text) << test::to_hex(text);
    }
  }
}

TEST(RoundTrip, RandomUnicodeDecodesToItsNormalForm) {
  std::mt19937 rng(2);
  const Tokenizer& gpt2 = test::gpt2_from_vocab();
  const Tokenizer& prefix = test::fixture_tokenizer_json("gpt2-prefix");
  const Tokenizer& neox = test::fixture_tokenizer_json("neox20b");
  const Tokenizer& synth = test::fixture_tokenizer_json("neox-synth");
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_unicode(rng);
    if (text.find('\0') != std::string::npos) continue;  // utf8proc_NFC reads C strings
    ASSERT_EQ(gpt2.decode(gpt2.encode(text)), text) << test::to_hex(text);
    const std::string with_prefix = text.empty() || text[0] == ' ' ? text : " " + text;
    ASSERT_EQ(prefix.decode(prefix.encode(text)), with_prefix) << test::to_hex(text);
    const std::string nfc = utf8proc_nfc(text);
    ASSERT_EQ(neox.decode(neox.encode(text)), nfc) << test::to_hex(text);
    ASSERT_EQ(synth.decode(synth.encode(text)), nfc) << test::to_hex(text);
    ASSERT_EQ(neox.encode(text), neox.encode(nfc)) << test::to_hex(text);
  }
}

TEST(Normalizer, FastPathEqualsWholeStringNfc) {
  std::mt19937 rng(3);
  const std::vector<std::string> atoms = {"a",
                                          "e",
                                          "A",
                                          " ",
                                          "\n",
                                          "\xCC\x81",
                                          "\xCC\x88",
                                          "\xCC\xA3",
                                          "\xC3\xA9",
                                          "\xE1\x84\x80",
                                          "\xE1\x85\xA1",
                                          "\xE1\x86\xA8",
                                          "\xE2\x84\xAB",
                                          "\xEF\xAC\x81",
                                          "\xE0\xA4\x95",
                                          "\xE0\xA4\xBC",
                                          "\xF0\x9D\x85\x97\xF0\x9D\x85\xA5",
                                          "<"};
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    const std::size_t length = rng() % 16;
    for (std::size_t k = 0; k < length; ++k) text += atoms[rng() % atoms.size()];
    if (rng() % 4 == 0) text += random_unicode(rng, 8);
    if (text.find('\0') != std::string::npos) continue;
    std::string storage;
    ASSERT_EQ(std::string(nfc_normalize(text, storage)), utf8proc_nfc(text)) << test::to_hex(text);
  }
  std::string storage;
  EXPECT_EQ(nfc_normalize("A\xCC\x8A\xFF"
                          "e\xCC\x81",
                          storage),
            "\xC3\x85\xFF\xC3\xA9");  // invalid byte kept
}

TEST(SpecialTokens, AppearExactlyWhereAllowed) {
  std::mt19937 rng(4);
  const Tokenizer& gpt2 = test::gpt2_from_vocab();
  const Tokenizer& neox = test::fixture_tokenizer_json("neox20b");
  for (int i = 0; i < 500; ++i) {
    const int count = static_cast<int>(rng() % 4);
    std::string text = random_unicode(rng, 10);
    for (int k = 0; k < count; ++k) text += "<|endoftext|>" + random_unicode(rng, 10);
    const auto gpt2_special = gpt2.encode(text, true);
    EXPECT_EQ(std::count(gpt2_special.begin(), gpt2_special.end(), 50256), count);
    const auto gpt2_plain = gpt2.encode(text, false);
    EXPECT_EQ(std::count(gpt2_plain.begin(), gpt2_plain.end(), 50256), 0);
    EXPECT_EQ(gpt2.decode(gpt2_special), text);
    EXPECT_EQ(gpt2.decode(gpt2_plain), text);
    const auto neox_special = neox.encode(text, true);
    EXPECT_EQ(std::count(neox_special.begin(), neox_special.end(), 0), count);
  }
}

// Text made of the pieces split patterns are sensitive to: contractions in every case (and with
// U+017F), digit runs, whitespace kinds, newlines, punctuation, marks, CJK, emoji, Unicode 16 and 17
// letters and digits.
std::string random_pattern_text(std::mt19937& rng) {
  static const std::vector<std::string> atoms = {
      "a", "Z", "\u00E9", "7", "12", "\u0663", "\u00BD", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00A0", "\u3000",
      "\u0085", "\uFEFF", "'", "'s", "'S", "'\u017F", "'LL", "'rE", "'ve", "'d", "!", "...", "(", "\u2019", "\u0301",
      "\u65E5", "\U0001F44D", "\U00010D4A", "\U00010D40", "\U000323B0", "\U00010940", "-", "_", "\xC4\xA0", "\u2581"};
  std::string s;
  const std::size_t length = rng() % 24;
  for (std::size_t i = 0; i < length; ++i) s += atoms[rng() % atoms.size()];
  return s;
}

// The hand-written scanners and the generic PCRE2 path (with its rewritten Unicode classes) find
// the same pieces: each checks the other.
TEST(SplitPatternEngines, ScannersAgreeWithPcre2OnRandomText) {
  const std::vector<std::string> patterns = {kGpt2SplitRegex, cl100k_split_regex(1), cl100k_split_regex(3)};
  std::mt19937 rng(11);
  for (const std::string& pattern : patterns) {
    const auto scanner = compile_split_pattern(TextPattern{true, pattern}, "test");
    const auto pcre2 = compile_with_pcre2(pattern, "test");
    ASSERT_TRUE(scanner->covers_everything()) << pattern;
    ASSERT_FALSE(pcre2->covers_everything());
    for (int iteration = 0; iteration < 4000; ++iteration) {
      const std::string text = random_pattern_text(rng);
      std::vector<Span> a, b;
      scanner->find_matches(text, a);
      pcre2->find_matches(text, b);
      std::string shown_a, shown_b;
      for (const Span& m : a) shown_a += "[" + text.substr(m.begin, m.end - m.begin) + "]";
      for (const Span& m : b) shown_b += "[" + text.substr(m.begin, m.end - m.begin) + "]";
      ASSERT_EQ(shown_a, shown_b) << "pattern " << pattern << " on " << test::to_hex(text);
    }
  }
}

TEST(RoundTrip, RealLibraryTokenizersDecodeWhatTheyEncode) {
  std::mt19937 rng(5);
  const Tokenizer& qwen3 = test::fixture_tokenizer_json("qwen3");
  const Tokenizer& mistral = test::fixture_tokenizer_json("mistral-sp");
  for (int iteration = 0; iteration < 1500; ++iteration) {
    std::string text = random_unicode(rng);
    // Byte-level with NFC: the text comes back in NFC.
    std::string storage;
    ASSERT_EQ(qwen3.decode_text(qwen3.encode(text)), std::string(nfc_normalize(text, storage))) << test::to_hex(text);
    // SentencePiece: back exactly, as long as the text holds no ▁ (which is read as a space).
    if (text.find("\u2581") == std::string::npos) {
      ASSERT_EQ(mistral.decode_text(mistral.encode(text)), text) << test::to_hex(text);
    }
  }
}

TEST(RoundTrip, EveryIdSequenceDecodes) {
  std::mt19937 rng(9);
  for (const char* name : {"qwen3", "mistral-sp", "neox20b"}) {
    const Tokenizer& tok = test::fixture_tokenizer_json(name);
    for (int iteration = 0; iteration < 2000; ++iteration) {
      std::vector<std::int32_t> ids;
      const std::size_t length = rng() % 12;
      for (std::size_t i = 0; i < length; ++i) {
        // Mostly low ids (bytes, byte-fallback tokens, specials), some anywhere, some past the end.
        const std::uint32_t r = rng();
        ids.push_back(static_cast<std::int32_t>(r % 4 == 0 ? r % 300 : r % (tok.vocab_size() + 40)));
      }
      const std::string text = tok.decode_text(ids);
      ASSERT_TRUE(is_valid_utf8(text)) << name;
      std::vector<std::int32_t> known;
      std::copy_if(ids.begin(), ids.end(), std::back_inserter(known), [&](std::int32_t id) { return tok.is_valid_id(id); });
      // Without repair, a byte-level decoder gives exactly the tokens' bytes.
      if (std::string(name) != "mistral-sp") ASSERT_EQ(tok.decode_bytes(ids), tok.decode(known)) << name;
    }
  }
}

}  // namespace
}  // namespace entroscope::tokenizer
