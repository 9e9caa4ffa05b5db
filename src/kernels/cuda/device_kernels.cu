// The CUDA backend's kernels (kernels/device.h). Plain, readable kernels: one block per row for
// norms and the logit reductions, a grid-stride loop for elementwise work, one tiled kernel for
// attention, cuBLAS for the projections. Every reduction has a fixed order relative to its row or
// sequence (per-thread strided sums, then a fixed tree), so results do not depend on the batch.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/kernels.h"

namespace entroscope::kernels {

namespace detail {
// Defined in device.cpp (host compiler): throws entroscope::Error with the message.
[[noreturn]] void cuda_failure(const char* call, const char* message);
}  // namespace detail

namespace {

void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) detail::cuda_failure(call, cudaGetErrorString(status));
}
void check_blas(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) detail::cuda_failure(call, cublasGetStatusString(status));
}
void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

constexpr int kRowThreads = 256;  // threads of the one-block-per-row kernels (a power of two)

int grid_for(std::size_t n, int threads) {
  const std::size_t blocks = (n + threads - 1) / threads;
  return static_cast<int>(blocks < 65535 * 16 ? (blocks == 0 ? 1 : blocks) : 65535 * 16);
}

// Small host arrays the kernels read (sequence starts, ids, row lists), uploaded per call into
// scratch that only grows. The device path is driven by one host thread at a time.
template <typename T>
const T* upload(DeviceBuffer<T>& scratch, const T* data, std::size_t n) {
  scratch.resize(n == 0 ? 1 : n);
  if (n) copy_to_device(scratch.data(), data, n * sizeof(T));
  return scratch.data();
}
DeviceBuffer<int> g_starts, g_rows, g_tasks;
DeviceBuffer<std::int32_t> g_ids;
DeviceBuffer<unsigned long long> g_found;

const int* upload_starts(const SequenceRows& sequences) {
  return upload(g_starts, sequences.start.data(), sequences.start.size());
}

// The sequence holding `row` (starts: sequences + 1 ascending offsets).
__device__ int sequence_of(const int* starts, int n_sequences, int row) {
  int lo = 0, hi = n_sequences - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (starts[mid] <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Sum over the block in a fixed tree; every thread gets the total.
__device__ double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();
  return total;
}

__device__ float block_max(float v, float* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] = fmaxf(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  const float m = shared[0];
  __syncthreads();
  return m;
}

// ---- norms ----

__global__ void layer_norm_kernel(float* out, const float* in, const float* gamma, const float* beta, int D,
                                  double eps) {
  __shared__ double shared[kRowThreads];
  const float* x = in + static_cast<std::size_t>(blockIdx.x) * D;
  float* y = out + static_cast<std::size_t>(blockIdx.x) * D;
  double sum = 0.0;
  for (int i = threadIdx.x; i < D; i += blockDim.x) sum += x[i];
  const double mean = block_sum(sum, shared) / D;
  double sq = 0.0;
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const double d = x[i] - mean;
    sq += d * d;
  }
  const double rstd = 1.0 / sqrt(block_sum(sq, shared) / D + eps);
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const float v = static_cast<float>((x[i] - mean) * rstd) * gamma[i];
    y[i] = beta ? v + beta[i] : v;
  }
}

// RMSNorm over segments: block (row, group) normalizes `width` values at
// x + row * row_stride + offset + group * width (out-of-place when in != out).
__global__ void rms_norm_kernel(float* out, const float* in, const float* gamma, std::size_t row_stride, int offset,
                                int width, double eps) {
  __shared__ double shared[kRowThreads];
  const std::size_t base = blockIdx.x * row_stride + offset + static_cast<std::size_t>(blockIdx.y) * width;
  const float* x = in + base;
  float* y = out + base;
  double sq = 0.0;
  for (int i = threadIdx.x; i < width; i += blockDim.x) sq += static_cast<double>(x[i]) * x[i];
  const double rstd = 1.0 / sqrt(block_sum(sq, shared) / width + eps);
  for (int i = threadIdx.x; i < width; i += blockDim.x) y[i] = static_cast<float>(x[i] * rstd) * gamma[i];
}

