// The Tokenizer facade: loading from each kind of path, lookups, decoding, copies and threads.
#include <gtest/gtest.h>

#include <thread>

#include "common/error.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

namespace fs = std::filesystem;
using test::fixture_dir;

const fs::path kModels = fs::path(ES_SOURCE_DIR) / "models";

std::vector<std::string> file_names(const Tokenizer& tok) {
  std::vector<std::string> names;
  for (const fs::path& p : tok.source_files()) names.push_back(p.filename().string());
  return names;
}

TEST(TokenizerLoad, DirectoryPrefersTokenizerJson) {
  const Tokenizer tok = Tokenizer::load(fixture_dir() / "gpt2");
  EXPECT_EQ(file_names(tok), (std::vector<std::string>{"tokenizer.json"}));
  EXPECT_EQ(tok.source_files()[0], fixture_dir() / "gpt2" / "tokenizer.json");
}

TEST(TokenizerLoad, VocabJsonTakesMergesAndConfigsFromBesideIt) {
  const Tokenizer tok = Tokenizer::load(fixture_dir() / "gpt2" / "vocab.json");
  EXPECT_EQ(file_names(tok), (std::vector<std::string>{"vocab.json", "merges.txt", "tokenizer_config.json"}));
  EXPECT_EQ(tok.special_ids(), (std::vector<std::int32_t>{50256}));
}

TEST(TokenizerLoad, DirectoryWithOnlyVocabAndMerges) {
  test::TempDir dir;
  fs::copy_file(fixture_dir() / "gpt2" / "vocab.json", dir.path() / "vocab.json");
  fs::copy_file(fixture_dir() / "gpt2" / "merges.txt", dir.path() / "merges.txt");
  const Tokenizer tok = Tokenizer::load(dir.path());
  EXPECT_EQ(file_names(tok), (std::vector<std::string>{"vocab.json", "merges.txt"}));
  // Without config files, <|endoftext|> is GPT-2's special token.
  EXPECT_EQ(tok.encode("a<|endoftext|>", true), (std::vector<std::int32_t>{64, 50256}));
  EXPECT_EQ(tok.special_ids(), (std::vector<std::int32_t>{50256}));
}

TEST(TokenizerLoad, DemoModelsTokenizeTinyShakespeareAsDocumented) {
  // models/README.md: train part = first 1,003,857 chars = 346,872 tokens, held-out = 43,562 tokens.
  const std::string text = test::read_file_bytes(kModels / "data" / "tinyshakespeare.txt");
  ASSERT_EQ(text.size(), 1115394u);
  for (const fs::path& path : {kModels / "demo-gpt2-s", kModels / "tokenizer" / "vocab.json"}) {
    const Tokenizer tok = Tokenizer::load(path);
    EXPECT_EQ(tok.vocab_size(), 2048u);
    EXPECT_EQ(tok.token_to_id("<|endoftext|>"), std::optional<std::int32_t>(2047));
    EXPECT_EQ(tok.encode(std::string_view(text).substr(0, 1003857)).size(), 346872u) << path;
    const std::vector<std::int32_t> held_out = tok.encode(std::string_view(text).substr(1003857));
    EXPECT_EQ(held_out.size(), 43562u) << path;
    EXPECT_EQ(tok.decode(held_out), text.substr(1003857));
  }
}

TEST(Tokenizer, TokenToIdCoversVocabularyAndAddedTokens) {
  const Tokenizer& gpt2 = test::gpt2_from_vocab();
  EXPECT_EQ(gpt2.token_to_id("<|endoftext|>"), std::optional<std::int32_t>(50256));
  EXPECT_EQ(gpt2.token_to_id("\xC4\xA0the"), std::optional<std::int32_t>(262));  // "Ġthe"
  EXPECT_EQ(gpt2.token_to_id("!"), std::optional<std::int32_t>(0));
  EXPECT_EQ(gpt2.token_to_id(" the"), std::nullopt);
  EXPECT_EQ(gpt2.token_to_id(""), std::nullopt);
  const Tokenizer& neox = test::fixture_tokenizer_json("neox20b");
  EXPECT_EQ(neox.token_to_id("<|endoftext|>"), std::optional<std::int32_t>(0));
  EXPECT_EQ(neox.token_to_id("<|padding|>"), std::optional<std::int32_t>(1));
  EXPECT_EQ(neox.token_to_id("  "), std::optional<std::int32_t>(50276));
  EXPECT_EQ(neox.token_to_id(std::string(24, ' ')), std::optional<std::int32_t>(50254));
}

