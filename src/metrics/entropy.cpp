#include "metrics/entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/fast_exp.h"
#include "kernels/parallel.h"

namespace entroscope::metrics {

namespace {

constexpr double kLog2e = 1.4426950408889634;

// sum_i e_i and sum_i e_i d_i with d_i = x_i - max, e_i = exp(d_i): the inner loop of every
// entropy (V = 50k per token). fp32 logits: e_i from the vectorizable kernels::fast_exp (relative
// error 3e-7, far below what fp32 logits carry), accumulated in double in 8 fixed lanes, so the
// order of additions, and the result, is the same on every machine and vector width.
__attribute__((target_clones("avx512f", "avx2", "default"))) void exp_sums_f32(const float* x, int V, float m,
                                                                                double& sum, double& weighted) {
  // Chunks of exponentials (a flat loop that vectorizes), then sums in 16 fixed float64 lanes:
  // lane l takes the elements l, l + 16, ... of each chunk, whatever the vector width.
  constexpr int kLanes = 16, kChunk = 1024;
  double s[kLanes] = {}, w[kLanes] = {};
  float e[kChunk];
  for (int c0 = 0; c0 < V; c0 += kChunk) {
    const int n = std::min(kChunk, V - c0);
    const float* xc = x + c0;
    for (int i = 0; i < n; ++i) e[i] = kernels::fast_exp(xc[i] - m);  // x - m: one rounding, as in double
    int i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const double d = static_cast<double>(xc[i + l]) - m;
        s[l] += e[i + l];
        w[l] += d > -87.0 ? e[i + l] * d : 0.0;  // below exp's range the term is 0 (and -inf x 0 is no NaN)
      }
    }
    for (int l = 0; i < n; ++i, ++l) {
      const double d = static_cast<double>(xc[i]) - m;
      s[l] += e[i];
      w[l] += d > -87.0 ? e[i] * d : 0.0;
    }
  }
  sum = weighted = 0.0;
  for (int l = 0; l < kLanes; ++l) {
    sum += s[l];
    weighted += w[l];
  }
}

void exp_sums(const float* x, int V, float m, double& sum, double& weighted) { exp_sums_f32(x, V, m, sum, weighted); }

// exp_sums_f32 that also adds each e_i to the sums of the classes token i belongs to, in token
// order (a fixed order), while the chunk's exponentials are still in L1.
__attribute__((target_clones("avx512f", "avx2", "default"))) void exp_sums_f32_classes(
    const float* x, int V, float m, const std::uint8_t* masks, int n_classes, double& sum, double& weighted,
    double* class_sums) {
  constexpr int kLanes = 16, kChunk = 1024;
  double s[kLanes] = {}, w[kLanes] = {};
  float e[kChunk];
  for (int c = 0; c < n_classes; ++c) class_sums[c] = 0.0;
  for (int c0 = 0; c0 < V; c0 += kChunk) {
    const int n = std::min(kChunk, V - c0);
    const float* xc = x + c0;
    for (int i = 0; i < n; ++i) e[i] = kernels::fast_exp(xc[i] - m);
    int i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const double d = static_cast<double>(xc[i + l]) - m;
        s[l] += e[i + l];
        w[l] += d > -87.0 ? e[i + l] * d : 0.0;
      }
    }
    for (int l = 0; i < n; ++i, ++l) {
      const double d = static_cast<double>(xc[i]) - m;
      s[l] += e[i];
      w[l] += d > -87.0 ? e[i] * d : 0.0;
    }
    const std::uint8_t* mc = masks + c0;
    for (int k = 0; k < n; ++k) {
      const std::uint8_t bits = mc[k];
      if (!bits) continue;
      for (int c = 0; c < n_classes; ++c) {
        if (bits >> c & 1u) class_sums[c] += e[k];
      }
    }
  }
  sum = weighted = 0.0;
  for (int l = 0; l < kLanes; ++l) {
    sum += s[l];
    weighted += w[l];
  }
}

// float64 logits (doctor's reference path): libm exp throughout.
void exp_sums(const double* x, int V, double m, double& sum, double& weighted) {
  sum = weighted = 0.0;
  for (int i = 0; i < V; ++i) {
    const double d = x[i] - m;
    const double e = std::exp(d);
    sum += e;
    if (e > 0.0) weighted += e * d;
  }
}

// The largest of x[0..n), n >= 1, in 16 independent lanes (a loop that vectorizes; max is exact,
// so the order does not matter).
template <typename Scalar>
Scalar max_of(const Scalar* x, int n) {
  constexpr int kLanes = 16;
  Scalar lane[kLanes];
  for (int l = 0; l < kLanes; ++l) lane[l] = x[0];
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
  for (; i < n; ++i) lane[0] = x[i] > lane[0] ? x[i] : lane[0];
  Scalar m = lane[0];
  for (int l = 1; l < kLanes; ++l) m = lane[l] > m ? lane[l] : m;
  return m;
}

}  // namespace

