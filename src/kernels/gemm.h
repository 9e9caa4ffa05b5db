#pragma once
// The fp32 GEMM of the forward pass: y[M, N] = x[M, K] W + bias, with W packed once at load.
//
// Why not the BLAS: an optimized BLAS rounds differently depending on the matrix shape, the
// thread count and the CPU (kernel choice, k-splitting, small-matrix paths), and repacks the
// weights on every call. Here every output element is one chain of fused multiply-adds in
// ascending k, starting from its bias:
//     acc = bias[n];  for k = 0..K-1: acc = fma(x[m, k], W[k, n], acc);  y[m, n] = acc
// That definition does not mention tiles, vector widths or threads, so every implementation of
// it (AVX-512, AVX2+FMA, portable std::fma) gives the same bits, for any M, any batching and any
// thread count: a researcher on another x86 or ARM machine gets identical logits.
//
// Packing: W is stored (as float, whatever the checkpoint's dtype) as panels of kPanelWidth
// output columns; panel p holds W[k, 32p..32p+31]
// for k = 0..K-1 contiguously ([K, 32] row-major), zero-padded past N. The micro-kernel streams
// one panel while broadcasting x values: no strided weight access, no per-call packing.
#include <cstddef>
#include <string_view>

#include "common/aligned_buffer.h"
#include "kernels/kernels.h"

namespace entroscope::kernels {

inline constexpr int kPanelWidth = 32;

// A weight matrix where it lies (e.g. memory-mapped): the map from K inputs to N outputs, with
// W[k, n] at element k * ld + n (kInOut, GPT-2 Conv1D) or n * ld + k (kOutIn, nn.Linear) of
// `data`, stored as `type` (16-bit weights are widened exactly while panels are packed).
struct WeightView {
  const void* data;
  int K, N;
  WeightLayout layout;
  std::size_t ld;
  WeightType type = WeightType::kScalar;
};

// W packed ahead of time, for weights reused by many GEMM calls (the LM head over row blocks,
// attention's keys and values over query blocks).
class PackedMatrix {
 public:
  PackedMatrix() = default;
  explicit PackedMatrix(const WeightView& w) { pack(w); }
  // (Re)packs, reusing the storage when it is large enough. Parallel over panels (the pool,
  // kernels/parallel.h) unless small or called from inside a parallel region.
  void pack(const WeightView& w);

  int inputs() const { return K_; }   // K
  int outputs() const { return N_; }  // N
  int panels() const { return (N_ + kPanelWidth - 1) / kPanelWidth; }
  const float* panel(int p) const { return data_.data() + static_cast<std::size_t>(p) * K_ * kPanelWidth; }
  std::size_t bytes() const { return static_cast<std::size_t>(panels()) * K_ * kPanelWidth * sizeof(float); }
  // W[k, n] (the weight from input k to output n).
  float at(int k, int n) const {
    return panel(n / kPanelWidth)[static_cast<std::size_t>(k) * kPanelWidth + n % kPanelWidth];
  }

 private:
  int K_ = 0, N_ = 0;
  AlignedBuffer<float> data_;
};

// y[M, N] (row stride ldy) = x[M, K] (row stride ldx) W + bias[N] (bias may be null).
// Parallel over panels of W (kernels/parallel.h); results do not depend on the split. This overload packs
// each panel of W on the fly, once per call, into a small per-thread buffer (as a BLAS does):
// the weights themselves stay where they are, memory-mapped, never copied whole.
void gemm(float* y, std::size_t ldy, const float* x, std::size_t ldx, int M, const WeightView& w, const float* bias);
void gemm(float* y, std::size_t ldy, const float* x, std::size_t ldx, int M, const PackedMatrix& w, const float* bias);
// Single-threaded, for callers that parallelize over independent GEMMs themselves; uses only the
// first K inputs and first N outputs of w (a prefix of the keys / values in attention).
void gemm_serial(float* y, std::size_t ldy, const float* x, std::size_t ldx, int M, const PackedMatrix& w, int K,
                 int N);

// Which micro-kernel gemm_packed uses on this CPU: "avx512", "avx2" or "portable". `force` (tests,
// benchmarks) selects one explicitly: "" restores automatic choice; a kernel the CPU lacks throws.
std::string_view gemm_kernel_name();
void force_gemm_kernel(std::string_view name);

}  // namespace entroscope::kernels
