// The merge loop: rank order, leftmost ties, both loops agreeing, no quadratic blow-up.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "common/error.h"
#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer_model.h"
#include "tokenizer/tokenizer_file.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/vocab_files.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

// Bytes 'a'..'d' are ids 0..3; merged tokens get ids from 10 up.
std::array<std::int32_t, 256> toy_byte_tokens() {
  std::array<std::int32_t, 256> tokens;
  tokens.fill(-1);
  for (int b = 'a'; b <= 'd'; ++b) tokens[b] = b - 'a';
  return tokens;
}

std::vector<std::int32_t> encode_both_ways(const BytePairEncoder& bpe, std::string_view piece) {
  std::vector<std::int32_t> by_array, by_heap;
  bpe.encode_with_array_loop(piece, by_array);
  bpe.encode_with_heap(piece, by_heap);
  EXPECT_EQ(by_array, by_heap) << "loops disagree on '" << piece << "'";
  return by_array;
}

TEST(BytePairEncoder, MergesTheLowestRankFirst) {
  // rank 0: b+c -> 10, rank 1: a+b -> 11, rank 2: a+10 -> 12
  const BytePairEncoder bpe(toy_byte_tokens(), {{1, 2, 10}, {0, 1, 11}, {0, 10, 12}}, {});
  EXPECT_EQ(encode_both_ways(bpe, "abc"), (std::vector<std::int32_t>{12}));
  EXPECT_EQ(encode_both_ways(bpe, "ab"), (std::vector<std::int32_t>{11}));
  EXPECT_EQ(encode_both_ways(bpe, "abd"), (std::vector<std::int32_t>{11, 3}));
}

TEST(BytePairEncoder, TakesTheLeftmostPairOnTies) {
  // a+a -> 10 then 10+a -> 11: "aaa" must become (aa)a -> 11, never a(aa).
  const BytePairEncoder bpe(toy_byte_tokens(), {{0, 0, 10}, {10, 0, 11}, {0, 10, 12}}, {});
  EXPECT_EQ(encode_both_ways(bpe, "aaa"), (std::vector<std::int32_t>{11}));
  EXPECT_EQ(encode_both_ways(bpe, "aaaa"), (std::vector<std::int32_t>{10, 10}));
  EXPECT_EQ(encode_both_ways(bpe, "aaaaa"), (std::vector<std::int32_t>{10, 11}));  // [10,a,a,a] -> [10,10,a] -> [10,11]
}

TEST(BytePairEncoder, UnknownBytesUseUnkOrFail) {
  const BytePairEncoder strict(toy_byte_tokens(), {}, {});
  std::vector<std::int32_t> ids;
  try {
    strict.encode("az", ids);
    FAIL() << "expected an error for byte 'z'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0x7A"), std::string::npos) << e.what();
  }
  BpeOptions fused;
  fused.unk_id = 9;
  fused.fuse_unk = true;
  ids.clear();
  BytePairEncoder(toy_byte_tokens(), {}, fused).encode("azzb", ids);
  EXPECT_EQ(ids, (std::vector<std::int32_t>{0, 9, 1}));
}

TEST(BytePairEncoder, IgnoreMergesTakesWholeVocabularyTokens) {
  BpeOptions options;
  options.ignore_merges = true;
  // No merge builds "abc", but the vocabulary has it.
  const BytePairEncoder bpe(toy_byte_tokens(), {{0, 1, 10}}, options, {{"abc", 20}});
  std::vector<std::int32_t> ids;
  bpe.encode("abc", ids);
  EXPECT_EQ(ids, (std::vector<std::int32_t>{20}));
  ids.clear();
  bpe.encode("abd", ids);
  EXPECT_EQ(ids, (std::vector<std::int32_t>{10, 3}));
}

class Gpt2Bpe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto dir = test::fixture_dir() / "gpt2";
    const TokenizerSpec spec =
        read_vocab_and_merges(dir / "vocab.json", read_vocab_json_file(dir / "vocab.json"), dir / "merges.txt");
    model_ = build_tokenizer_model(spec).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static TokenizerModel* model_;
};
TokenizerModel* Gpt2Bpe::model_ = nullptr;

TEST_F(Gpt2Bpe, ArrayLoopAndHeapAgreeOnRandomPieces) {
  // Few distinct bytes, so that many merges apply and ties are common.
  const std::string alphabet = "aeinrst \xC4\xA0\xE3\x81\x82";
  std::mt19937 rng(7);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string piece;
    const std::size_t length = 1 + rng() % 120;
    for (std::size_t i = 0; i < length; ++i) piece.push_back(alphabet[rng() % alphabet.size()]);
    std::vector<std::int32_t> by_array, by_heap;
    model_->bpe.encode_with_array_loop(piece, by_array);
    model_->bpe.encode_with_heap(piece, by_heap);
    ASSERT_EQ(by_array, by_heap) << "piece " << test::to_hex(piece);
  }
}

// The per-thread piece cache changes nothing: pieces encoded again (hits), colliding pieces
// (evictions) and two vocabularies sharing the cache all give the uncached ids.
TEST_F(Gpt2Bpe, PieceCacheGivesTheUncachedIds) {
  const std::unique_ptr<TokenizerModel> neox = build_tokenizer_model(read_tokenizer_json(
      test::fixture_dir() / "neox20b" / "tokenizer.json",
      read_tokenizer_json_file(test::fixture_dir() / "neox20b" / "tokenizer.json")));
  const std::string alphabet = "aeinrst \xC4\xA0\xE3\x81\x82";
  std::mt19937 rng(3);
  for (int iteration = 0; iteration < 60000; ++iteration) {
    std::string piece;
    const std::size_t length = 1 + rng() % 24;
    for (std::size_t i = 0; i < length; ++i) piece.push_back(alphabet[rng() % alphabet.size()]);
    for (const TokenizerModel* model : std::vector<const TokenizerModel*>{model_, neox.get()}) {
      std::vector<std::int32_t> cached, uncached;
      model->bpe.encode(piece, cached);
      model->bpe.encode_uncached(piece, uncached);
      ASSERT_EQ(cached, uncached) << "piece " << test::to_hex(piece);
    }
  }
}

TEST_F(Gpt2Bpe, LongPiecesAreNotQuadratic) {
  // 100k-byte single pieces: an O(n^2) merge loop needs minutes here; the heap needs milliseconds.
  std::string cjk;
  for (int i = 0; i < 33000; ++i) cjk += "\xE6\x97\xA5";  // 日
  for (const std::string& piece : {std::string(100000, 'a'), std::string(100000, '7'), cjk}) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::int32_t> ids;
    model_->bpe.encode(piece, ids);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 2.0) << "piece of " << piece.size() << " bytes took " << seconds << " s";
    EXPECT_GT(ids.size(), 1u);
  }
}

}  // namespace
}  // namespace entroscope::tokenizer
