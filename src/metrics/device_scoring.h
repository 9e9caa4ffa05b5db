#pragma once
// The Scorer's GPU path (CUDA backend): the model's weights uploaded once, the forward on the
// device, and the reductions over the vocabulary (entropy, surprisal, token-class masses) done
// there on each block of logits, so only those numbers come back to the host.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/forward.h"

namespace entroscope::metrics {

class DeviceScoring {
 public:
  // Uploads the weights; throws Error when the build or the machine has no CUDA device.
  explicit DeviceScoring(const model::Model& model);
  ~DeviceScoring();

  void set_token_classes(const std::vector<std::uint8_t>& masks, int n_classes);

  // One packed batch: for each row in `measured` (ascending; empty = every row) writes
  // entropy_bits[row], surprisal_bits[row - s] (s = the row's sequence; not for a sequence's last
  // row) and, with token classes, log2_class_mass[row * n_classes + c]: the layout of
  // metrics::score_block. Throws NonFiniteError naming the place as the CPU path does.
  void score(std::span<const std::int32_t> ids, const kernels::SequenceRows& packed, std::span<const int> measured,
             double* entropy_bits, double* surprisal_bits, double* log2_class_mass);

 private:
  struct State;
  const model::Model& model_;
  std::unique_ptr<State> state_;
};

}  // namespace entroscope::metrics