template <typename Scalar>
TokenScore score_distribution(const Scalar* logits, int V) {
  // H = log Z - sum_i p_i x_i with Z = sum exp(x_i - m): computed as
  // log S - (sum e_i (x_i - m)) / S where e_i = exp(x_i - m), S = sum e_i.
  const Scalar m = max_of(logits, V);
  double s = 0.0, weighted = 0.0;
  exp_sums(logits, V, m, s, weighted);
  const double log_s = std::log(s);
  double entropy_nats = log_s - weighted / s;
  if (entropy_nats < 0.0) entropy_nats = 0.0;  // rounding near a one-hot distribution
  return {entropy_nats * kLog2e, static_cast<double>(m) + log_s};
}

namespace {
// Where row's surprisal goes (its sequence s holds T_s - 1 surprisals, so rows before it are
// offset by s), or -1 when the row is its sequence's last (no next token).
inline std::ptrdiff_t surprisal_index(const kernels::SequenceRows& sequences, int row) {
  const int s = sequences.sequence_of(row);
  return row + 1 < sequences.begin(s) + sequences.length(s) ? row - s : -1;
}
}  // namespace

template <typename Scalar>
void score_block(const Scalar* logits, int first_row, int rows, const std::int32_t* ids,
                 const kernels::SequenceRows& sequences, int V, double* entropy_bits, double* surprisal_bits,
                 const int* row_of) {
  kernels::rows_in_parallel(static_cast<std::size_t>(rows), static_cast<std::size_t>(V), [&](std::size_t r) {
    const std::size_t row = row_of ? static_cast<std::size_t>(row_of[r]) : static_cast<std::size_t>(first_row) + r;
    const Scalar* x = logits + r * V;
    TokenScore s = score_distribution(x, V);
    entropy_bits[row] = s.entropy_bits;
    const std::ptrdiff_t at = surprisal_index(sequences, static_cast<int>(row));
    if (surprisal_bits && at >= 0) surprisal_bits[at] = metrics::surprisal_bits(x, s, ids[row + 1]);
  });
}

void score_block_with_classes(const float* logits, int first_row, int rows, const std::int32_t* ids,
                              const kernels::SequenceRows& sequences, int V, const std::uint8_t* masks, int n_classes,
                              double* entropy_bits, double* surprisal_bits, double* log2_class_mass,
                              const int* row_of) {
  kernels::rows_in_parallel(static_cast<std::size_t>(rows), static_cast<std::size_t>(V), [&](std::size_t r) {
    const std::size_t row = row_of ? static_cast<std::size_t>(row_of[r]) : static_cast<std::size_t>(first_row) + r;
    const float* x = logits + r * V;
    const float m = max_of(x, V);
    double sum = 0.0, weighted = 0.0;
    double class_sums[kMaxTokenClasses];
    exp_sums_f32_classes(x, V, m, masks, n_classes, sum, weighted, class_sums);
    const double log_s = std::log(sum);
    double entropy_nats = log_s - weighted / sum;
    if (entropy_nats < 0.0) entropy_nats = 0.0;
    const TokenScore score{entropy_nats * kLog2e, static_cast<double>(m) + log_s};
    entropy_bits[row] = score.entropy_bits;
    const std::ptrdiff_t at = surprisal_index(sequences, static_cast<int>(row));
    if (surprisal_bits && at >= 0) surprisal_bits[at] = metrics::surprisal_bits(x, score, ids[row + 1]);
    for (int c = 0; c < n_classes; ++c) {
      log2_class_mass[row * static_cast<std::size_t>(n_classes) + c] =
          class_sums[c] > 0.0 ? (std::log(class_sums[c]) - log_s) * kLog2e : -HUGE_VAL;
    }
  });
}

template <typename Scalar>
void score_rows(const Scalar* logits, const std::int32_t* ids, int B, int T, int V, double* entropy_bits,
                double* surprisal_bits) {
  const std::vector<int> start = kernels::uniform_sequence_starts(B, T);
  score_block(logits, 0, B * T, ids, kernels::SequenceRows{start}, V, entropy_bits, surprisal_bits);
}

template TokenScore score_distribution<float>(const float*, int);
template TokenScore score_distribution<double>(const double*, int);
template void score_rows<float>(const float*, const std::int32_t*, int, int, int, double*, double*);
template void score_block<float>(const float*, int, int, const std::int32_t*, const kernels::SequenceRows&, int, double*,
                                 double*, const int*);
template void score_block<double>(const double*, int, int, const std::int32_t*, const kernels::SequenceRows&, int,
                                  double*, double*, const int*);
template void score_rows<double>(const double*, const std::int32_t*, int, int, int, double*, double*);

}  // namespace entroscope::metrics