// ---- elementwise ----

__global__ void gelu_tanh_kernel(float* x, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float v = x[i];
    const float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    x[i] = 0.5f * v * (1.0f + tanhf(u));
  }
}
__global__ void gelu_erf_kernel(float* x, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + erff(v * 0.7071067811865476f));
  }
}
__global__ void relu_kernel(float* x, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
__global__ void silu_mul_kernel(float* gate, const float* up, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
  }
}
__global__ void add_kernel(float* out, const float* a, const float* b, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = a[i] + b[i];
}
// y[r, c] += bias[c] for r < rows, c < N (row stride ldy).
__global__ void add_bias_kernel(float* y, int ldy, const float* bias, int rows, int N) {
  const std::size_t n = static_cast<std::size_t>(rows) * N;
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t r = i / N, c = i % N;
    y[r * ldy + c] += bias[c];
  }
}

// ---- positions ----

__global__ void rotary_kernel(float* qkv, const float* cos_table, const float* sin_table, const int* starts,
                              int n_sequences, QkvLayout layout, int n_head, int n_kv_head, int half, bool interleaved) {
  const int row = blockIdx.x;
  const int t = row - starts[sequence_of(starts, n_sequences, row)];
  float* token = qkv + static_cast<std::size_t>(row) * layout.row;
  const float* c = cos_table + static_cast<std::size_t>(t) * half;
  const float* s = sin_table + static_cast<std::size_t>(t) * half;
  const int pairs = (n_head + n_kv_head) * half;
  for (int k = threadIdx.x; k < pairs; k += blockDim.x) {
    const int head = k / half, i = k % half;
    float* x = head < n_head ? token + layout.q_offset + head * layout.q_head_stride
                             : token + layout.k_offset + (head - n_head) * layout.kv_head_stride;
    const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
    const float x1 = x[a], x2 = x[b];
    x[a] = x1 * c[i] - x2 * s[i];
    x[b] = x2 * c[i] + x1 * s[i];
  }
}

__global__ void position_kernel(float* x, const float* table, const int* starts, int n_sequences, int offset, int D) {
  const int row = blockIdx.x;
  const int t = row - starts[sequence_of(starts, n_sequences, row)];
  const float* pos = table + static_cast<std::size_t>(t + offset) * D;
  float* y = x + static_cast<std::size_t>(row) * D;
  for (int i = threadIdx.x; i < D; i += blockDim.x) y[i] = y[i] + pos[i];
}

// ---- attention ----

// One block per (sequence, tile of kQueryTile queries) x query head. Keys in tiles of kKeyTile,
// aligned to the sequence's start, in ascending order: an online softmax (running max and sum per
// query) and the weighted sum of values, all in that fixed order, so a query's numbers depend only
// on its own sequence. Shared memory: Q [kQueryTile, hd], K or V [kKeyTile, hd + 1] (padded rows:
// no bank conflicts when threads read different keys), O [kQueryTile, hd], P [kQueryTile, kKeyTile].
constexpr int kQueryTile = 16, kKeyTile = 32, kAttentionThreads = 128;

struct AttentionTask {
  int start, length, first_query;
};

std::size_t attention_shared_bytes(int hd) {
  return sizeof(float) * (static_cast<std::size_t>(kQueryTile) * hd + static_cast<std::size_t>(kKeyTile) * (hd + 1) +
                          static_cast<std::size_t>(kQueryTile) * hd + kQueryTile * (kKeyTile + 1) + 3 * kQueryTile);
}