TEST(Tokenizer, VocabSizeIncludesAddedTokens) {
  EXPECT_EQ(test::gpt2_from_vocab().vocab_size(), 50257u);
  EXPECT_EQ(test::fixture_tokenizer_json("gpt2").vocab_size(), 50257u);
  EXPECT_EQ(test::fixture_tokenizer_json("neox-synth").vocab_size(), 50281u);
  EXPECT_EQ(test::fixture_tokenizer_json("neox20b").vocab_size(), 50277u);
  EXPECT_EQ(test::fixture_tokenizer_json("neox20b").special_ids(), (std::vector<std::int32_t>{0, 1}));
}

TEST(Tokenizer, DecodeGivesExactBytesAndRejectsUnknownIds) {
  const Tokenizer& gpt2 = test::gpt2_from_vocab();
  const std::vector<std::int32_t> partial = {447};
  EXPECT_EQ(gpt2.decode(partial), "\xE2\x80");  // first two bytes of ’
  EXPECT_EQ(gpt2.decode(std::vector<std::int32_t>{447, 247}), "\xE2\x80\x99");
  EXPECT_EQ(gpt2.decode(std::vector<std::int32_t>{}), "");
  EXPECT_EQ(gpt2.token_bytes(50256), "<|endoftext|>");
  for (std::int32_t bad : {-1, 50257, 1 << 30}) {
    const std::vector<std::int32_t> ids = {15496, bad};
    EXPECT_THROW(gpt2.decode(ids), Error) << bad;
    EXPECT_FALSE(gpt2.is_valid_id(bad));
  }
  EXPECT_EQ(test::fixture_tokenizer_json("neox20b").decode(std::vector<std::int32_t>{50276, 0}), "  <|endoftext|>");
}

TEST(Tokenizer, PrefixSpaceGoesBeforeEveryPieceThatLacksOne) {
  const Tokenizer& prefix = test::fixture_tokenizer_json("gpt2-prefix");
  const Tokenizer& plain = test::fixture_tokenizer_json("gpt2");
  EXPECT_EQ(prefix.encode("", true), std::vector<std::int32_t>{});
  EXPECT_EQ(prefix.encode("Hello", true), plain.encode(" Hello", true));
  EXPECT_EQ(prefix.encode(" Hello", true), plain.encode(" Hello", true));
  EXPECT_EQ(prefix.encode("a<|endoftext|>b", true), (std::vector<std::int32_t>{257, 50256, 275}));  // " a", " b"
}

TEST(Tokenizer, NfcMakesComposedAndDecomposedTextEqual) {
  const Tokenizer& neox = test::fixture_tokenizer_json("neox20b");
  EXPECT_EQ(neox.encode("caf\u00E9"), neox.encode("cafe\u0301"));
  EXPECT_EQ(neox.encode("\u212B"), neox.encode("\u00C5"));  // ANGSTROM SIGN -> Å
  EXPECT_EQ(neox.decode(neox.encode("cafe\u0301")), "caf\u00E9");
  // GPT-2 has no normalizer: the two spellings stay different.
  EXPECT_NE(test::gpt2_from_vocab().encode("caf\u00E9"), test::gpt2_from_vocab().encode("cafe\u0301"));
}

TEST(Tokenizer, CopiesShareTheModelAndEncodeTheSame) {
  Tokenizer copy = test::gpt2_from_vocab();
  const Tokenizer moved = std::move(copy);
  EXPECT_EQ(moved.encode("copy me"), test::gpt2_from_vocab().encode("copy me"));
}

TEST(Tokenizer, EncodeIsThreadSafe) {
  const Tokenizer& neox = test::fixture_tokenizer_json("neox20b");
  const std::string bench = test::read_file_bytes(fixture_dir() / "texts" / "bench_1mb.txt").substr(0, 200000);
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < 8; ++i) texts.push_back(bench.substr(i * 20000, 40000 + i * 1000));
  std::vector<std::vector<std::int32_t>> expected;
  for (const std::string& t : texts) expected.push_back(neox.encode(t, true));
  std::vector<std::vector<std::int32_t>> got(texts.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 3; ++repeat) got[i] = neox.encode(texts[i], true);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace entroscope::tokenizer
