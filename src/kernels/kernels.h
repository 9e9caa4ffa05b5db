#pragma once
// Every numeric kernel of the forward pass, as plain functions over flat row-major buffers.
// Shapes are given in the comments as [rows, width]. Scalar is float (the compute path) or double
// (doctor's float64 reference path); both are instantiated in kernels.cpp. Every reduction has a
// fixed order (independent of thread count and of how many sequences are batched).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace entroscope::kernels {

// The sequences of a packed batch: sequence s is rows [start[s], start[s + 1]) of every
// [rows, width] buffer, its positions 0 .. length - 1. Sequences of any lengths lie side by side
// (a [B, T] batch is start = 0, T, 2T, ..); every kernel gives each sequence the same bits as if
// it were alone.
struct SequenceRows {
  std::span<const int> start;  // sequences + 1 ascending offsets, start[0] = 0
  int sequences() const { return static_cast<int>(start.size()) - 1; }
  int rows() const { return start.back(); }
  int begin(int s) const { return start[static_cast<std::size_t>(s)]; }
  int length(int s) const { return start[static_cast<std::size_t>(s) + 1] - start[static_cast<std::size_t>(s)]; }
  int max_length() const {
    int m = 0;
    for (int s = 0; s < sequences(); ++s) m = std::max(m, length(s));
    return m;
  }
  // The sequence that holds `row`, and the row's position in it.
  int sequence_of(int row) const {
    return static_cast<int>(std::upper_bound(start.begin(), start.end(), row) - start.begin()) - 1;
  }
  int position_of(int row) const { return row - begin(sequence_of(row)); }
};

// The start offsets of B sequences of length T (a [B, T] batch): 0, T, .., B T.
inline std::vector<int> uniform_sequence_starts(int B, int T) {
  std::vector<int> start(static_cast<std::size_t>(std::max(B, 0)) + 1);
  for (std::size_t b = 0; b < start.size(); ++b) start[b] = static_cast<int>(b) * T;
  return start;
}

// How a weight matrix is stored. GPT-2's Conv1D stores [in, out] (y = x W + b); nn.Linear
// (every other family) stores [out, in] (y = x W^T + b).
enum class WeightLayout { kInOut, kOutIn };

// How a weight's elements are stored: as the compute scalar (float; double in doctor's float64
// reference) or as one of the 16-bit float formats checkpoints ship in. 16-bit weights stay 16-bit
// in memory and are widened (exactly) where they are read: while a GEMM panel is packed, when an
// embedding row is gathered. The results are therefore the bits of widening them at load, with
// half the resident memory.
enum class WeightType : std::uint8_t { kScalar, kF16, kBF16 };
std::string_view weight_type_name(WeightType type);  // "float32" (the compute scalar), "float16", "bfloat16"
// dst[0 .. n) = elements [first, first + n) of float weights stored as `type` (kScalar: float).
void widen_weights(float* dst, const void* weights, WeightType type, std::size_t first, std::size_t n);
// out[0 .. n) = n float16 values, exactly: the implementation for this CPU (F16C where it has
// it), chosen once; the GEMM packer calls it per run of a panel.
using F16Widener = void (*)(float* out, const std::uint16_t* src, std::size_t n);
F16Widener f16_widener();

// out[rows, N] = in[rows, K] * W + bias[N] (bias may be null), through CBLAS sgemm / dgemm. The
// fp32 forward does not use this (it uses kernels::gemm, gemm.h); doctor's float64 reference does.
// Deterministic by construction: optimized BLAS kernels round differently depending on the
// matrix shape (OpenBLAS's small-matrix kernels, for one), so every BLAS call here has a shape
// that depends only on the sequence's length and the weights: one call per sequence and per fixed
// block of kLinearColumnBlock output columns, whatever else is packed beside it and whatever the
// thread count. A sequence therefore gets the same bits alone or in a batch, on 1 thread or many.
inline constexpr int kLinearColumnBlock = 256;
template <typename Scalar>
void linear(Scalar* out, const Scalar* in, const Scalar* weight, const Scalar* bias, const SequenceRows& sequences,
            int K, int N, WeightLayout layout);

// out[M, D] = (in - mean) / sqrt(var + eps) * gamma + beta per row; biased variance, statistics in
// double; beta may be null (no bias). out may alias in.
template <typename Scalar>
void layer_norm(Scalar* out, const Scalar* in, const Scalar* gamma, const Scalar* beta, int M, int D, double eps);