__global__ void attention_kernel(float* out, const float* qkv, const AttentionTask* tasks, QkvLayout layout,
                                 int n_head, int group, int hd, float scale, int window) {
  extern __shared__ float smem[];
  float* q_tile = smem;                                   // [kQueryTile, hd]
  float* kv_tile = q_tile + kQueryTile * hd;              // [kKeyTile, hd + 1]
  float* o_tile = kv_tile + kKeyTile * (hd + 1);          // [kQueryTile, hd]
  float* p_tile = o_tile + kQueryTile * hd;               // [kQueryTile, kKeyTile + 1]
  float* row_max = p_tile + kQueryTile * (kKeyTile + 1);  // [kQueryTile]
  float* row_sum = row_max + kQueryTile;
  float* row_scale = row_sum + kQueryTile;

  const AttentionTask task = tasks[blockIdx.x];
  const int h = blockIdx.y, g = h / group;
  const int q0 = task.first_query;
  const int nq = min(kQueryTile, task.length - q0);
  const std::size_t row0 = static_cast<std::size_t>(task.start);
  const int tid = threadIdx.x;

  for (int e = tid; e < kQueryTile * hd; e += blockDim.x) {
    const int qi = e / hd, d = e % hd;
    q_tile[e] = qi < nq ? qkv[(row0 + q0 + qi) * layout.row + layout.q_offset + h * layout.q_head_stride + d] : 0.0f;
    o_tile[e] = 0.0f;
  }
  if (tid < kQueryTile) {
    row_max[tid] = -INFINITY;
    row_sum[tid] = 0.0f;
  }
  const int last_query = q0 + nq - 1;
  const int first_key = window > 0 ? max(0, q0 - window + 1) : 0;
  for (int k0 = first_key / kKeyTile * kKeyTile; k0 <= last_query; k0 += kKeyTile) {
    __syncthreads();
    for (int e = tid; e < kKeyTile * hd; e += blockDim.x) {
      const int kj = e / hd, d = e % hd, j = k0 + kj;
      kv_tile[kj * (hd + 1) + d] =
          j < task.length ? qkv[(row0 + j) * layout.row + layout.k_offset + g * layout.kv_head_stride + d] : 0.0f;
    }
    __syncthreads();
    for (int e = tid; e < kQueryTile * kKeyTile; e += blockDim.x) {
      const int qi = e / kKeyTile, kj = e % kKeyTile;
      const int i = q0 + qi, j = k0 + kj;
      float s = -INFINITY;
      if (qi < nq && j <= i && (window <= 0 || j > i - window)) {
        const float* qv = q_tile + qi * hd;
        const float* kv = kv_tile + kj * (hd + 1);
        float dot = 0.0f;
        for (int d = 0; d < hd; ++d) dot = fmaf(qv[d], kv[d], dot);
        s = dot * scale;
      }
      p_tile[qi * (kKeyTile + 1) + kj] = s;
    }
    __syncthreads();
    if (tid < kQueryTile) {
      float* p = p_tile + tid * (kKeyTile + 1);
      float m = row_max[tid];
      for (int kj = 0; kj < kKeyTile; ++kj) m = fmaxf(m, p[kj]);
      const float old = row_max[tid];
      const float rescale = m == -INFINITY ? 1.0f : expf(old - m);  // old = -inf: exp gives 0, as wanted
      float sum = row_sum[tid] * rescale;
      for (int kj = 0; kj < kKeyTile; ++kj) {
        const float e = p[kj] == -INFINITY ? 0.0f : expf(p[kj] - m);
        p[kj] = e;
        sum += e;
      }
      row_max[tid] = m;
      row_sum[tid] = sum;
      row_scale[tid] = rescale;
    }
    __syncthreads();
    for (int e = tid; e < kKeyTile * hd; e += blockDim.x) {
      const int kj = e / hd, d = e % hd, j = k0 + kj;
      kv_tile[kj * (hd + 1) + d] =
          j < task.length ? qkv[(row0 + j) * layout.row + layout.v_offset + g * layout.kv_head_stride + d] : 0.0f;
    }
    __syncthreads();
    for (int e = tid; e < kQueryTile * hd; e += blockDim.x) {
      const int qi = e / hd, d = e % hd;
      const float* p = p_tile + qi * (kKeyTile + 1);
      float acc = o_tile[e] * row_scale[qi];
      for (int kj = 0; kj < kKeyTile; ++kj) acc = fmaf(p[kj], kv_tile[kj * (hd + 1) + d], acc);
      o_tile[e] = acc;
    }
  }
  __syncthreads();
  const int width = n_head * hd;
  for (int e = tid; e < nq * hd; e += blockDim.x) {
    const int qi = e / hd, d = e % hd;
    out[(row0 + q0 + qi) * width + h * hd + d] = o_tile[e] / row_sum[qi];
  }
}

