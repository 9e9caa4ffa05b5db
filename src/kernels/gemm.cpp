#include "kernels/gemm.h"


#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>

#include "common/error.h"
#include "common/half_float.h"
#include "kernels/parallel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ES_GEMM_X86 1
#endif

namespace entroscope::kernels {

namespace {

// Panel p of w (columns 32p..32p+31, zero-padded past N) as [K, 32] at dst. `widen` turns stored
// Elements into floats, either one at a time (float(Element)) or a contiguous run at a time
// (void(float* out, const Element* src, int n), for vector conversions).
template <typename Element, typename Widen>
void pack_panel_from(float* dst, const WeightView& w, int p, Widen widen) {
  constexpr bool kOneAtATime = std::is_invocable_r_v<float, Widen, Element>;
  const Element* data = static_cast<const Element*>(w.data);
  const int n0 = p * kPanelWidth, width = std::min(kPanelWidth, w.N - n0);
  if (w.layout == WeightLayout::kInOut) {  // rows of W are contiguous in n
    for (int k = 0; k < w.K; ++k) {
      float* d = dst + static_cast<std::size_t>(k) * kPanelWidth;
      const Element* src = data + k * w.ld + n0;
      if constexpr (kOneAtATime) {
        if (width == kPanelWidth) {
          for (int j = 0; j < kPanelWidth; ++j) d[j] = widen(src[j]);  // a fixed-size copy, inlined
        } else {
          for (int j = 0; j < kPanelWidth; ++j) d[j] = j < width ? widen(src[j]) : 0.0f;
        }
      } else {
        widen(d, src, width);
        std::fill(d + width, d + kPanelWidth, 0.0f);
      }
    }
  } else {  // columns of W are contiguous in k: transpose `width` of them into the panel
    // In blocks of 16 k (one cache line of each source column), so the writes stay in a few lines.
    if (width < kPanelWidth) std::fill(dst, dst + static_cast<std::size_t>(w.K) * kPanelWidth, 0.0f);
    constexpr int kBlock = 16;
    for (int k0 = 0; k0 < w.K; k0 += kBlock) {
      const int k1 = std::min(w.K, k0 + kBlock);
      for (int j = 0; j < width; ++j) {
        const Element* src = data + (n0 + j) * w.ld;
        if constexpr (kOneAtATime) {
          for (int k = k0; k < k1; ++k) dst[static_cast<std::size_t>(k) * kPanelWidth + j] = widen(src[k]);
        } else {
          float run[kBlock];
          widen(run, src + k0, k1 - k0);
          for (int k = k0; k < k1; ++k) dst[static_cast<std::size_t>(k) * kPanelWidth + j] = run[k - k0];
        }
      }
    }
  }
}

void pack_panel(float* dst, const WeightView& w, int p) {
  switch (w.type) {
    case WeightType::kScalar: return pack_panel_from<float>(dst, w, p, [](float v) { return v; });
    case WeightType::kF16: {  // runs, so that F16C converts 8 at a time
      const F16Widener widen = f16_widener();
      return pack_panel_from<std::uint16_t>(dst, w, p, [widen](float* out, const std::uint16_t* src, int n) {
        widen(out, src, static_cast<std::size_t>(n));
      });
    }
    case WeightType::kBF16: return pack_panel_from<std::uint16_t>(dst, w, p, bf16_to_f32);
  }
}

}  // namespace

void PackedMatrix::pack(const WeightView& w) {
  K_ = w.K;
  N_ = w.N;
  const std::size_t floats = static_cast<std::size_t>(panels()) * K_ * kPanelWidth;
  if (data_.size() < floats) data_.resize(floats);
  const int n_panels = panels();
  auto pack_one = [&](std::size_t p) {
    pack_panel(data_.data() + p * K_ * kPanelWidth, w, static_cast<int>(p));
  };
  // Small matrices (attention's per-head keys, demo weights) are packed on the calling thread.
  if (floats < kSerialBelowElements)
    for (int p = 0; p < n_panels; ++p) pack_one(static_cast<std::size_t>(p));
  else
    parallel_for(static_cast<std::size_t>(n_panels), pack_one);
}

namespace {

// The input rows of one row block, interleaved: xp[k * MR + r] = x[m0 + r, k] (rows past M are 0),
// so the micro-kernel broadcasts from one advancing pointer.
template <int MR>
void pack_rows(float* xp, const float* x, std::size_t ldx, int rows, int K) {
  if (rows < MR) std::fill(xp, xp + static_cast<std::size_t>(K) * MR, 0.0f);
  // k outer: contiguous writes, `rows` sequential read streams.
  for (int k = 0; k < K; ++k) {
    float* d = xp + static_cast<std::size_t>(k) * MR;
    for (int r = 0; r < rows; ++r) d[r] = x[r * ldx + k];
  }
}

// One tile: y[0..rows, 0..cols) of an MR x 32 block (y row stride ldy) from a packed row block and
// one weight panel. Every kernel computes acc = bias; acc = fma(x, w, acc) over k ascending.
struct Tile {
  float* y;
  std::size_t ldy;
  const float* xp;     // [K, MR]
  const float* panel;  // [K, 32]
  const float* bias;   // [cols] or null
  int K, rows, cols;
};

// Portable: std::fma is exactly the fused operation the SIMD kernels use.
constexpr int kPortableRows = 4;
void tile_portable(const Tile& t) {
  constexpr int MR = kPortableRows;
  float acc[MR][kPanelWidth];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < kPanelWidth; ++j) acc[r][j] = (t.bias && j < t.cols) ? t.bias[j] : 0.0f;
  for (int k = 0; k < t.K; ++k) {
    const float* w = t.panel + static_cast<std::size_t>(k) * kPanelWidth;
    const float* a = t.xp + static_cast<std::size_t>(k) * MR;
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < kPanelWidth; ++j) acc[r][j] = std::fma(a[r], w[j], acc[r][j]);
  }
  for (int r = 0; r < t.rows; ++r) std::memcpy(t.y + r * t.ldy, acc[r], sizeof(float) * t.cols);
}

