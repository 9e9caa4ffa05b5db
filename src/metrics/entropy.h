#pragma once
// Next-token entropy and surprisal from logits, in bits. Stable form: max-subtracted
// log-sum-exp with double accumulation, so a peaked 50k-way distribution loses nothing.
#include <cstdint>

#include "kernels/kernels.h"

namespace entroscope::metrics {

struct TokenScore {
  double entropy_bits;
  double log_normalizer;  // log sum exp(logits), natural log (for surprisal of any token)
};

// Entropy of softmax(logits[0..V)) in bits, and the log normalizer. Scalar: float or double
// logits (double: doctor's float64 reference path).
template <typename Scalar>
TokenScore score_distribution(const Scalar* logits, int V);

// -log2 softmax(logits)[token], given the normalizer from score_distribution.
template <typename Scalar>
double surprisal_bits(const Scalar* logits, const TokenScore& s, std::int32_t token) {
  constexpr double kLog2e = 1.4426950408889634;
  return (s.log_normalizer - static_cast<double>(logits[token])) * kLog2e;
}

// For rows [B, T] of logits [B*T, V] and ids [B, T]: entropy_bits [B*T], and when non-null
// surprisal_bits [B*(T-1)] of ids[b, t+1] under logits[b, t]. Parallel over rows; each row's
// reduction order is fixed.
template <typename Scalar>
void score_rows(const Scalar* logits, const std::int32_t* ids, int B, int T, int V, double* entropy_bits,
                double* surprisal_bits);

// The same for a block of rows [first_row, first_row + rows) of a packed batch (streamed logits),
// or with row_of, rows row_of[0 .. rows) (gathered head rows): `logits` holds just those rows.
// entropy_bits is indexed by row; surprisal_bits by row - s for a row of sequence s (each sequence
// has one fewer surprisal than tokens: for [B, T], b (T - 1) + t as in score_rows).
template <typename Scalar>
void score_block(const Scalar* logits, int first_row, int rows, const std::int32_t* ids,
                 const kernels::SequenceRows& sequences, int V, double* entropy_bits, double* surprisal_bits,
                 const int* row_of = nullptr);

// Token classes: up to 8 overlapping sets of vocabulary entries (bit c of masks[v] puts token v in
// set c), whose probability mass per row is wanted (the word-boundary sets of word surprisal).
inline constexpr int kMaxTokenClasses = 8;

// score_block plus, for each row, log2 of each class's probability mass, fused into the entropy's
// pass over the vocabulary: log2_class_mass[row * n_classes + c]. A class with no mass gets -inf.
// fp32 logits only (the scorer's path).
void score_block_with_classes(const float* logits, int first_row, int rows, const std::int32_t* ids,
                              const kernels::SequenceRows& sequences, int V, const std::uint8_t* masks, int n_classes,
                              double* entropy_bits, double* surprisal_bits, double* log2_class_mass,
                              const int* row_of = nullptr);

}  // namespace entroscope::metrics
