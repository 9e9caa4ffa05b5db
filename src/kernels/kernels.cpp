#include "kernels/kernels.h"

#include "common/half_float.h"
#include "kernels/fast_exp.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "kernels/threads.h"

#include <cblas.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace entroscope::kernels {

namespace {

void gemm(CBLAS_TRANSPOSE trans_b, int M, int N, int K, const float* a, int lda, const float* b, int ldb, float beta,
          float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b, M, N, K, 1.0f, a, lda, b, ldb, beta, c, ldc);
}
void gemm(CBLAS_TRANSPOSE trans_b, int M, int N, int K, const double* a, int lda, const double* b, int ldb,
          double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, trans_b, M, N, K, 1.0, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

std::string_view weight_type_name(WeightType type) {
  switch (type) {
    case WeightType::kScalar: return "float32";
    case WeightType::kF16: return "float16";
    case WeightType::kBF16: return "bfloat16";
  }
  return "?";
}

namespace {

#if defined(__x86_64__)
// F16C's conversion: the bits of f16_to_f32 for every non-NaN half (it is exact and ignores
// MXCSR's DAZ), NaNs quieted (a NaN weight stops the forward either way). Widening one value at
// a time in software cost float16 checkpoints 10-12% of a T=512 forward; with it, ~0.
__attribute__((target("avx,f16c"))) void widen_f16_f16c(float* out, const std::uint16_t* src, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) out[i] = f16_to_f32(src[i]);
}

// CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports has no "f16c"); "avx" also checks
// that the OS saves the YMM registers.
bool cpu_has_f16c() {
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __builtin_cpu_supports("avx") && __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
}
#endif

void widen_f16_portable(float* out, const std::uint16_t* src, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = f16_to_f32(src[i]);
}

}  // namespace

F16Widener f16_widener() {
#if defined(__x86_64__)
  static const F16Widener chosen = cpu_has_f16c() ? widen_f16_f16c : widen_f16_portable;
  return chosen;
#else
  return widen_f16_portable;
#endif
}

