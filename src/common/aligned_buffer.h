#pragma once
// Owned, 64-byte-aligned float storage: the destination for tensors that cannot be used in place
// from a memory-mapped file (misaligned or not fp32) and for activation buffers.
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace entroscope {

inline constexpr std::size_t kBufferAlignment = 64;

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count) { resize(count); }

  void resize(std::size_t count) {
    if (count == size_) return;
    data_.reset();
    size_ = 0;
    if (count == 0) return;
    std::size_t bytes = (count * sizeof(T) + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    void* p = std::aligned_alloc(kBufferAlignment, bytes);
    if (!p) throw std::bad_alloc();
    data_.reset(static_cast<T*>(p));
    size_ = count;
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace entroscope
