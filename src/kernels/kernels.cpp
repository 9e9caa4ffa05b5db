#include "kernels/kernels.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace entroscope::kernels {

void linear(float* out, const float* in, const float* weight, const float* bias, int M, int K, int N,
            WeightLayout layout) {
  // Start from the bias and accumulate the product onto it (beta = 1): one pass over out.
  float beta = 0.0f;
  if (bias) {
#pragma omp parallel for schedule(static)
    for (int m = 0; m < M; ++m) std::memcpy(out + static_cast<std::size_t>(m) * N, bias, sizeof(float) * N);
    beta = 1.0f;
  }
  if (layout == WeightLayout::kInOut) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, in, K, weight, N, beta, out, N);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, in, K, weight, K, beta, out, N);
  }
}

void layer_norm(float* out, const float* in, const float* gamma, const float* beta, int M, int D, double eps) {
#pragma omp parallel for schedule(static)
  for (int m = 0; m < M; ++m) {
    const float* x = in + static_cast<std::size_t>(m) * D;
    float* y = out + static_cast<std::size_t>(m) * D;
    double sum = 0.0;
    for (int i = 0; i < D; ++i) sum += x[i];
    double mean = sum / D;
    double sq = 0.0;
    for (int i = 0; i < D; ++i) {
      double d = x[i] - mean;
      sq += d * d;
    }
    double rstd = 1.0 / std::sqrt(sq / D + eps);
    for (int i = 0; i < D; ++i)
      y[i] = static_cast<float>((x[i] - mean) * rstd) * gamma[i] + beta[i];
  }
}

void gelu_tanh(float* x, std::size_t n) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(k * (v + 0.044715f * v * v * v)));
  }
}

void gelu_erf(float* x, std::size_t n) {
  const float inv_sqrt2 = 0.7071067811865476f;
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::erf(v * inv_sqrt2));
  }
}

void add(float* out, const float* a, const float* b, std::size_t n) {
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void rotary_tables(float* cos_table, float* sin_table, int T, int rotary_dims, double base) {
  int half = rotary_dims / 2;
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < half; ++i) {
      double inv_freq = 1.0 / std::pow(base, (2.0 * i) / rotary_dims);
      double angle = t * inv_freq;
      cos_table[static_cast<std::size_t>(t) * half + i] = static_cast<float>(std::cos(angle));
      sin_table[static_cast<std::size_t>(t) * half + i] = static_cast<float>(std::sin(angle));
    }
  }
}

void apply_rotary(float* qkv, const float* cos_table, const float* sin_table, int B, int T, int n_head,
                  int head_dim, int rotary_dims, QkvLayout layout) {
  if (rotary_dims == 0) return;
  const int half = rotary_dims / 2;
  const std::size_t row = static_cast<std::size_t>(3) * n_head * head_dim;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; ++b) {
    for (int t = 0; t < T; ++t) {
      float* token = qkv + (static_cast<std::size_t>(b) * T + t) * row;
      const float* c = cos_table + static_cast<std::size_t>(t) * half;
      const float* s = sin_table + static_cast<std::size_t>(t) * half;
      for (int h = 0; h < n_head; ++h) {
        for (int part = 0; part < 2; ++part) {  // q, then k
          float* x = token + h * layout.head_stride + part * layout.part_stride;
          for (int i = 0; i < half; ++i) {
            float x1 = x[i], x2 = x[i + half];
            x[i] = x1 * c[i] - x2 * s[i];
            x[i + half] = x2 * c[i] + x1 * s[i];
          }
        }
      }
    }
  }
}

void causal_attention(float* out, const float* qkv, int B, int T, int n_head, int head_dim, float scale,
                      QkvLayout layout) {
  const std::size_t row = static_cast<std::size_t>(3) * n_head * head_dim;
  const std::size_t out_row = static_cast<std::size_t>(n_head) * head_dim;
#pragma omp parallel
  {
    std::vector<float> scores(T);
    std::vector<float> acc(head_dim);
#pragma omp for collapse(3) schedule(static)
    for (int b = 0; b < B; ++b) {
      for (int h = 0; h < n_head; ++h) {
        for (int t = 0; t < T; ++t) {
          const float* seq = qkv + static_cast<std::size_t>(b) * T * row;
          const float* q = seq + t * row + h * layout.head_stride;
          float max_score = -INFINITY;
          for (int t2 = 0; t2 <= t; ++t2) {
            const float* k = seq + t2 * row + h * layout.head_stride + layout.part_stride;
            float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int i = 0; i < head_dim; ++i) dot += q[i] * k[i];
            scores[t2] = dot * scale;
            max_score = std::max(max_score, scores[t2]);
          }
          double sum = 0.0;
          for (int t2 = 0; t2 <= t; ++t2) {
            scores[t2] = std::exp(scores[t2] - max_score);
            sum += scores[t2];
          }
          std::fill(acc.begin(), acc.end(), 0.0f);
          for (int t2 = 0; t2 <= t; ++t2) {
            const float* v = seq + t2 * row + h * layout.head_stride + 2 * layout.part_stride;
            const float p = scores[t2];
#pragma omp simd
            for (int i = 0; i < head_dim; ++i) acc[i] += p * v[i];
          }
          float* o = out + (static_cast<std::size_t>(b) * T + t) * out_row + h * head_dim;
          const float inv = static_cast<float>(1.0 / sum);
          for (int i = 0; i < head_dim; ++i) o[i] = acc[i] * inv;
        }
      }
    }
  }
}

std::size_t find_non_finite(const float* x, std::size_t n) {
  // Vectorizable scan first (the common case: everything finite), then locate.
  bool all_finite = true;
  for (std::size_t i = 0; i < n; ++i) all_finite &= std::isfinite(x[i]);
  if (all_finite) return n;
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return i;
  return n;
}

}  // namespace entroscope::kernels