// ---- checks, gathers, logits ----

__global__ void non_finite_kernel(const float* x, std::size_t n, unsigned long long* first) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    if (!isfinite(x[i])) atomicMin(first, static_cast<unsigned long long>(i));
}

__global__ void gather_kernel(float* dst, const float* src, const int* rows, int width) {
  const float* s = src + static_cast<std::size_t>(rows[blockIdx.x]) * width;
  float* d = dst + static_cast<std::size_t>(blockIdx.x) * width;
  for (int i = threadIdx.x; i < width; i += blockDim.x) d[i] = s[i];
}

__global__ void embedding_kernel(float* x, const float* table, const std::int32_t* ids, int E) {
  const float* s = table + static_cast<std::size_t>(ids[blockIdx.x]) * E;
  float* d = x + static_cast<std::size_t>(blockIdx.x) * E;
  for (int i = threadIdx.x; i < E; i += blockDim.x) d[i] = s[i];
}

constexpr int kMaxClasses = 8;
constexpr double kLog2e = 1.4426950408889634;

// One block per row: max, then sum e = exp(x - max) and sum e (x - max) in double (and the
// classes' sums), a fixed tree over the block's threads.
__global__ void logit_rows_kernel(const float* logits, int V, const std::int32_t* targets, const std::uint8_t* masks,
                                  int n_classes, double* out) {
  __shared__ double shared[kRowThreads];
  __shared__ float shared_max[kRowThreads];
  const float* x = logits + static_cast<std::size_t>(blockIdx.x) * V;
  float m = -INFINITY;
  for (int i = threadIdx.x; i < V; i += blockDim.x) m = fmaxf(m, x[i]);
  m = block_max(m, shared_max);
  double s = 0.0, w = 0.0, cls[kMaxClasses] = {};
  for (int i = threadIdx.x; i < V; i += blockDim.x) {
    const double d = static_cast<double>(x[i]) - m;
    const double e = exp(d);
    s += e;
    if (e > 0.0) w += e * d;
    if (n_classes > 0) {
      const unsigned bits = masks[i];
      for (int c = 0; c < n_classes; ++c)
        if (bits >> c & 1u) cls[c] += e;
    }
  }
  s = block_sum(s, shared);
  w = block_sum(w, shared);
  for (int c = 0; c < n_classes; ++c) cls[c] = block_sum(cls[c], shared);
  if (threadIdx.x == 0) {
    double* o = out + static_cast<std::size_t>(blockIdx.x) * (2 + n_classes);
    const double log_s = log(s);
    double entropy_nats = log_s - w / s;
    if (entropy_nats < 0.0) entropy_nats = 0.0;  // rounding near a one-hot distribution
    o[0] = entropy_nats * kLog2e;
    const int target = targets[blockIdx.x];
    o[1] = target >= 0 ? (static_cast<double>(m) + log_s - static_cast<double>(x[target])) * kLog2e : nan("");
    for (int c = 0; c < n_classes; ++c) o[2 + c] = log2(cls[c] / s);
  }
}

float* raw(GpuFloat* p) { return reinterpret_cast<float*>(p); }
const float* raw(const GpuFloat* p) { return reinterpret_cast<const float*>(p); }

