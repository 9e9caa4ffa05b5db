// Sliding windows: the plan scores every position exactly once with a predecessor in its window;
// with a real model, a sequence that fits equals one direct forward, a long one equals direct
// forwards over the windows the documented rule defines, and batching never changes a number.
#include <gtest/gtest.h>

#include <algorithm>

#include "experiment/spec_parser.h"
#include "experiment/windowed_scorer.h"
#include "experiment_test_support.h"
#include "kernels/threads.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

using namespace entroscope;
using namespace entroscope::experiment;
using namespace entroscope::experiment_test;

TEST(WindowPlan, EveryPositionScoredOnceWithContext) {
  for (std::size_t prefix : {0u, 1u, 3u}) {
    for (std::size_t n : {1u, 2u, 17u, 32u, 33u, 100u, 257u}) {
      for (std::size_t stride : {0u, 1u, 7u, 20u}) {
        const WindowShape shape{32, stride};
        if (n < prefix + 1) continue;
        const auto windows = plan_windows(n, prefix, shape);
        std::vector<int> scored(n, 0);
        for (std::size_t j = 0; j < windows.size(); ++j) {
          const WindowPlan& w = windows[j];
          EXPECT_LE(w.length(prefix), shape.length);
          if (j == 0) {
            EXPECT_EQ(w.body_begin, prefix);  // the first window is the sequence's own beginning
          }
          for (std::size_t p = w.score_begin; p < w.score_end; ++p) {
            ++scored[p];
            // The predecessor of p is in the window: either in its slice or the prefix itself.
            EXPECT_TRUE((p - 1 >= w.body_begin && p - 1 < w.body_end) || p - 1 < prefix) << n << " " << p;
            EXPECT_LT(p, w.body_end);
            if (j > 0) {  // at least (length - prefix - stride) tokens of text before p
              EXPECT_GE(p - w.body_begin, shape.length - prefix - effective_stride(shape, prefix));
            }
          }
        }
        EXPECT_EQ(scored[0], 0);
        for (std::size_t p = 1; p < n; ++p) EXPECT_EQ(scored[p], 1) << "n=" << n << " p=" << p;
        if (n <= shape.length) {
          EXPECT_EQ(windows.size(), 1u);
        }
      }
    }
  }
  EXPECT_EQ(effective_stride({32, 0}, 2), 15u);
  EXPECT_THROW(effective_stride({32, 30}, 2), Error);
  EXPECT_THROW(effective_stride({3, 0}, 2), Error);
}

namespace {

// demo-gpt2-s, its tokenizer and a few real sequences: [<|endoftext|>] + context + target with the
// target measured, and the same without the special token.
struct ModelFixture {
  model::Model model = model::load_model(kModelsDir / "demo-gpt2-s");
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(kModelsDir / "demo-gpt2-s");
  std::vector<BuiltSequence> sequences;

  ModelFixture() {
    kernels::set_thread_count(1);
    const ItemSet items = load_items(kDemoItems, "id");
    for (std::size_t i = 0; i < 6; ++i) {
      const auto context = tok.encode(items.items[i].fields.at("context"));
      const auto target = tok.encode(items.items[i].fields.at("target"));
      BuiltSequence s;
      if (i % 2 == 0) {
        s.ids.push_back(2047);
        s.window_prefix = 1;
      }
      s.ids.insert(s.ids.end(), context.begin(), context.end());
      s.measured_begin = s.ids.size() - (i % 3 == 2 ? 5 : 0);  // some spans start inside the context
      s.ids.insert(s.ids.end(), target.begin(), target.end());
      s.measured_end = s.ids.size();
      sequences.push_back(std::move(s));
    }
  }
  std::vector<const BuiltSequence*> pointers() const {
    std::vector<const BuiltSequence*> out;
    for (const auto& s : sequences) out.push_back(&s);
    return out;
  }
};

ModelFixture& fixture() {
  static ModelFixture f;
  return f;
}

}  // namespace