void widen_weights(float* dst, const void* weights, WeightType type, std::size_t first, std::size_t n) {
  switch (type) {
    case WeightType::kScalar:
      std::memcpy(dst, static_cast<const float*>(weights) + first, n * sizeof(float));
      return;
    case WeightType::kF16:
      f16_widener()(dst, static_cast<const std::uint16_t*>(weights) + first, n);
      return;
    case WeightType::kBF16: {
      const std::uint16_t* src = static_cast<const std::uint16_t*>(weights) + first;
      for (std::size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
      return;
    }
  }
}

template <typename Scalar>
void linear(Scalar* out, const Scalar* in, const Scalar* weight, const Scalar* bias, const SequenceRows& sequences,
            int K, int N, WeightLayout layout) {
  // One thread pool for everything: the BLAS runs single-threaded (threads.cpp) and ours
  // distributes (sequence, column block) tiles; two pools (ours and OpenBLAS's own) would
  // oversubscribe the cores.
  static const bool blas_configured = (blas_single_threaded(), true);
  (void)blas_configured;
  const int column_blocks = (N + kLinearColumnBlock - 1) / kLinearColumnBlock;
  parallel_for(static_cast<std::size_t>(sequences.sequences()) * column_blocks, [&](std::size_t tile) {
    const int s = static_cast<int>(tile / column_blocks), j = static_cast<int>(tile % column_blocks);
    const int n0 = j * kLinearColumnBlock, n1 = std::min(N, n0 + kLinearColumnBlock);
    const int T = sequences.length(s);
    const Scalar* x = in + static_cast<std::size_t>(sequences.begin(s)) * K;
    Scalar* y = out + static_cast<std::size_t>(sequences.begin(s)) * N;
    // Start from the bias and accumulate the product onto it (beta = 1): one pass over y.
    Scalar beta = 0;
    if (bias) {
      for (int t = 0; t < T; ++t)
        std::memcpy(y + static_cast<std::size_t>(t) * N + n0, bias + n0, sizeof(Scalar) * (n1 - n0));
      beta = 1;
    }
    if (layout == WeightLayout::kInOut)  // W [K, N]: columns n0..n1
      gemm(CblasNoTrans, T, n1 - n0, K, x, K, weight + n0, N, beta, y + n0, N);
    else  // W [N, K]: rows n0..n1
      gemm(CblasTrans, T, n1 - n0, K, x, K, weight + static_cast<std::size_t>(n0) * K, K, beta, y + n0, N);
  });
}

template <typename Scalar>
void layer_norm(Scalar* out, const Scalar* in, const Scalar* gamma, const Scalar* beta, int M, int D, double eps) {
  auto row = [&](std::size_t m) {
    const Scalar* x = in + m * D;
    Scalar* y = out + m * D;
    double sum = 0.0;
    for (int i = 0; i < D; ++i) sum += x[i];
    double mean = sum / D;
    double sq = 0.0;
    for (int i = 0; i < D; ++i) {
      double d = x[i] - mean;
      sq += d * d;
    }
    double rstd = 1.0 / std::sqrt(sq / D + eps);
    if (beta) {
      for (int i = 0; i < D; ++i) y[i] = static_cast<Scalar>((x[i] - mean) * rstd) * gamma[i] + beta[i];
    } else {
      for (int i = 0; i < D; ++i) y[i] = static_cast<Scalar>((x[i] - mean) * rstd) * gamma[i];
    }
  };
  rows_in_parallel(M, D, row);
}

namespace {
// One RMSNorm segment: y = x / sqrt(mean(x^2) + eps) * gamma (as transformers: normalize in
// float, round, then scale by the weight).
template <typename Scalar>
inline void rms_segment(Scalar* y, const Scalar* x, const Scalar* gamma, int D, double eps) {
  double sq = 0.0;
  for (int i = 0; i < D; ++i) sq += static_cast<double>(x[i]) * x[i];
  const double rstd = 1.0 / std::sqrt(sq / D + eps);
  for (int i = 0; i < D; ++i) y[i] = static_cast<Scalar>(x[i] * rstd) * gamma[i];
}
}  // namespace

template <typename Scalar>
void rms_norm(Scalar* out, const Scalar* in, const Scalar* gamma, int M, int D, double eps) {
  rows_in_parallel(M, D, [&](std::size_t m) { rms_segment(out + m * D, in + m * D, gamma, D, eps); });
}

template <typename Scalar>
void rms_norm_segments(Scalar* x, int M, std::size_t row_stride, int offset, int groups, int width, const Scalar* gamma,
                       double eps) {
  rows_in_parallel(M, static_cast<std::size_t>(groups) * width, [&](std::size_t m) {
    for (int g = 0; g < groups; ++g) {
      Scalar* seg = x + m * row_stride + offset + static_cast<std::size_t>(g) * width;
      rms_segment(seg, seg, gamma, width, eps);
    }
  });
}

// The fp32 GELU (tanh form) is the MLP's most expensive non-GEMM step (libm tanhf per element):
// 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)) with u = sqrt(2/pi) (x + 0.044715 x^3), evaluated with
// the vectorizable fast_exp; the double path (doctor's reference) keeps std::tanh.
namespace {
__attribute__((target_clones("avx512f", "avx2", "default"))) void gelu_tanh_f32(float* x, std::size_t n) {
  const float k = 0.7978845608028654f;
  const float c = 0.044715f;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = k * (v + c * v * v * v);
    x[i] = v / (1.0f + fast_exp(-2.0f * u));
  }
}
}  // namespace

template <typename Scalar>
void gelu_tanh(Scalar* x, std::size_t n) {
  if constexpr (std::is_same_v<Scalar, float>) {
    constexpr std::size_t kChunk = 4096;
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
    elements_in_parallel(chunks, kChunk, [&](std::size_t first, std::size_t end) {
      for (std::size_t c = first; c < end; ++c) gelu_tanh_f32(x + c * kChunk, std::min(kChunk, n - c * kChunk));
    });
  } else {
    const Scalar k = static_cast<Scalar>(0.7978845608028654);  // sqrt(2 / pi)
    const Scalar c = static_cast<Scalar>(0.044715);
    elements_in_parallel(n, 1, [&](std::size_t first, std::size_t end) {
      for (std::size_t i = first; i < end; ++i) {
        Scalar v = x[i];
        x[i] = Scalar(0.5) * v * (Scalar(1) + std::tanh(k * (v + c * v * v * v)));
      }
    });
  }
}