// cuBLAS work runs on kLanes streams, each with its own handle and fixed workspace, so that the
// GEMMs of independent row blocks (and the attention of independent sequences) overlap. The streams
// are blocking streams: they wait for earlier work on the legacy default stream, where every other
// kernel here runs, and later default-stream work waits for them, so no explicit events are needed.
// A fixed workspace per handle keeps cuBLAS's choice of algorithm, and so the bits, a function of
// the shape alone.
constexpr int kLanes = 4;
struct BlasLane {
  cudaStream_t stream = nullptr;
  cublasHandle_t handle = nullptr;
  DeviceMemory workspace;
  DeviceBuffer<float> scores;  // attention scores of the sequence on this lane
};

BlasLane& blas_lane(int i) {
  static BlasLane lanes[kLanes];
  static bool ready = [] {
    constexpr std::size_t kWorkspaceBytes = 32u << 20;
    for (BlasLane& lane : lanes) {
      check(cudaStreamCreate(&lane.stream), "cudaStreamCreate");
      check_blas(cublasCreate(&lane.handle), "cublasCreate");
      check_blas(cublasSetStream(lane.handle, lane.stream), "cublasSetStream");
      // fp32 in, out and arithmetic (no TF32): cuBLAS's default math mode for sgemm.
      check_blas(cublasSetMathMode(lane.handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
      lane.workspace.reserve_bytes(kWorkspaceBytes);
      check_blas(cublasSetWorkspace(lane.handle, lane.workspace.get(), kWorkspaceBytes), "cublasSetWorkspace");
    }
    return true;
  }();
  (void)ready;
  return lanes[i % kLanes];
}

// Causal softmax in place over rows of scores [rows, T] (row r of a head's [T, T] block: query
// r % T), keys j <= i (and j > i - window when window > 0) kept, the others set to 0. One warp per
// row: lane-strided max and sum, then a butterfly over the lanes (a fixed order; every lane ends
// with the same value, fp addition being commutative).
constexpr int kSoftmaxThreads = 256;
__global__ void causal_softmax_kernel(float* scores, int rows, int T, int window) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
  if (row >= rows) return;  // whole warps
  const int i = row % T;
  float* s = scores + static_cast<std::size_t>(row) * T;
  const int first = window > 0 ? max(0, i - window + 1) : 0;
  float m = -INFINITY;
  for (int j = first + lane; j <= i; j += 32) m = fmaxf(m, s[j]);
  for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  float sum = 0.0f;
  for (int j = first + lane; j <= i; j += 32) sum += expf(s[j] - m);
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  const float inv = 1.0f / sum;
  for (int j = lane; j < T; j += 32) s[j] = (j >= first && j <= i) ? expf(s[j] - m) * inv : 0.0f;
}

// Attention of one sequence (rows [start, start + T)) through cuBLAS: per query head, scores =
// scale q k^T [T, T], causal softmax, out = P v. Grouped heads as G strided batches over the
// key/value heads. Shapes depend only on T and the model: the same bits whatever else is packed.
void sequence_attention(float* out, const float* qkv, int start, int T, QkvLayout layout, int n_head, int n_kv_head,
                        int hd, float scale, int window, BlasLane& lane) {
  const int G = n_head / n_kv_head;
  const std::size_t TT = static_cast<std::size_t>(T) * T;
  lane.scores.resize(static_cast<std::size_t>(n_head) * TT);
  float* scores = lane.scores.data();
  const float* rows = qkv + static_cast<std::size_t>(start) * layout.row;
  const float zero = 0.0f, one = 1.0f;
  const long long q_stride = static_cast<long long>(G) * layout.q_head_stride;
  for (int j = 0; j < G; ++j) {
    // Column-major: S^T [T(keys), T(queries)] = K^T Q for query heads h = g G + j, g = 0 .. KV-1.
    check_blas(cublasSgemmStridedBatched(lane.handle, CUBLAS_OP_T, CUBLAS_OP_N, T, T, hd, &scale,
                                         rows + layout.k_offset, layout.row, layout.kv_head_stride,
                                         rows + layout.q_offset + j * layout.q_head_stride, layout.row, q_stride, &zero,
                                         scores + j * TT, T, static_cast<long long>(G) * TT, n_kv_head),
               "cublasSgemmStridedBatched (attention scores)");
  }
  const int score_rows = n_head * T, warps_per_block = kSoftmaxThreads / 32;
  causal_softmax_kernel<<<(score_rows + warps_per_block - 1) / warps_per_block, kSoftmaxThreads, 0, lane.stream>>>(
      scores, score_rows, T, window);
  check_launch("causal_softmax");
  float* o = out + static_cast<std::size_t>(start) * n_head * hd;
  for (int j = 0; j < G; ++j) {
    // Column-major: O [hd, T] (ld H hd) = V [hd, T(keys)] P^T... i.e. O(d, i) = sum_j V(d, j) P(i, j).
    check_blas(cublasSgemmStridedBatched(lane.handle, CUBLAS_OP_N, CUBLAS_OP_N, hd, T, T, &one,
                                         rows + layout.v_offset, layout.row, layout.kv_head_stride, scores + j * TT, T,
                                         static_cast<long long>(G) * TT, &zero, o + j * hd, n_head * hd,
                                         static_cast<long long>(G) * hd, n_kv_head),
               "cublasSgemmStridedBatched (attention values)");
  }
}

// Sequences at least this long go through cuBLAS (sequence_attention); shorter ones, where a
// launch per sequence would cost more than the arithmetic, through attention_kernel, all in one
// launch. The choice depends only on the sequence's own length.
constexpr int kBlasAttentionMinLength = 64;

}  // namespace

