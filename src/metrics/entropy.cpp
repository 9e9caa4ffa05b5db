#include "metrics/entropy.h"

#include <cmath>

namespace entroscope::metrics {

template <typename Scalar>
TokenScore score_distribution(const Scalar* logits, int V) {
  // H = log Z - sum_i p_i x_i with Z = sum exp(x_i - m): computed as
  // log S - (sum e_i (x_i - m)) / S where e_i = exp(x_i - m), S = sum e_i (all in double).
  Scalar m = logits[0];
  for (int i = 1; i < V; ++i) m = logits[i] > m ? logits[i] : m;
  double s = 0.0, weighted = 0.0;
  for (int i = 0; i < V; ++i) {
    double d = static_cast<double>(logits[i]) - m;
    double e = std::exp(d);
    s += e;
    if (e > 0.0) weighted += e * d;  // a -inf logit contributes 0, not 0 x inf
  }
  double log_s = std::log(s);
  constexpr double kLog2e = 1.4426950408889634;
  double entropy_nats = log_s - weighted / s;
  if (entropy_nats < 0.0) entropy_nats = 0.0;  // rounding near a one-hot distribution
  return {entropy_nats * kLog2e, m + log_s};
}

template <typename Scalar>
void score_block(const Scalar* logits, int first_row, int rows, const std::int32_t* ids, int T, int V,
                 double* entropy_bits, double* surprisal_bits) {
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const std::size_t row = static_cast<std::size_t>(first_row) + r;
    const std::size_t b = row / T, t = row % T;
    const Scalar* x = logits + static_cast<std::size_t>(r) * V;
    TokenScore s = score_distribution(x, V);
    entropy_bits[row] = s.entropy_bits;
    if (surprisal_bits && static_cast<int>(t) + 1 < T)
      surprisal_bits[b * (T - 1) + t] = metrics::surprisal_bits(x, s, ids[row + 1]);
  }
}

template <typename Scalar>
void score_rows(const Scalar* logits, const std::int32_t* ids, int B, int T, int V, double* entropy_bits,
                double* surprisal_bits) {
  score_block(logits, 0, B * T, ids, T, V, entropy_bits, surprisal_bits);
}

template TokenScore score_distribution<float>(const float*, int);
template TokenScore score_distribution<double>(const double*, int);
template void score_rows<float>(const float*, const std::int32_t*, int, int, int, double*, double*);
template void score_block<float>(const float*, int, int, const std::int32_t*, int, int, double*, double*);
template void score_block<double>(const double*, int, int, const std::int32_t*, int, int, double*, double*);
template void score_rows<double>(const double*, const std::int32_t*, int, int, int, double*, double*);

}  // namespace entroscope::metrics