template <typename Scalar>
void gelu_erf(Scalar* x, std::size_t n) {
  const Scalar inv_sqrt2 = static_cast<Scalar>(0.7071067811865476);
  elements_in_parallel(n, 1, [&](std::size_t first, std::size_t end) {
    for (std::size_t i = first; i < end; ++i) {
      Scalar v = x[i];
      x[i] = Scalar(0.5) * v * (Scalar(1) + std::erf(v * inv_sqrt2));
    }
  });
}

template <typename Scalar>
void relu(Scalar* x, std::size_t n) {
  elements_in_parallel(n, 1, [&](std::size_t first, std::size_t end) {
    for (std::size_t i = first; i < end; ++i) x[i] = x[i] > Scalar(0) ? x[i] : Scalar(0);
  });
}

namespace {
__attribute__((target_clones("avx512f", "avx2", "default"))) void silu_mul_f32(float* gate, const float* up,
                                                                              std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + fast_exp(-g)) * up[i];
  }
}
}  // namespace

template <typename Scalar>
void silu_mul(Scalar* gate, const Scalar* up, std::size_t n) {
  constexpr std::size_t kChunk = 4096;
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  elements_in_parallel(chunks, kChunk, [&](std::size_t chunk_begin, std::size_t chunk_end) {
    for (std::size_t c = chunk_begin; c < chunk_end; ++c) {
      const std::size_t first = c * kChunk, count = std::min(kChunk, n - first);
      if constexpr (std::is_same_v<Scalar, float>) {
        silu_mul_f32(gate + first, up + first, count);
      } else {
        for (std::size_t i = first; i < first + count; ++i) gate[i] = gate[i] / (Scalar(1) + std::exp(-gate[i])) * up[i];
      }
    }
  });
}

template <typename Scalar>
void add(Scalar* out, const Scalar* a, const Scalar* b, std::size_t n) {
  elements_in_parallel(n, 1, [&](std::size_t first, std::size_t end) {
    for (std::size_t i = first; i < end; ++i) out[i] = a[i] + b[i];
  });
}

template <typename Scalar>
void rotary_tables(Scalar* cos_table, Scalar* sin_table, int T, const double* inv_freq, int half) {
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < half; ++i) {
      double angle = t * inv_freq[i];
      cos_table[static_cast<std::size_t>(t) * half + i] = static_cast<Scalar>(std::cos(angle));
      sin_table[static_cast<std::size_t>(t) * half + i] = static_cast<Scalar>(std::sin(angle));
    }
  }
}

template <typename Scalar>
void apply_rotary(Scalar* qkv, const Scalar* cos_table, const Scalar* sin_table, const SequenceRows& sequences,
                  QkvLayout layout, int n_head, int n_kv_head, int rotary_dims, bool interleaved) {
  if (rotary_dims == 0) return;
  const int half = rotary_dims / 2;
  auto rotate = [&](Scalar* x, const Scalar* c, const Scalar* s) {
    for (int i = 0; i < half; ++i) {
      const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;  // the pair
      Scalar x1 = x[a], x2 = x[b];
      x[a] = x1 * c[i] - x2 * s[i];
      x[b] = x2 * c[i] + x1 * s[i];
    }
  };
  rows_in_parallel(sequences.rows(), static_cast<std::size_t>(n_head + n_kv_head) * rotary_dims, [&](std::size_t row) {
    const int t = sequences.position_of(static_cast<int>(row));
    Scalar* token = qkv + row * layout.row;
    const Scalar* c = cos_table + static_cast<std::size_t>(t) * half;
    const Scalar* s = sin_table + static_cast<std::size_t>(t) * half;
    for (int h = 0; h < n_head; ++h) rotate(token + layout.q_offset + h * layout.q_head_stride, c, s);
    for (int g = 0; g < n_kv_head; ++g) rotate(token + layout.k_offset + g * layout.kv_head_stride, c, s);
  });
}