// ---- memory ----

DeviceMemory& DeviceMemory::operator=(DeviceMemory&& other) noexcept {
  if (this != &other) {
    if (ptr_) cudaFree(ptr_);
    ptr_ = other.ptr_;
    bytes_ = other.bytes_;
    other.ptr_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}

DeviceMemory::~DeviceMemory() {
  if (ptr_) cudaFree(ptr_);
}

void DeviceMemory::reserve_bytes(std::size_t bytes) {
  if (bytes <= bytes_) return;
  if (ptr_) check(cudaFree(ptr_), "cudaFree");
  ptr_ = nullptr;
  bytes_ = 0;
  check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
  check(cudaMemset(ptr_, 0, bytes), "cudaMemset");
  bytes_ = bytes;
}

void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes) {
  check(cudaMemcpy(device_dst, host_src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to the device");
}
void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes) {
  check(cudaMemcpy(host_dst, device_src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
}
void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes) {
  check(cudaMemcpy(device_dst, device_src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy on the device");
}

namespace detail {
int cuda_device_count() {
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) detail::cuda_failure("cudaGetDeviceCount", cudaGetErrorString(status));
  return n;
}

std::string cuda_device_text() {
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  char text[512];
  std::snprintf(text, sizeof text, "%s (sm_%d%d, %.1f GiB), CUDA runtime %d.%d, driver %d.%d", p.name, p.major, p.minor,
                static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0), runtime / 1000,
                runtime % 1000 / 10, driver / 1000, driver % 1000 / 10);
  return text;
}
}  // namespace detail

// ---- the overloads ----

void layer_norm(GpuFloat* out, const GpuFloat* in, const GpuFloat* gamma, const GpuFloat* beta, int M, int D,
                double eps) {
  if (M <= 0) return;
  layer_norm_kernel<<<M, kRowThreads>>>(raw(out), raw(in), raw(gamma), raw(beta), D, eps);
  check_launch("layer_norm");
}

void rms_norm(GpuFloat* out, const GpuFloat* in, const GpuFloat* gamma, int M, int D, double eps) {
  if (M <= 0) return;
  rms_norm_kernel<<<dim3(M, 1), kRowThreads>>>(raw(out), raw(in), raw(gamma), static_cast<std::size_t>(D), 0, D, eps);
  check_launch("rms_norm");
}

void rms_norm_segments(GpuFloat* x, int M, std::size_t row_stride, int offset, int groups, int width,
                       const GpuFloat* gamma, double eps) {
  if (M <= 0 || groups <= 0) return;
  rms_norm_kernel<<<dim3(M, groups), kRowThreads>>>(raw(x), raw(x), raw(gamma), row_stride, offset, width, eps);
  check_launch("rms_norm_segments");
}

void gelu_tanh(GpuFloat* x, std::size_t n) {
  gelu_tanh_kernel<<<grid_for(n, 256), 256>>>(raw(x), n);
  check_launch("gelu_tanh");
}
void gelu_erf(GpuFloat* x, std::size_t n) {
  gelu_erf_kernel<<<grid_for(n, 256), 256>>>(raw(x), n);
  check_launch("gelu_erf");
}
void relu(GpuFloat* x, std::size_t n) {
  relu_kernel<<<grid_for(n, 256), 256>>>(raw(x), n);
  check_launch("relu");
}
void silu_mul(GpuFloat* gate, const GpuFloat* up, std::size_t n) {
  silu_mul_kernel<<<grid_for(n, 256), 256>>>(raw(gate), raw(up), n);
  check_launch("silu_mul");
}
void add(GpuFloat* out, const GpuFloat* a, const GpuFloat* b, std::size_t n) {
  add_kernel<<<grid_for(n, 256), 256>>>(raw(out), raw(a), raw(b), n);
  check_launch("add");
}

void rotary_tables(GpuFloat* cos_table, GpuFloat* sin_table, int T, const double* inv_freq, int half) {
  // Computed on the host in double exactly as the CPU path does, then uploaded.
  std::vector<float> c(static_cast<std::size_t>(T) * half), s(c.size());
  kernels::rotary_tables(c.data(), s.data(), T, inv_freq, half);
  copy_to_device(cos_table, c.data(), c.size() * sizeof(float));
  copy_to_device(sin_table, s.data(), s.size() * sizeof(float));
}

void apply_rotary(GpuFloat* qkv, const GpuFloat* cos_table, const GpuFloat* sin_table, const SequenceRows& sequences,
                  QkvLayout layout, int n_head, int n_kv_head, int rotary_dims, bool interleaved) {
  if (rotary_dims == 0 || sequences.rows() == 0) return;
  const int* starts = upload_starts(sequences);
  rotary_kernel<<<sequences.rows(), 128>>>(raw(qkv), raw(cos_table), raw(sin_table), starts, sequences.sequences(),
                                           layout, n_head, n_kv_head, rotary_dims / 2, interleaved);
  check_launch("apply_rotary");
}

void causal_attention(GpuFloat* out, const GpuFloat* qkv, const SequenceRows& sequences, QkvLayout layout, int n_head,
                      int n_kv_head, int head_dim, GpuFloat scale, int window) {
  std::vector<AttentionTask> tasks;
  int long_sequences = 0;
  for (int s = 0; s < sequences.sequences(); ++s) {
    const int T = sequences.length(s);
    if (T >= kBlasAttentionMinLength) {
      sequence_attention(raw(out), raw(qkv), sequences.begin(s), T, layout, n_head, n_kv_head, head_dim, scale.value,
                         window, blas_lane(long_sequences++));
      continue;
    }
    for (int q0 = 0; q0 < T; q0 += kQueryTile) tasks.push_back({sequences.begin(s), T, q0});
  }
  if (tasks.empty()) return;
  static_assert(sizeof(AttentionTask) == 3 * sizeof(int));
  const AttentionTask* device_tasks = reinterpret_cast<const AttentionTask*>(
      upload(g_tasks, reinterpret_cast<const int*>(tasks.data()), tasks.size() * 3));
  const std::size_t shared = attention_shared_bytes(head_dim);
  static std::size_t opted_in = 48 * 1024;
  if (shared > opted_in) {
    check(cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)),
          "cudaFuncSetAttribute (attention's shared memory)");
    opted_in = shared;
  }
  attention_kernel<<<dim3(static_cast<unsigned>(tasks.size()), n_head), kAttentionThreads, shared>>>(
      raw(out), raw(qkv), device_tasks, layout, n_head, n_head / n_kv_head, head_dim, scale.value, window);
  check_launch("causal_attention");
}

