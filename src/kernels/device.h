#pragma once
// The CUDA backend (built with -DENTROSCOPE_CUDA=ON; off by default). Its kernels are in
// kernels/cuda/device_kernels.cu; this header declares them and compiles without CUDA.
//
// The forward's blocks and family forwards are templates on their scalar (float, double). GpuFloat
// is the third scalar: a pointer to it is a pointer into GPU memory (never dereferenced on the
// host), ActivationsT<GpuFloat> holds DeviceBuffers, and every kernels:: function the blocks call
// has an overload below. One forward definition therefore serves both backends; what only the
// device does differently (where the ids come from, how logits leave) is an `if constexpr
// (kOnDevice<Scalar>)` in the blocks.
//
// Numbers on the GPU: fp32 storage and arithmetic (no TF32), GEMMs through cuBLAS always called on
// blocks of exactly kDeviceGemmRows rows, so cuBLAS picks the same algorithm whatever the batch and
// a row's bits do not depend on what is packed beside it; every reduction in the kernels here has
// a fixed order relative to its sequence. GPU and CPU results agree within the fixtures'
// tolerances, not bit for bit (different summation orders).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace entroscope::kernels {

struct SequenceRows;
struct QkvLayout;
enum class WeightLayout;

enum class Device { kCpu, kCuda };
std::string_view device_name(Device device);  // "cpu", "cuda"
// "cpu" or "cuda"; anything else throws Error naming `option`.
Device parse_device(std::string_view text, std::string_view option = "--device");
// Whether this build has the CUDA backend.
bool cuda_built();
// Throws Error unless this build has the CUDA backend and a GPU is usable; `who` starts the message.
void require_cuda(std::string_view who);
// "NVIDIA H200 (sm_90, 139.8 GiB), CUDA runtime 13.0, driver 13.0", for results files; requires CUDA.
std::string cuda_device_description();

// The scalar of the GPU path: 4 bytes of fp32 in device memory.
struct GpuFloat {
  float value;
  GpuFloat() = default;
  explicit constexpr GpuFloat(double v) : value(static_cast<float>(v)) {}
};
template <typename Scalar>
inline constexpr bool kOnDevice = std::is_same_v<Scalar, GpuFloat>;

// GEMMs on the device run on blocks of exactly this many rows (the last one padded): buffers that a
// GEMM reads or writes hold device_padded_rows(rows) rows.
inline constexpr int kDeviceGemmRows = 4096;
inline int device_padded_rows(int rows) { return (rows + kDeviceGemmRows - 1) / kDeviceGemmRows * kDeviceGemmRows; }

// Device memory that only grows (zero-filled when it does); freed with the object.
class DeviceMemory {
 public:
  DeviceMemory() = default;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  DeviceMemory(DeviceMemory&& other) noexcept : ptr_(other.ptr_), bytes_(other.bytes_) {
    other.ptr_ = nullptr;
    other.bytes_ = 0;
  }
  DeviceMemory& operator=(DeviceMemory&& other) noexcept;
  ~DeviceMemory();
  void reserve_bytes(std::size_t bytes);
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

template <typename T>
class DeviceBuffer {
 public:
  void resize(std::size_t count) {
    memory_.reserve_bytes(count * sizeof(T));
    size_ = count;
  }
  T* data() { return static_cast<T*>(memory_.get()); }
  const T* data() const { return static_cast<const T*>(memory_.get()); }
  std::size_t size() const { return size_; }

 private:
  DeviceMemory memory_;
  std::size_t size_ = 0;
};

// Host <-> device copies (synchronous).
void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes);
void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes);
void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes);

// ---- the kernels::* overloads the blocks call (semantics as in kernels.h) ----
void layer_norm(GpuFloat* out, const GpuFloat* in, const GpuFloat* gamma, const GpuFloat* beta, int M, int D,
                double eps);
void rms_norm(GpuFloat* out, const GpuFloat* in, const GpuFloat* gamma, int M, int D, double eps);
void rms_norm_segments(GpuFloat* x, int M, std::size_t row_stride, int offset, int groups, int width,
                       const GpuFloat* gamma, double eps);
void gelu_tanh(GpuFloat* x, std::size_t n);
void gelu_erf(GpuFloat* x, std::size_t n);
void relu(GpuFloat* x, std::size_t n);
void silu_mul(GpuFloat* gate, const GpuFloat* up, std::size_t n);
void add(GpuFloat* out, const GpuFloat* a, const GpuFloat* b, std::size_t n);
void apply_rotary(GpuFloat* qkv, const GpuFloat* cos_table, const GpuFloat* sin_table, const SequenceRows& sequences,
                  QkvLayout layout, int n_head, int n_kv_head, int rotary_dims, bool interleaved);
void rotary_tables(GpuFloat* cos_table, GpuFloat* sin_table, int T, const double* inv_freq, int half);
void causal_attention(GpuFloat* out, const GpuFloat* qkv, const SequenceRows& sequences, QkvLayout layout, int n_head,
                      int n_kv_head, int head_dim, GpuFloat scale, int window);
std::size_t find_non_finite(const GpuFloat* x, std::size_t n);
float element_value(const GpuFloat* x, std::size_t i);

// ---- what only the device path calls ----
// x[r, 0..E) = table[ids[r], 0..E) for every row.
void gather_embedding(GpuFloat* x, const GpuFloat* table, std::span<const std::int32_t> ids, int E);
// x[r, :] += table[position(r) + offset, :] (learned absolute positions).
void add_position_embedding(GpuFloat* x, const GpuFloat* table, const SequenceRows& sequences, int offset, int D);
// y[rows, N] (row stride ldy) = x[rows, K] W + bias, W stored as `layout` ([K, N] kInOut, [N, K]
// kOutIn). x and y hold device_padded_rows(rows) rows (cuBLAS runs on fixed blocks of rows).
void gemm(GpuFloat* y, int ldy, const GpuFloat* x, int K, int rows, const GpuFloat* weight, int N,
          WeightLayout layout, const GpuFloat* bias);
// dst[i, :] = src[rows[i], :] (rows on the host).
void gather_rows(GpuFloat* dst, const GpuFloat* src, std::span<const int> rows, int width);
// For `rows` rows of logits [rows, V]: per row, entropy in bits; surprisal in bits of
// targets[r] (device array; < 0: none, NaN written); and, with n_classes > 0, log2 of the mass of
// each class (masks: device [V], bit c = class c). out (device): [rows, 2 + n_classes] doubles.
// Max-subtracted, exponentials and sums in double, fixed reduction order per row.
void score_logit_rows(const GpuFloat* logits, int rows, int V, const std::int32_t* targets, const std::uint8_t* masks,
                      int n_classes, double* out);

}  // namespace entroscope::kernels