#ifdef ES_GEMM_X86
// AVX-512: 14 rows x 32 columns = 28 zmm accumulators, 2 zmm of weights per k, x broadcast from
// memory. The panel's two 16-column halves are independent chains, as everywhere.
constexpr int kAvx512Rows = 14;
template <int R>
__attribute__((target("avx512f"))) void tile_avx512_rows(const Tile& t) {
  const __mmask16 m0 = t.cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << t.cols) - 1);
  const __mmask16 m1 = t.cols >= 32 ? __mmask16(0xFFFF) : t.cols <= 16 ? __mmask16(0) : __mmask16((1u << (t.cols - 16)) - 1);
  const __m512 b0 = t.bias ? _mm512_maskz_loadu_ps(m0, t.bias) : _mm512_setzero_ps();
  const __m512 b1 = t.bias ? _mm512_maskz_loadu_ps(m1, t.bias + 16) : _mm512_setzero_ps();
  __m512 c0[R], c1[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    c0[r] = b0;
    c1[r] = b1;
  }
  const float* a = t.xp;
  const float* w = t.panel;
  for (int k = 0; k < t.K; ++k, a += kAvx512Rows, w += kPanelWidth) {
    const __m512 w0 = _mm512_load_ps(w), w1 = _mm512_load_ps(w + 16);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(a[r]);
      c0[r] = _mm512_fmadd_ps(x, w0, c0[r]);
      c1[r] = _mm512_fmadd_ps(x, w1, c1[r]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(t.y + r * t.ldy, m0, c0[r]);
    _mm512_mask_storeu_ps(t.y + r * t.ldy + 16, m1, c1[r]);
  }
}

template <int... R>
void tile_avx512_dispatch(const Tile& t, std::integer_sequence<int, R...>) {
  using Fn = void (*)(const Tile&);
  static constexpr Fn table[] = {&tile_avx512_rows<R + 1>...};
  table[t.rows - 1](t);
}
void tile_avx512(const Tile& t) { tile_avx512_dispatch(t, std::make_integer_sequence<int, kAvx512Rows>{}); }