// out[M, D] = in / sqrt(mean(in^2) + eps) * gamma per row (RMSNorm: no mean, no bias); the
// statistic in double. out may alias in.
template <typename Scalar>
void rms_norm(Scalar* out, const Scalar* in, const Scalar* gamma, int M, int D, double eps);

// RMSNorm in place over `groups` consecutive segments of `width` values starting at `offset` in
// each of M rows `row_stride` apart, every segment with the same gamma[width]: QK-norm per head
// (groups = heads, width = head_dim) or over a whole projection (groups = 1).
template <typename Scalar>
void rms_norm_segments(Scalar* x, int M, std::size_t row_stride, int offset, int groups, int width, const Scalar* gamma,
                       double eps);

// In place over n values.
template <typename Scalar>
void gelu_tanh(Scalar* x, std::size_t n);  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <typename Scalar>
void gelu_erf(Scalar* x, std::size_t n);   // 0.5 x (1 + erf(x / sqrt(2)))
template <typename Scalar>
void relu(Scalar* x, std::size_t n);       // max(x, 0)
// SwiGLU: gate[n] = silu(gate[n]) * up[n], silu(x) = x / (1 + exp(-x)).
template <typename Scalar>
void silu_mul(Scalar* gate, const Scalar* up, std::size_t n);

// out[n] = a[n] + b[n]; out may alias a or b.
template <typename Scalar>
void add(Scalar* out, const Scalar* a, const Scalar* b, std::size_t n);

// Where q, k and v of each head lie inside one token's row of the qkv buffer. Query head h starts
// at q_offset + h * q_head_stride; key/value head g at k_offset / v_offset + g * kv_head_stride.
// Query head h reads key/value head h / (n_head / n_kv_head) (grouped-query attention shares each
// key/value head with a contiguous group of query heads; with n_kv_head = n_head it is MHA).
struct QkvLayout {
  int row;  // values per token row
  int q_offset, k_offset, v_offset;
  int q_head_stride, kv_head_stride;
  // q | k | v blocks (GPT-2's c_attn, and separate projections written side by side).
  static QkvLayout blocks(int n_head, int n_kv_head, int head_dim) {
    return {(n_head + 2 * n_kv_head) * head_dim, 0, n_head * head_dim, (n_head + n_kv_head) * head_dim, head_dim,
            head_dim};
  }
  // Per head [q k v] (GPT-NeoX's query_key_value).
  static QkvLayout per_head(int n_head, int head_dim) {
    return {3 * n_head * head_dim, 0, head_dim, 2 * head_dim, 3 * head_dim, 3 * head_dim};
  }
};

// Rotary position embedding applied in place to the first `rotary_dims` dims of every q and k
// head. Pairs (i, i + rotary_dims/2) (rotate_half) or, `interleaved`, (2i, 2i+1) (GPT-J's
// rotate_every_two); pair i turns by angle pos * inv_freq[i], pos = the row's position in its
// sequence. cos/sin: [max length, rotary_dims / 2].
template <typename Scalar>
void apply_rotary(Scalar* qkv, const Scalar* cos_table, const Scalar* sin_table, const SequenceRows& sequences,
                  QkvLayout layout, int n_head, int n_kv_head, int rotary_dims, bool interleaved);
// cos/sin tables for positions 0..T-1: angle = pos * inv_freq[i], computed in double.
template <typename Scalar>
void rotary_tables(Scalar* cos_table, Scalar* sin_table, int T, const double* inv_freq, int half);

// Queries per attention block: one GEMM pair per (sequence, head, block).
inline constexpr int kAttentionQueryBlock = 64;

// Causal attention with grouped-query heads, each sequence attending only to itself. qkv:
// [rows, layout.row]; out: [rows, n_head * head_dim] heads concatenated. scores = q.k * scale over
// keys j <= i of the same sequence (and i - window < j when window > 0), softmax, weighted sum of
// v. Each (sequence, key/value head)'s keys and values are packed once and shared by its query
// heads.
template <typename Scalar>
void causal_attention(Scalar* out, const Scalar* qkv, const SequenceRows& sequences, QkvLayout layout, int n_head,
                      int n_kv_head, int head_dim, Scalar scale, int window);

// Index of the first non-finite value in x[0..n), or n when all are finite.
template <typename Scalar>
std::size_t find_non_finite(const Scalar* x, std::size_t n);

// x[i] as float, for messages (the device overload copies the one value back).
template <typename Scalar>
float element_value(const Scalar* x, std::size_t i) {
  return static_cast<float>(x[i]);
}

}  // namespace entroscope::kernels

// The GPU scalar's overloads of the kernels above: declared before any template that calls them.
#include "kernels/device.h"
