#pragma once
// The two content hashes the Hub names files by: sha256 for LFS files (weights) and git's blob
// sha1 ("blob <size>\0" + content) for ordinary files (config, tokenizer). Streaming, so multi-GB
// weights are hashed with constant memory.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace entroscope::io::hub {

enum class HashKind { kSha256, kGitSha1 };

// "sha256" / "git-sha1".
std::string_view hash_kind_name(HashKind kind);

// The kind a blob name implies: 64 hex digits -> sha256, 40 -> git-sha1; nullopt-like failure is
// reported by throwing Error naming `hash`.
HashKind hash_kind_of(const std::string& hash);

class Hasher {
 public:
  // For kGitSha1 the total content size must be known up front (it is part of the hashed header).
  Hasher(HashKind kind, std::uint64_t content_size = 0);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(const void* data, std::size_t size);
  std::string hex_digest();  // finishes the hash; call once

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view data);

// Hashes a whole file. `on_bytes` (optional) is called with each chunk's size, for progress.
// Throws Error naming the file on read failure.
std::string hash_file(const std::filesystem::path& path, HashKind kind,
                      const std::function<void(std::uint64_t)>& on_bytes = {});

}  // namespace entroscope::io::hub