// AVX2 + FMA: 16 ymm registers allow 6 rows x 16 columns (12 accumulators); the 32-column panel
// is done as two 16-column halves.
constexpr int kAvx2Rows = 6;
template <int R>
__attribute__((target("avx2,fma"))) void tile_avx2_rows(const Tile& t) {
  alignas(32) float bias[kPanelWidth] = {};
  if (t.bias) std::memcpy(bias, t.bias, sizeof(float) * t.cols);
  for (int half = 0; half < 2; ++half) {
    const int j0 = half * 16;
    if (j0 >= t.cols) break;
    const __m256 b0 = _mm256_load_ps(bias + j0), b1 = _mm256_load_ps(bias + j0 + 8);
    __m256 c0[R], c1[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      c0[r] = b0;
      c1[r] = b1;
    }
    const float* a = t.xp;
    const float* w = t.panel + j0;
    for (int k = 0; k < t.K; ++k, a += kAvx2Rows, w += kPanelWidth) {
      const __m256 w0 = _mm256_load_ps(w), w1 = _mm256_load_ps(w + 8);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 x = _mm256_broadcast_ss(a + r);
        c0[r] = _mm256_fmadd_ps(x, w0, c0[r]);
        c1[r] = _mm256_fmadd_ps(x, w1, c1[r]);
      }
    }
    // Masked stores (lanes j < n), unrolled so the accumulators never leave their registers.
    const __m256i n_cols = _mm256_set1_epi32(std::min(16, t.cols - j0));
    const __m256i mask0 = _mm256_cmpgt_epi32(n_cols, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i mask1 = _mm256_cmpgt_epi32(n_cols, _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      _mm256_maskstore_ps(t.y + r * t.ldy + j0, mask0, c0[r]);
      _mm256_maskstore_ps(t.y + r * t.ldy + j0 + 8, mask1, c1[r]);
    }
  }
}

template <int... R>
void tile_avx2_dispatch(const Tile& t, std::integer_sequence<int, R...>) {
  using Fn = void (*)(const Tile&);
  static constexpr Fn table[] = {&tile_avx2_rows<R + 1>...};
  table[t.rows - 1](t);
}
void tile_avx2(const Tile& t) { tile_avx2_dispatch(t, std::make_integer_sequence<int, kAvx2Rows>{}); }
#endif

struct Kernel {
  std::string_view name;
  int rows;  // MR
  void (*tile)(const Tile&);
  void (*pack)(float*, const float*, std::size_t, int, int);
};

constexpr Kernel kPortable{"portable", kPortableRows, &tile_portable, &pack_rows<kPortableRows>};
#ifdef ES_GEMM_X86
constexpr Kernel kAvx512{"avx512", kAvx512Rows, &tile_avx512, &pack_rows<kAvx512Rows>};
constexpr Kernel kAvx2{"avx2", kAvx2Rows, &tile_avx2, &pack_rows<kAvx2Rows>};
#endif

const Kernel* detect_kernel() {
#ifdef ES_GEMM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return &kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &kAvx2;
#endif
  return &kPortable;
}

const Kernel*& active_kernel() {
  static const Kernel* k = detect_kernel();
  return k;
}

}  // namespace

std::string_view gemm_kernel_name() { return active_kernel()->name; }

void force_gemm_kernel(std::string_view name) {
  if (name.empty()) {
    active_kernel() = detect_kernel();
    return;
  }
  if (name == "portable") {
    active_kernel() = &kPortable;
    return;
  }
#ifdef ES_GEMM_X86
  __builtin_cpu_init();
  if (name == "avx512" && __builtin_cpu_supports("avx512f")) {
    active_kernel() = &kAvx512;
    return;
  }
  if (name == "avx2" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    active_kernel() = &kAvx2;
    return;
  }
#endif
  fail("GEMM kernel '{}' is not available on this CPU", name);
}

