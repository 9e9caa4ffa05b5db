#pragma once
// Owned, 64-byte-aligned float storage: the destination for tensors that cannot be used in place
// from a memory-mapped file (misaligned or not fp32) and for activation buffers.
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace entroscope {

inline constexpr std::size_t kBufferAlignment = 64;

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count) { resize(count); }

  void resize(std::size_t count) { allocate(count, kBufferAlignment); }

  // resize() for large long-lived buffers (packed weights): 2 MB-aligned and, on Linux, marked
  // for transparent huge pages, so first touch costs one fault per 2 MB instead of per 4 KB.
  void resize_huge_pages(std::size_t count) {
    constexpr std::size_t kHugePage = std::size_t(2) << 20;
    if (count * sizeof(T) < 2 * kHugePage) return allocate(count, kBufferAlignment);
    allocate(count, kHugePage);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (data_) ::madvise(data_.get(), (count * sizeof(T) + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }

 private:
  void allocate(std::size_t count, std::size_t alignment) {
    if (count == size_) return;
    data_.reset();
    size_ = 0;
    if (count == 0) return;
    std::size_t bytes = (count * sizeof(T) + alignment - 1) / alignment * alignment;
    void* p = std::aligned_alloc(alignment, bytes);
    if (!p) throw std::bad_alloc();
    data_.reset(static_cast<T*>(p));
    size_ = count;
  }

  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace entroscope
