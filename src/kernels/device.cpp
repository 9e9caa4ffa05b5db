#include "kernels/device.h"

#include <utility>

#include "common/error.h"

namespace entroscope::kernels {

#if ENTROSCOPE_CUDA
namespace detail {
int cuda_device_count();       // device_kernels.cu
std::string cuda_device_text();  // device_kernels.cu

[[noreturn]] void cuda_failure(const char* call, const char* message) {
  fail("CUDA: {} failed: {}", call, message);
}
}  // namespace detail
#endif

std::string_view device_name(Device device) {
  switch (device) {
    case Device::kCpu: return "cpu";
    case Device::kCuda: return "cuda";
  }
  return "?";
}

Device parse_device(std::string_view text, std::string_view option) {
  if (text == "cpu") return Device::kCpu;
  if (text == "cuda") return Device::kCuda;
  fail("{}: unknown device '{}' (cpu, cuda)", option, text);
}

bool cuda_built() { return ENTROSCOPE_CUDA != 0; }

void require_cuda(std::string_view who) {
#if ENTROSCOPE_CUDA
  if (detail::cuda_device_count() == 0) fail("{}: --device cuda: no CUDA device is visible", who);
#else
  fail("{}: --device cuda: this build has no CUDA backend (configure with -DENTROSCOPE_CUDA=ON, see docs/gpu.md)", who);
#endif
}

#if !ENTROSCOPE_CUDA
// A CPU build: nothing ever holds device memory (require_cuda refuses first); these keep the
// device types linkable where the code that uses them is shared with the CPU path.
DeviceMemory& DeviceMemory::operator=(DeviceMemory&& other) noexcept {
  std::swap(ptr_, other.ptr_);
  std::swap(bytes_, other.bytes_);
  return *this;
}
DeviceMemory::~DeviceMemory() = default;
void DeviceMemory::reserve_bytes(std::size_t) { require_cuda("device memory"); }
void copy_to_device(void*, const void*, std::size_t) { require_cuda("device copy"); }
void copy_to_host(void*, const void*, std::size_t) { require_cuda("device copy"); }
void copy_on_device(void*, const void*, std::size_t) { require_cuda("device copy"); }
#endif

std::string cuda_device_description() {
  require_cuda("device");
#if ENTROSCOPE_CUDA
  return detail::cuda_device_text();
#else
  return {};
#endif
}

}  // namespace entroscope::kernels
