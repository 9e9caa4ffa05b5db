#pragma once
// Scores token sequences with a model: for every position t, the entropy (bits) of the next-token
// distribution after ids[0..t], and the surprisal (bits) of the actual next token ids[t+1].
// Sequences of any lengths are packed side by side into each forward (no padding), and a
// sequence's numbers are the same bits whether it is scored alone or with others (tested).
#include <cstdint>
#include <memory>
#include <vector>

#include "model/forward.h"

namespace entroscope::metrics {

// Positions [first, end) of one sequence whose next-token distributions are wanted.
struct PositionRange {
  std::size_t first = 0, end = 0;
};

// Positions that were not asked for (Scorer::score's `needed`) hold quiet NaN: not computed, and
// loud if read by mistake (every reader checks finiteness).
struct SequenceScores {
  std::vector<double> entropy_bits;    // [T]
  std::vector<double> surprisal_bits;  // [T-1]: surprisal_bits[t] = -log2 p(ids[t+1] | ids[0..t])
  // With token classes (Scorer::set_token_classes): [T * n_classes], log2 of each class's mass at
  // each position.
  std::vector<double> log2_class_mass;
};

class DeviceScoring;  // device_scoring.h

class Scorer {
 public:
  // max_batch_tokens bounds the rows (tokens) per forward call (activation memory grows with it).
  // Device::kCuda runs the forward and the reductions over the vocabulary on the GPU (weights
  // uploaded here, once; throws Error when the build or the machine has no CUDA device).
  explicit Scorer(const model::Model& model, std::size_t max_batch_tokens = 4096,
                  kernels::Device device = kernels::Device::kCpu);
  ~Scorer();

  // Each sequence must be non-empty and fit the model's context. Throws Error / NonFiniteError
  // (its location names the sequence index as the batch row of that call; `score` rewrites it to
  // the index in `sequences`).
  // `needed`: empty = every position; else one range per sequence, and the LM head and the
  // entropy over the vocabulary run only for those positions (context rows cost only the blocks).
  // Values at needed positions have the same bits either way.
  std::vector<SequenceScores> score(const std::vector<std::vector<std::int32_t>>& sequences,
                                    const std::vector<PositionRange>& needed = {});

  const model::Model& model() const { return model_; }

  // Also report, per position, the probability mass of up to kMaxTokenClasses token classes
  // (masks[v]: bit c puts token v in class c; one entry per logit row, 0 for rows in no class).
  void set_token_classes(std::vector<std::uint8_t> masks, int n_classes);
  std::size_t class_count() const { return static_cast<std::size_t>(n_classes_); }
  kernels::Device device() const { return device_ ? kernels::Device::kCuda : kernels::Device::kCpu; }

 private:
  const model::Model& model_;
  std::size_t max_batch_tokens_;
  std::vector<std::uint8_t> class_masks_;
  int n_classes_ = 0;
  model::Activations act_;
  std::unique_ptr<DeviceScoring> device_;  // set for Device::kCuda
};

}  // namespace entroscope::metrics