std::size_t find_non_finite(const GpuFloat* x, std::size_t n) {
  if (n == 0) return 0;
  g_found.resize(1);
  const unsigned long long none = n;
  copy_to_device(g_found.data(), &none, sizeof none);
  non_finite_kernel<<<grid_for(n, 256), 256>>>(raw(x), n, g_found.data());
  check_launch("find_non_finite");
  unsigned long long first = n;
  copy_to_host(&first, g_found.data(), sizeof first);
  return static_cast<std::size_t>(first);
}

float element_value(const GpuFloat* x, std::size_t i) {
  float v = 0.0f;
  copy_to_host(&v, x + i, sizeof v);
  return v;
}

void gather_embedding(GpuFloat* x, const GpuFloat* table, std::span<const std::int32_t> ids, int E) {
  if (ids.empty()) return;
  const std::int32_t* device_ids = upload(g_ids, ids.data(), ids.size());
  embedding_kernel<<<static_cast<unsigned>(ids.size()), 256>>>(raw(x), raw(table), device_ids, E);
  check_launch("gather_embedding");
}

void add_position_embedding(GpuFloat* x, const GpuFloat* table, const SequenceRows& sequences, int offset, int D) {
  if (sequences.rows() == 0) return;
  const int* starts = upload_starts(sequences);
  position_kernel<<<sequences.rows(), 256>>>(raw(x), raw(table), starts, sequences.sequences(), offset, D);
  check_launch("add_position_embedding");
}