TEST(WindowedScorer, SequenceThatFitsEqualsADirectForward) {
  ModelFixture& f = fixture();
  metrics::Scorer scorer(f.model);
  WindowedScorer windowed(scorer, {256, 0});
  const auto got = windowed.score(f.pointers());
  for (std::size_t s = 0; s < f.sequences.size(); ++s) {
    const BuiltSequence& seq = f.sequences[s];
    ASSERT_LE(seq.ids.size(), 256u);
    const auto direct = scorer.score({seq.ids})[0];
    ASSERT_EQ(got[s].entropy_bits.size(), seq.measured_count());
    EXPECT_EQ(got[s].windows, 1u);
    for (std::size_t k = 0; k < seq.measured_count(); ++k) {
      const std::size_t before = seq.measured_begin + k - 1;  // the position that predicts the token
      EXPECT_NEAR(got[s].entropy_bits[k], direct.entropy_bits[before], 1e-9);
      EXPECT_NEAR(got[s].surprisal_bits[k], direct.surprisal_bits[before], 1e-9);
    }
  }
}

TEST(WindowedScorer, LongSequenceEqualsDirectForwardsOverItsWindows) {
  ModelFixture& f = fixture();
  metrics::Scorer scorer(f.model);
  const std::size_t length = 32, stride = 8;
  WindowedScorer windowed(scorer, {length, stride});
  const auto got = windowed.score(f.pointers());
  for (std::size_t s = 0; s < f.sequences.size(); ++s) {
    const BuiltSequence& seq = f.sequences[s];
    const std::size_t k0 = seq.window_prefix, room = length - k0, n = seq.ids.size();
    ASSERT_GT(n, length);
    ASSERT_EQ(got[s].entropy_bits.size(), seq.measured_count());
    EXPECT_GT(got[s].windows, 1u);
    for (std::size_t p = seq.measured_begin; p < seq.measured_end; ++p) {
      // The documented rule, spelled out independently: window j holds the prefix and the slice
      // starting at k0 + j*stride; token p belongs to the first window whose slice reaches past it.
      std::size_t begin = k0, end = std::min(n, k0 + room);
      while (end <= p) {
        begin += stride;
        end = std::min(n, begin + room);
      }
      std::vector<std::int32_t> window(seq.ids.begin(), seq.ids.begin() + static_cast<long>(k0));
      window.insert(window.end(), seq.ids.begin() + static_cast<long>(begin), seq.ids.begin() + static_cast<long>(end));
      const std::size_t before = (p < k0 ? p : k0 + p - begin) - 1;
      ASSERT_GE(p - begin, room - stride);  // it sees at least room - stride tokens of text
      const auto direct = scorer.score({window})[0];
      const std::size_t k = p - seq.measured_begin;
      EXPECT_NEAR(got[s].entropy_bits[k], direct.entropy_bits[before], 1e-9) << "sequence " << s << " token " << p;
      EXPECT_NEAR(got[s].surprisal_bits[k], direct.surprisal_bits[before], 1e-9);
    }
  }
}

TEST(WindowedScorer, BatchingNeverChangesANumber) {
  ModelFixture& f = fixture();
  for (const WindowShape shape : {WindowShape{256, 0}, WindowShape{40, 12}}) {
    metrics::Scorer one_at_a_time(f.model, 1);  // every window in its own forward call
    metrics::Scorer batched(f.model, 1 << 20);
    const auto a = WindowedScorer(one_at_a_time, shape).score(f.pointers());
    // The same sequences duplicated and reordered, so batches have other members and sizes.
    std::vector<const BuiltSequence*> mixed = f.pointers();
    std::reverse(mixed.begin(), mixed.end());
    for (const auto* s : f.pointers()) mixed.push_back(s);
    const auto b = WindowedScorer(batched, shape).score(mixed);
    const std::size_t n = f.sequences.size();
    for (std::size_t s = 0; s < n; ++s) {
      for (const auto* other : {&b[n - 1 - s], &b[n + s]}) {
        ASSERT_EQ(a[s].entropy_bits.size(), other->entropy_bits.size());
        for (std::size_t k = 0; k < a[s].entropy_bits.size(); ++k) {
          EXPECT_NEAR(a[s].entropy_bits[k], other->entropy_bits[k], 1e-6);
          EXPECT_NEAR(a[s].surprisal_bits[k], other->surprisal_bits[k], 1e-6);
        }
      }
    }
  }
}