namespace {

// One row of causal softmax in place: s[first..visible) scaled, exponentiated and normalized,
// s[0..first) and s[visible..total) set to 0 (masked keys then contribute exactly nothing to P V).
// The sum runs in 16 fixed float64 lanes, so every vector width gives the same bits.
__attribute__((target_clones("avx512f", "avx2", "default"))) void causal_softmax_row(float* s, int first, int visible,
                                                                                   int total, float scale) {
  // Flat loops and per-lane reductions (16 fixed lanes), so that each one vectorizes.
  constexpr int kLanes = 16;
  for (int j = 0; j < first; ++j) s[j] = 0.0f;
  float* v = s + first;
  const int n = visible - first;
  for (int j = 0; j < n; ++j) v[j] *= scale;
  float lane_max[kLanes];
  for (int l = 0; l < kLanes; ++l) lane_max[l] = -INFINITY;
  int j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_max[l] = v[j + l] > lane_max[l] ? v[j + l] : lane_max[l];
  for (int l = 0; j < n; ++j, ++l) lane_max[l] = v[j] > lane_max[l] ? v[j] : lane_max[l];
  float max_score = lane_max[0];
  for (int l = 1; l < kLanes; ++l) max_score = lane_max[l] > max_score ? lane_max[l] : max_score;

  for (j = 0; j < n; ++j) v[j] = fast_exp(v[j] - max_score);
  double lane_sum[kLanes] = {};
  for (j = 0; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_sum[l] += v[j + l];
  for (int l = 0; j < n; ++j, ++l) lane_sum[l] += v[j];
  double sum = 0.0;
  for (int l = 0; l < kLanes; ++l) sum += lane_sum[l];
  const float inv = static_cast<float>(1.0 / sum);
  for (j = 0; j < n; ++j) v[j] *= inv;
  for (j = visible; j < total; ++j) s[j] = 0.0f;
}

// The first key query i sees: 0, or i - window + 1 with a local window.
inline int first_visible_key(int i, int window) { return window > 0 ? std::max(0, i - window + 1) : 0; }

// fp32 attention on the packed GEMM (kernels/gemm.h): per (sequence, key/value head) the keys and
// values are packed once and shared by the group's query heads (each thread walks consecutive
// query heads, so it repacks only when the group changes); each block of kAttentionQueryBlock
// queries uses the prefix up to its last query. With a local window shorter than the sequence,
// each block packs just the keys its queries can see (O(T window) work instead of O(T^2)).
void causal_attention_f32(float* out, const float* qkv, const SequenceRows& sequences, QkvLayout layout, int n_head,
                          int n_kv_head, int head_dim, float scale, int window) {
  const std::size_t row = layout.row;  // ld of q, k, v
  const std::size_t out_row = static_cast<std::size_t>(n_head) * head_dim;
  const int group = n_head / n_kv_head;
  const int max_T = sequences.max_length();
  auto heads = [&](int worker, int workers) {
    PackedMatrix keys, values;  // this worker's, reused across heads
    PackedMatrix block_keys, block_values;  // a local window's keys and values for one query block
    int packed_b = -1, packed_g = -1;
    std::vector<float> scores(static_cast<std::size_t>(kAttentionQueryBlock) * max_T);  // [rows, keys]
    const Share share = static_share(static_cast<std::size_t>(sequences.sequences()) * n_head, worker, workers);
    for (std::size_t bh = share.begin; bh < share.end; ++bh) {
      {
        const int b = static_cast<int>(bh / n_head), h = static_cast<int>(bh % n_head);
        const int T = sequences.length(b);
        // A window shorter than the sequence: each query block packs only the keys it can see.
        const bool local = window > 0 && window < T;
        const float* seq = qkv + static_cast<std::size_t>(sequences.begin(b)) * row;
        const int g = h / group;
        if (!local && (b != packed_b || g != packed_g)) {
          const float* k = seq + layout.k_offset + g * layout.kv_head_stride;  // [T, hd], rows `row` apart
          const float* v = seq + layout.v_offset + g * layout.kv_head_stride;  // [T, hd]
          keys.pack({k, head_dim, T, WeightLayout::kOutIn, row});    // scores = q K^T: the map hd -> T
          values.pack({v, T, head_dim, WeightLayout::kInOut, row});  // context = P V: the map T -> hd
          packed_b = b;
          packed_g = g;
        }
        for (int i0 = 0; i0 < T; i0 += kAttentionQueryBlock) {
          const int rows = std::min(kAttentionQueryBlock, T - i0), visible_end = i0 + rows;
          const float* q = seq + static_cast<std::size_t>(i0) * row + layout.q_offset + h * layout.q_head_stride;
          float* o = out + (static_cast<std::size_t>(sequences.begin(b)) + i0) * out_row + h * head_dim;  // [rows, hd]
          // Keys [key0, visible_end): the whole prefix, or with a window only those the block's
          // first query can see (its own small packing). Skipped keys have softmax weight exactly 0,
          // so the results are the same either way.
          const int key0 = local ? first_visible_key(i0, window) : 0, n_keys = visible_end - key0;
          const PackedMatrix* k_packed = &keys;
          const PackedMatrix* v_packed = &values;
          if (local) {
            const float* k = seq + static_cast<std::size_t>(key0) * row + layout.k_offset + g * layout.kv_head_stride;
            const float* v = seq + static_cast<std::size_t>(key0) * row + layout.v_offset + g * layout.kv_head_stride;
            block_keys.pack({k, head_dim, n_keys, WeightLayout::kOutIn, row});
            block_values.pack({v, n_keys, head_dim, WeightLayout::kInOut, row});
            k_packed = &block_keys;
            v_packed = &block_values;
          }
          gemm_serial(scores.data(), n_keys, q, row, rows, *k_packed, head_dim, n_keys);
          for (int r = 0; r < rows; ++r)
            causal_softmax_row(scores.data() + static_cast<std::size_t>(r) * n_keys,
                               first_visible_key(i0 + r, window) - key0, i0 + r + 1 - key0, n_keys, scale);
          gemm_serial(o, out_row, scores.data(), n_keys, rows, *v_packed, n_keys, head_dim);
        }
      }
    }
  };
  // Demo-sized attention (a few heads of a dozen tokens) is cheaper than waking the pool.
  std::size_t work = 0;
  for (int b = 0; b < sequences.sequences(); ++b) {
    const std::size_t T = static_cast<std::size_t>(sequences.length(b));
    work += static_cast<std::size_t>(n_head) * T * std::min(T, window > 0 ? static_cast<std::size_t>(window) : T) * head_dim;
  }
  if (work < 16 * kSerialBelowElements)
    run_on_this_thread(heads);
  else
    run_region(heads);
}

}  // namespace

template <typename Scalar>
void causal_attention(Scalar* out, const Scalar* qkv, const SequenceRows& sequences, QkvLayout layout, int n_head,
                      int n_kv_head, int head_dim, Scalar scale, int window) {
  if constexpr (std::is_same_v<Scalar, float>) {
    causal_attention_f32(out, qkv, sequences, layout, n_head, n_kv_head, head_dim, scale, window);
  } else {
    // float64 (doctor's reference) through the BLAS.
    // Per (sequence, head, block of kAttentionQueryBlock queries): scores = Q K^T over the keys up to
    // the block's last query (one GEMM), causal softmax per row, then context = P V (one GEMM).
    // GEMM shapes depend only on the sequence's length and the block's position, so what else is
    // packed beside a sequence does not change any bit.
    const int row = layout.row;  // ld of q, k, v inside the fused rows
    const int out_row = n_head * head_dim;
    const int group = n_head / n_kv_head;
    // Every (sequence, query block), each then taken for every head.
    std::vector<std::pair<int, int>> query_blocks;  // (sequence, first query)
    for (int b = 0; b < sequences.sequences(); ++b)
      for (int i0 = 0; i0 < sequences.length(b); i0 += kAttentionQueryBlock) query_blocks.emplace_back(b, i0);
    const int max_T = sequences.max_length();
    // Blocks differ in cost (later ones see more keys): workers take the next one as they finish.
    std::atomic<std::size_t> next_block{0};
    const std::size_t blocks = query_blocks.size() * static_cast<std::size_t>(n_head);
    run_region([&](int, int) {
      std::vector<Scalar> scores(static_cast<std::size_t>(kAttentionQueryBlock) * max_T);  // [rows, keys]
      for (std::size_t block = next_block++; block < blocks; block = next_block++) {
        {
          {
            const auto [b, i0] = query_blocks[block / n_head];
            const int h = static_cast<int>(block % n_head);
            const int T = sequences.length(b);
            const int rows = std::min(kAttentionQueryBlock, T - i0);
            const int keys = i0 + rows;
            const int g = h / group;
            const Scalar* seq = qkv + static_cast<std::size_t>(sequences.begin(b)) * row;
            const Scalar* q = seq + static_cast<std::size_t>(i0) * row + layout.q_offset + h * layout.q_head_stride;
            const Scalar* k = seq + layout.k_offset + g * layout.kv_head_stride;  // [keys, hd]
            const Scalar* v = seq + layout.v_offset + g * layout.kv_head_stride;  // [keys, hd]
            gemm(CblasTrans, rows, keys, head_dim, q, row, k, row, Scalar(0), scores.data(), keys);
            for (int r = 0; r < rows; ++r) {
              Scalar* s = scores.data() + static_cast<std::size_t>(r) * keys;
              const int t = i0 + r;  // keys first..t are visible
              const int first = first_visible_key(t, window);
              Scalar max_score = -INFINITY;
              for (int j = first; j <= t; ++j) {
                s[j] *= scale;
                max_score = std::max(max_score, s[j]);
              }
              double sum = 0.0;
              for (int j = first; j <= t; ++j) {
                s[j] = std::exp(s[j] - max_score);
                sum += s[j];
              }
              const Scalar inv = static_cast<Scalar>(1.0 / sum);
              for (int j = first; j <= t; ++j) s[j] *= inv;
              for (int j = 0; j < first; ++j) s[j] = 0;      // outside the window
              for (int j = t + 1; j < keys; ++j) s[j] = 0;  // masked: contributes exactly nothing
            }
            Scalar* o = out + (static_cast<std::size_t>(sequences.begin(b)) + i0) * out_row + h * head_dim;  // [rows, hd]
            gemm(CblasNoTrans, rows, head_dim, keys, scores.data(), keys, v, row, Scalar(0), o, out_row);
          }
        }
      }
    });
  }
}

namespace {
// True when every value is finite: exponent bits all ones means Inf or NaN. Integer ops only, so
// the scan vectorizes.
template <typename Scalar>
bool all_finite(const Scalar* x, std::size_t n) {
  using Bits = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits kExponent = sizeof(Scalar) == 4 ? Bits(0x7F800000u) : Bits(0x7FF0000000000000ull);
  Bits bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, x + i, sizeof b);
    bad |= static_cast<Bits>((b & kExponent) == kExponent);
  }
  return bad == 0;
}
}  // namespace

