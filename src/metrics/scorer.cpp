#include "metrics/scorer.h"

#include "kernels/threads.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

#include "common/error.h"
#include "metrics/entropy.h"

namespace entroscope::metrics {

Scorer::Scorer(const model::Model& model, std::size_t max_batch_tokens)
    : model_(model), max_batch_tokens_(std::max<std::size_t>(max_batch_tokens, 1)) {
  kernels::thread_count();  // a library caller that never chose gets the capped default, not OMP_NUM_THREADS as is
}

void Scorer::set_token_classes(std::vector<std::uint8_t> masks, int n_classes) {
  if (n_classes < 0 || n_classes > kMaxTokenClasses) fail("token classes: {} classes (at most {})", n_classes, kMaxTokenClasses);
  if (n_classes > 0 && masks.size() != static_cast<std::size_t>(model_.config.vocab_size)) {
    fail("token classes: {} masks for a vocabulary of {}", masks.size(), model_.config.vocab_size);
  }
  class_masks_ = std::move(masks);
  n_classes_ = n_classes;
}

std::vector<SequenceScores> Scorer::score(const std::vector<std::vector<std::int32_t>>& sequences,
                                          const std::vector<PositionRange>& needed) {
  const int V = model_.config.vocab_size;
  std::vector<SequenceScores> results(sequences.size());
  if (!needed.empty() && needed.size() != sequences.size())
    fail("internal error: {} position ranges for {} sequences", needed.size(), sequences.size());
  for (std::size_t i = 0; i < needed.size(); ++i) {
    if (needed[i].first > needed[i].end || needed[i].end > sequences[i].size())
      fail("internal error: positions [{}, {}) of a sequence of {}", needed[i].first, needed[i].end, sequences[i].size());
  }
  constexpr double kNotComputed = std::numeric_limits<double>::quiet_NaN();
  // Group by length, keeping input order within a group (deterministic batches).
  std::map<std::size_t, std::vector<std::size_t>> by_length;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    if (sequences[i].empty()) fail("{}: sequence {} is empty", model_.name, i);
    by_length[sequences[i].size()].push_back(i);
  }
  for (const auto& [length, members] : by_length) {
    const int T = static_cast<int>(length);
    const std::size_t per_batch = std::max<std::size_t>(1, max_batch_tokens_ / length);
    for (std::size_t start = 0; start < members.size(); start += per_batch) {
      const int B = static_cast<int>(std::min(per_batch, members.size() - start));
      std::vector<std::int32_t> ids;
      ids.reserve(static_cast<std::size_t>(B) * T);
      for (int b = 0; b < B; ++b) {
        const auto& s = sequences[members[start + b]];
        ids.insert(ids.end(), s.begin(), s.end());
      }
      std::vector<double> entropy(static_cast<std::size_t>(B) * T, kNotComputed);
      std::vector<double> surprisal(static_cast<std::size_t>(B) * (T - 1), kNotComputed);
      std::vector<double> class_mass(static_cast<std::size_t>(B) * T * n_classes_, kNotComputed);
      // The rows whose distributions are wanted (all when `needed` is empty).
      std::vector<int> head_rows;
      if (!needed.empty()) {
        for (int b = 0; b < B; ++b) {
          const PositionRange& r = needed[members[start + b]];
          for (std::size_t t = r.first; t < r.end; ++t) head_rows.push_back(b * T + static_cast<int>(t));
        }
      }
      const bool nothing_needed = !needed.empty() && head_rows.empty();
      const int* row_of_head = head_rows.empty() ? nullptr : head_rows.data();
      // Logits are streamed block by block into the metrics: never [B*T, V] in memory.
      model::ForwardOutputs out;
      out.head_rows = head_rows;
      out.logits_consumer = [&](int first_row, int rows, const float* block) {
        const int* row_of = row_of_head ? row_of_head + first_row : nullptr;
        if (n_classes_ > 0) {
          score_block_with_classes(block, first_row, rows, ids.data(), T, V, class_masks_.data(), n_classes_,
                                   entropy.data(), surprisal.data(), class_mass.data(), row_of);
        } else {
          score_block(block, first_row, rows, ids.data(), T, V, entropy.data(), surprisal.data(), row_of);
        }
      };
      try {
        if (!nothing_needed) model::forward(model_, ids, B, T, act_, out);
      } catch (const model::NonFiniteError& e) {
        model::NonFiniteLocation where = e.where();
        where.batch_row = static_cast<int>(members[start + where.batch_row]);
        throw model::NonFiniteError(where);
      }
      for (int b = 0; b < B; ++b) {
        SequenceScores& r = results[members[start + b]];
        r.entropy_bits.assign(entropy.begin() + static_cast<std::ptrdiff_t>(b) * T,
                              entropy.begin() + static_cast<std::ptrdiff_t>(b + 1) * T);
        r.surprisal_bits.assign(surprisal.begin() + static_cast<std::ptrdiff_t>(b) * (T - 1),
                                surprisal.begin() + static_cast<std::ptrdiff_t>(b + 1) * (T - 1));
        const auto per_row = static_cast<std::ptrdiff_t>(T) * n_classes_;
        r.log2_class_mass.assign(class_mass.begin() + b * per_row, class_mass.begin() + (b + 1) * per_row);
      }
    }
  }
  return results;
}

}  // namespace entroscope::metrics