namespace {

// Per-thread scratch: packed input rows and one packed weight panel.
struct Scratch {
  AlignedBuffer<float> rows, panel;
  float* reserve(AlignedBuffer<float>& b, std::size_t n) {
    if (b.size() < n) b.resize(n);
    return b.data();
  }
};
Scratch& scratch() {
  static thread_local Scratch s;
  return s;
}

// Tiles of panel p over every row block, the rows packed at xp.
void panel_tiles(const Kernel& kernel, float* y, std::size_t ldy, const float* xp, int M, int K, int N,
                 const float* panel, int p, const float* bias) {
  const int MR = kernel.rows;
  const std::size_t block_floats = static_cast<std::size_t>(K) * MR;
  const int n0 = p * kPanelWidth;
  for (int m0 = 0, rb = 0; m0 < M; m0 += MR, ++rb) {
    Tile t{y + m0 * ldy + n0, ldy, xp + rb * block_floats, panel, bias ? bias + n0 : nullptr,
           K,  std::min(MR, M - m0), std::min(kPanelWidth, N - n0)};
    kernel.tile(t);
  }
}

// This worker's share of the row blocks.
void pack_rows_share(const Kernel& kernel, float* xp, const float* x, std::size_t ldx, int M, int K, int worker,
                     int workers) {
  const int MR = kernel.rows;
  const std::size_t block_floats = static_cast<std::size_t>(K) * MR;
  const Share blocks = static_share(static_cast<std::size_t>((M + MR - 1) / MR), worker, workers);
  for (std::size_t rb = blocks.begin; rb < blocks.end; ++rb) {
    const int m0 = static_cast<int>(rb) * MR;
    kernel.pack(xp + rb * block_floats, x + m0 * ldx, ldx, std::min(MR, M - m0), K);
  }
}

// Products smaller than this many multiply-adds run on the calling thread (demo-sized layers:
// waking the pool would cost more than the product).
constexpr std::size_t kSerialBelowMultiplyAdds = std::size_t{1} << 17;

// The parallel driver: rows packed once (shared), then panels split over the threads; each
// thread gets its panel from `panel_of(p, scratch)` (pre-packed, or packed into scratch now).
template <typename PanelOf>
void gemm_parallel(float* y, std::size_t ldy, const float* x, std::size_t ldx, int M, int K, int N, const float* bias,
                   PanelOf panel_of) {
  if (M <= 0 || N <= 0) return;
  const Kernel& kernel = *active_kernel();
  const int MR = kernel.rows;
  const std::size_t rows_floats = static_cast<std::size_t>((M + MR - 1) / MR) * MR * K;
  float* xp = scratch().reserve(scratch().rows, rows_floats);  // this thread's, shared below
  const int n_panels = (N + kPanelWidth - 1) / kPanelWidth;
  auto body = [&](int worker, int workers) {
    pack_rows_share(kernel, xp, x, ldx, M, K, worker, workers);
    region_barrier();  // every row block packed before any panel uses them
    Scratch& mine = scratch();
    const Share panels = static_share(static_cast<std::size_t>(n_panels), worker, workers);
    for (std::size_t p = panels.begin; p < panels.end; ++p)
      panel_tiles(kernel, y, ldy, xp, M, K, N, panel_of(static_cast<int>(p), mine), static_cast<int>(p), bias);
  };
  if (static_cast<std::size_t>(M) * K * N < kSerialBelowMultiplyAdds)
    run_on_this_thread(body);
  else
    run_region(body);
}

}  // namespace

void gemm(float* y, std::size_t ldy, const float* x, std::size_t ldx, int M, const WeightView& w, const float* bias) {
  gemm_parallel(y, ldy, x, ldx, M, w.K, w.N, bias, [&](int p, Scratch& s) -> const float* {
    float* panel = s.reserve(s.panel, static_cast<std::size_t>(w.K) * kPanelWidth);
    pack_panel(panel, w, p);
    return panel;
  });
}

void gemm(float* y, std::size_t ldy, const float* x, std::size_t ldx, int M, const PackedMatrix& w, const float* bias) {
  gemm_parallel(y, ldy, x, ldx, M, w.inputs(), w.outputs(), bias,
                [&](int p, Scratch&) { return w.panel(p); });
}

void gemm_serial(float* y, std::size_t ldy, const float* x, std::size_t ldx, int M, const PackedMatrix& w, int K,
                 int N) {
  if (M <= 0 || N <= 0) return;
  const Kernel& kernel = *active_kernel();
  const int MR = kernel.rows;
  Scratch& s = scratch();
  float* xp = s.reserve(s.rows, static_cast<std::size_t>((M + MR - 1) / MR) * MR * K);
  const std::size_t block_floats = static_cast<std::size_t>(K) * MR;
  for (int m0 = 0; m0 < M; m0 += MR) kernel.pack(xp + (m0 / MR) * block_floats, x + m0 * ldx, ldx, std::min(MR, M - m0), K);
  // A panel of w is [w.K, 32]; its first K rows are the panel of the first K inputs.
  for (int p = 0; p < (N + kPanelWidth - 1) / kPanelWidth; ++p) panel_tiles(kernel, y, ldy, xp, M, K, N, w.panel(p), p, nullptr);
}

}  // namespace entroscope::kernels