template <typename Scalar>
std::size_t find_non_finite(const Scalar* x, std::size_t n) {
  if (all_finite(x, n)) return n;  // the common case, fast
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return i;
  return n;
}

#define ES_INSTANTIATE_KERNELS(S)                                                                            \
  template void linear<S>(S*, const S*, const S*, const S*, const SequenceRows&, int, int, WeightLayout);       \
  template void layer_norm<S>(S*, const S*, const S*, const S*, int, int, double);                           \
  template void rms_norm<S>(S*, const S*, const S*, int, int, double);                                       \
  template void rms_norm_segments<S>(S*, int, std::size_t, int, int, int, const S*, double);                 \
  template void gelu_tanh<S>(S*, std::size_t);                                                               \
  template void gelu_erf<S>(S*, std::size_t);                                                                \
  template void relu<S>(S*, std::size_t);                                                                    \
  template void silu_mul<S>(S*, const S*, std::size_t);                                                      \
  template void add<S>(S*, const S*, const S*, std::size_t);                                                 \
  template void rotary_tables<S>(S*, S*, int, const double*, int);                                           \
  template void apply_rotary<S>(S*, const S*, const S*, const SequenceRows&, QkvLayout, int, int, int, bool);  \
  template void causal_attention<S>(S*, const S*, const SequenceRows&, QkvLayout, int, int, int, S, int);      \
  template std::size_t find_non_finite<S>(const S*, std::size_t);
ES_INSTANTIATE_KERNELS(float)
ES_INSTANTIATE_KERNELS(double)
#undef ES_INSTANTIATE_KERNELS

}  // namespace entroscope::kernels
