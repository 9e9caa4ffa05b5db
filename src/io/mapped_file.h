#pragma once
// A read-only memory mapping of a whole file. The mapping is page-aligned, so a byte at file
// offset k has pointer alignment k modulo the page size: a tensor's alignment is decided by its
// absolute file offset alone.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace entroscope::io {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws Error naming the path
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the whole pages inside `range` (a part of bytes()) from this process's resident set:
  // they were read and will not be needed soon (a tensor replaced by a packed copy). A later read
  // faults them in again from the file, so this changes memory use, never contents.
  void release_pages(std::span<const std::uint8_t> range) const;

 private:
  std::filesystem::path path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace entroscope::io
