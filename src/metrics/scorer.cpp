#include "metrics/scorer.h"

#include "kernels/threads.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "common/error.h"
#include "metrics/device_scoring.h"
#include "metrics/entropy.h"

namespace entroscope::metrics {

Scorer::Scorer(const model::Model& model, std::size_t max_batch_tokens, kernels::Device device)
    : model_(model), max_batch_tokens_(std::max<std::size_t>(max_batch_tokens, 1)) {
  kernels::thread_count();  // a library caller that never chose gets the capped default, not OMP_NUM_THREADS as is
  switch (device) {
    case kernels::Device::kCpu: break;
    case kernels::Device::kCuda: device_ = std::make_unique<DeviceScoring>(model); break;
  }
}

Scorer::~Scorer() = default;

void Scorer::set_token_classes(std::vector<std::uint8_t> masks, int n_classes) {
  if (n_classes < 0 || n_classes > kMaxTokenClasses) fail("token classes: {} classes (at most {})", n_classes, kMaxTokenClasses);
  if (n_classes > 0 && masks.size() != static_cast<std::size_t>(model_.config.vocab_size)) {
    fail("token classes: {} masks for a vocabulary of {}", masks.size(), model_.config.vocab_size);
  }
  class_masks_ = std::move(masks);
  n_classes_ = n_classes;
  if (device_) device_->set_token_classes(class_masks_, n_classes_);
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
  for (std::size_t i = 0; i < sequences.size(); ++i)
    if (sequences[i].empty()) fail("{}: sequence {} is empty", model_.name, i);
  // Sequences are packed side by side, in input order, up to max_batch_tokens rows per forward (a
  // longer one alone): short items fill the GEMMs like one long sequence. Packing changes no bit
  // of any sequence's numbers (model/forward.h), so neither does this choice.
  for (std::size_t first = 0; first < sequences.size();) {
    std::size_t end = first, total = 0;
    while (end < sequences.size() && (end == first || total + sequences[end].size() <= max_batch_tokens_))
      total += sequences[end++].size();
    std::vector<int> start{0};
    std::vector<std::int32_t> ids;
    ids.reserve(total);
    for (std::size_t i = first; i < end; ++i) {
      ids.insert(ids.end(), sequences[i].begin(), sequences[i].end());
      start.push_back(static_cast<int>(ids.size()));
    }
    const kernels::SequenceRows packed{start};
    const std::size_t rows = ids.size(), count = end - first;
    std::vector<double> entropy(rows, kNotComputed);
    std::vector<double> surprisal(rows - count, kNotComputed);
    std::vector<double> class_mass(rows * n_classes_, kNotComputed);
    // The rows whose distributions are wanted (all when `needed` is empty).
    std::vector<int> head_rows;
    if (!needed.empty()) {
      for (std::size_t i = first; i < end; ++i) {
        for (std::size_t t = needed[i].first; t < needed[i].end; ++t)
          head_rows.push_back(start[i - first] + static_cast<int>(t));
      }
    }
    const bool nothing_needed = !needed.empty() && head_rows.empty();
    const int* row_of_head = head_rows.empty() ? nullptr : head_rows.data();
    // Logits are streamed block by block into the metrics: never [rows, V] in memory.
    model::ForwardOutputs out;
    out.head_rows = head_rows;
    out.logits_consumer = [&](int first_row, int n_rows, const float* block) {
      const int* row_of = row_of_head ? row_of_head + first_row : nullptr;
      if (n_classes_ > 0) {
        score_block_with_classes(block, first_row, n_rows, ids.data(), packed, V, class_masks_.data(), n_classes_,
                                 entropy.data(), surprisal.data(), class_mass.data(), row_of);
      } else {
        score_block(block, first_row, n_rows, ids.data(), packed, V, entropy.data(), surprisal.data(), row_of);
      }
    };
    try {
      if (nothing_needed) {
        // no forward at all: every value stays "not computed"
      } else if (device_) {
        device_->score(ids, packed, head_rows, entropy.data(), surprisal.data(), class_mass.data());
      } else {
        model::forward(model_, ids, packed, act_, out);
      }
    } catch (const model::NonFiniteError& e) {
      model::NonFiniteLocation where = e.where();
      where.batch_row = static_cast<int>(first) + where.batch_row;
      throw model::NonFiniteError(where);
    }
    for (std::size_t j = 0; j < count; ++j) {
      SequenceScores& r = results[first + j];
      const auto b = static_cast<std::ptrdiff_t>(start[j]), e = static_cast<std::ptrdiff_t>(start[j + 1]);
      const auto k = static_cast<std::ptrdiff_t>(j);
      r.entropy_bits.assign(entropy.begin() + b, entropy.begin() + e);
      r.surprisal_bits.assign(surprisal.begin() + (b - k), surprisal.begin() + (e - k - 1));
      r.log2_class_mass.assign(class_mass.begin() + b * n_classes_, class_mass.begin() + e * n_classes_);
    }
    first = end;
  }
  return results;
}

}  // namespace entroscope::metrics
