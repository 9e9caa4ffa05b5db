#include "metrics/device_scoring.h"

#include <numeric>

#include "common/error.h"

namespace entroscope::metrics {

#if ENTROSCOPE_CUDA

struct DeviceScoring::State {
  model::DeviceWeights weights;
  model::ActivationsT<kernels::GpuFloat> act;
  kernels::DeviceBuffer<std::int32_t> targets;  // [measured rows]: the next token, or -1
  kernels::DeviceBuffer<std::uint8_t> masks;    // [V] token classes
  kernels::DeviceBuffer<double> results;        // [measured rows, 2 + classes]
  int n_classes = 0;
};

DeviceScoring::DeviceScoring(const model::Model& model) : model_(model), state_(std::make_unique<State>()) {
  state_->weights = model::upload_weights(model);
}

DeviceScoring::~DeviceScoring() = default;

void DeviceScoring::set_token_classes(const std::vector<std::uint8_t>& masks, int n_classes) {
  state_->n_classes = n_classes;
  if (n_classes == 0) return;
  state_->masks.resize(masks.size());
  kernels::copy_to_device(state_->masks.data(), masks.data(), masks.size());
}

void DeviceScoring::score(std::span<const std::int32_t> ids, const kernels::SequenceRows& packed,
                          std::span<const int> measured, double* entropy_bits, double* surprisal_bits,
                          double* log2_class_mass) {
  State& st = *state_;
  const int V = model_.config.vocab_size, nc = st.n_classes, width = 2 + nc;
  std::vector<int> all_rows;
  if (measured.empty()) {
    all_rows.resize(static_cast<std::size_t>(packed.rows()));
    std::iota(all_rows.begin(), all_rows.end(), 0);
    measured = all_rows;
  }
  // Each measured row's next token (surprisal), or -1 for a sequence's last row.
  std::vector<std::int32_t> targets(measured.size());
  std::vector<int> sequence(measured.size());
  for (std::size_t i = 0; i < measured.size(); ++i) {
    const int row = measured[i], s = packed.sequence_of(row);
    sequence[i] = s;
    targets[i] = row + 1 < packed.begin(s) + packed.length(s) ? ids[static_cast<std::size_t>(row) + 1] : -1;
  }
  st.targets.resize(targets.size());
  kernels::copy_to_device(st.targets.data(), targets.data(), targets.size() * sizeof(std::int32_t));
  st.results.resize(measured.size() * width);

  model::ForwardOutputsT<kernels::GpuFloat> out;
  out.head_rows = measured;
  out.logits_consumer = [&](int first, int rows, const kernels::GpuFloat* block) {
    kernels::score_logit_rows(block, rows, V, st.targets.data() + first, nc > 0 ? st.masks.data() : nullptr, nc,
                              st.results.data() + static_cast<std::size_t>(first) * width);
  };
  model::forward_with(model_, st.weights.weights, ids, packed, st.act, out);

  std::vector<double> results(measured.size() * width);
  kernels::copy_to_host(results.data(), st.results.data(), results.size() * sizeof(double));
  for (std::size_t i = 0; i < measured.size(); ++i) {
    const double* r = results.data() + i * width;
    const int row = measured[i];
    entropy_bits[row] = r[0];
    if (targets[i] >= 0) surprisal_bits[row - sequence[i]] = r[1];
    for (int c = 0; c < nc; ++c) log2_class_mass[static_cast<std::size_t>(row) * nc + c] = r[2 + c];
  }
}

#else  // a CPU build

struct DeviceScoring::State {};

DeviceScoring::DeviceScoring(const model::Model& model) : model_(model) { kernels::require_cuda(model.name); }
DeviceScoring::~DeviceScoring() = default;
void DeviceScoring::set_token_classes(const std::vector<std::uint8_t>&, int) { kernels::require_cuda(model_.name); }
void DeviceScoring::score(std::span<const std::int32_t>, const kernels::SequenceRows&, std::span<const int>, double*,
                          double*, double*) {
  kernels::require_cuda(model_.name);
}

#endif

}  // namespace entroscope::metrics