void gemm(GpuFloat* y, int ldy, const GpuFloat* x, int K, int rows, const GpuFloat* weight, int N,
          WeightLayout layout, const GpuFloat* bias) {
  // Column-major view: Y^T [N, rows] = op(W) X^T, on blocks of exactly kDeviceGemmRows rows.
  const float one = 1.0f, zero = 0.0f;
  const bool in_out = layout == WeightLayout::kInOut;  // W [K, N] row-major = [N, K] column-major
  for (int r0 = 0, block = 0; r0 < rows; r0 += kDeviceGemmRows, ++block) {
    check_blas(cublasSgemm(blas_lane(block).handle, in_out ? CUBLAS_OP_N : CUBLAS_OP_T, CUBLAS_OP_N, N, kDeviceGemmRows, K, &one,
                           raw(weight), in_out ? N : K, raw(x) + static_cast<std::size_t>(r0) * K, K, &zero,
                           raw(y) + static_cast<std::size_t>(r0) * ldy, ldy),
               "cublasSgemm");
  }
  if (bias) {
    add_bias_kernel<<<grid_for(static_cast<std::size_t>(rows) * N, 256), 256>>>(raw(y), ldy, raw(bias), rows, N);
    check_launch("gemm bias");
  }
}

void gather_rows(GpuFloat* dst, const GpuFloat* src, std::span<const int> rows, int width) {
  if (rows.empty()) return;
  const int* device_rows = upload(g_rows, rows.data(), rows.size());
  gather_kernel<<<static_cast<unsigned>(rows.size()), 256>>>(raw(dst), raw(src), device_rows, width);
  check_launch("gather_rows");
}

void score_logit_rows(const GpuFloat* logits, int rows, int V, const std::int32_t* targets, const std::uint8_t* masks,
                      int n_classes, double* out) {
  if (rows <= 0) return;
  logit_rows_kernel<<<rows, kRowThreads>>>(raw(logits), V, targets, masks, n_classes, out);
  check_launch("score_logit_rows");
}

}  // namespace entroscope::kernels
