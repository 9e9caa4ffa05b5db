#pragma once
// Every numeric kernel of the forward pass, as plain functions over flat row-major buffers.
// Shapes are given in the comments as [rows, width]. Scalar is float (the compute path) or double
// (doctor's float64 reference path); both are instantiated in kernels.cpp. Every reduction has a
// fixed order (independent of thread count and of how many sequences are batched).
#include <cstddef>

namespace entroscope::kernels {

// How a weight matrix is stored. GPT-2's Conv1D stores [in, out] (y = x W + b); GPT-NeoX's
// nn.Linear stores [out, in] (y = x W^T + b).
enum class WeightLayout { kInOut, kOutIn };

// out[B*T, N] = in[B*T, K] * W + bias[N] (bias may be null), through CBLAS sgemm / dgemm. The fp32
// forward does not use this (it uses kernels::gemm, gemm.h); doctor's float64 reference does.
// Deterministic by construction: optimized BLAS kernels round differently depending on the
// matrix shape (OpenBLAS's small-matrix kernels, for one), so every BLAS call here has a shape
// that depends only on T and the weights: one call per sequence and per fixed block of
// kLinearColumnBlock output columns, whatever B and the thread count are. A sequence therefore gets
// the same bits alone or in a batch, on 1 thread or many.
inline constexpr int kLinearColumnBlock = 256;
template <typename Scalar>
void linear(Scalar* out, const Scalar* in, const Scalar* weight, const Scalar* bias, int B, int T, int K, int N,
            WeightLayout layout);

// out[M, D] = (in - mean) / sqrt(var + eps) * gamma + beta per row; biased variance, statistics in
// double. out may alias in.
template <typename Scalar>
void layer_norm(Scalar* out, const Scalar* in, const Scalar* gamma, const Scalar* beta, int M, int D, double eps);

// In place over n values.
template <typename Scalar>
void gelu_tanh(Scalar* x, std::size_t n);  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <typename Scalar>
void gelu_erf(Scalar* x, std::size_t n);   // 0.5 x (1 + erf(x / sqrt(2)))

// out[n] = a[n] + b[n]; out may alias a or b.
template <typename Scalar>
void add(Scalar* out, const Scalar* a, const Scalar* b, std::size_t n);

// Where q, k and v of head h start inside one token's fused qkv row:
// q = h * head_stride, k = q + part_stride, v = q + 2 part_stride.
// GPT-2 (three contiguous blocks): head_stride = head_dim, part_stride = d_model.
// GPT-NeoX (per-head [q k v]):     head_stride = 3 head_dim, part_stride = head_dim.
struct QkvLayout {
  int head_stride;
  int part_stride;
};

// Rotary position embedding (rotate-half convention) applied in place to the first `rotary_dims`
// dims of every q and k head. cos/sin: [T, rotary_dims / 2]. qkv: [B*T, 3D].
template <typename Scalar>
void apply_rotary(Scalar* qkv, const Scalar* cos_table, const Scalar* sin_table, int B, int T, int n_head,
                  int head_dim, int rotary_dims, QkvLayout layout);
// cos/sin tables for positions 0..T-1: angle = pos / base^(2i / rotary_dims), computed in double.
template <typename Scalar>
void rotary_tables(Scalar* cos_table, Scalar* sin_table, int T, int rotary_dims, double base);

// Queries per attention block: one GEMM pair per (sequence, head, block).
inline constexpr int kAttentionQueryBlock = 64;

// Causal multi-head attention. qkv: [B*T, 3D] fused rows; out: [B*T, D] heads concatenated.
// scores = q.k * scale, masked to positions <= t, softmax, weighted sum of v.
template <typename Scalar>
void causal_attention(Scalar* out, const Scalar* qkv, int B, int T, int n_head, int head_dim, Scalar scale,
                      QkvLayout layout);

// Index of the first non-finite value in x[0..n), or n when all are finite.
template <typename Scalar>
std::size_t find_non_finite(const Scalar* x, std::size_t n);

}  // namespace entroscope::kernels
