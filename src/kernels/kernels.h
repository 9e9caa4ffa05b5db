#pragma once
// Every numeric kernel of the forward pass, as plain functions over flat row-major buffers.
// Shapes are given in the comments as [rows, width]. All of them compute in fp32 storage with a
// fixed reduction order (independent of thread count and of how many sequences are batched).
#include <cstddef>

namespace entroscope::kernels {

// How a weight matrix is stored. GPT-2's Conv1D stores [in, out] (y = x W + b); GPT-NeoX's
// nn.Linear stores [out, in] (y = x W^T + b).
enum class WeightLayout { kInOut, kOutIn };

// out[M, N] = in[M, K] * W + bias[N] (bias may be null). Through CBLAS sgemm.
void linear(float* out, const float* in, const float* weight, const float* bias, int M, int K, int N,
            WeightLayout layout);

// out[M, D] = (in - mean) / sqrt(var + eps) * gamma + beta per row; biased variance, statistics in
// double. out may alias in.
void layer_norm(float* out, const float* in, const float* gamma, const float* beta, int M, int D, double eps);

// In place over n values.
void gelu_tanh(float* x, std::size_t n);  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
void gelu_erf(float* x, std::size_t n);   // 0.5 x (1 + erf(x / sqrt(2)))

// out[n] = a[n] + b[n]; out may alias a or b.
void add(float* out, const float* a, const float* b, std::size_t n);

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
void apply_rotary(float* qkv, const float* cos_table, const float* sin_table, int B, int T, int n_head,
                  int head_dim, int rotary_dims, QkvLayout layout);
// cos/sin tables for positions 0..T-1: angle = pos / base^(2i / rotary_dims), computed in double.
void rotary_tables(float* cos_table, float* sin_table, int T, int rotary_dims, double base);

// Causal multi-head attention. qkv: [B*T, 3D] fused rows; out: [B*T, D] heads concatenated.
// scores = q.k * scale, masked to positions <= t, softmax, weighted sum of v.
void causal_attention(float* out, const float* qkv, int B, int T, int n_head, int head_dim, float scale,
                      QkvLayout layout);

// Index of the first non-finite value in x[0..n), or n when all are finite.
std::size_t find_non_finite(const float* x, std::size_t n);

}  // namespace entroscope::kernels
