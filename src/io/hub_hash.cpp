#include "io/hub_hash.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/hub_cache.h"

namespace entroscope::io::hub {

struct Hasher::State {
  EVP_MD_CTX* ctx = nullptr;
  ~State() {
    if (ctx != nullptr) EVP_MD_CTX_free(ctx);
  }
};

std::string_view hash_kind_name(HashKind kind) { return kind == HashKind::kSha256 ? "sha256" : "git-sha1"; }

HashKind hash_kind_of(const std::string& hash) {
  if (!is_blob_hash(hash)) fail("'{}' is not a sha256 or git-sha1 hex digest", hash);
  return hash.size() == 64 ? HashKind::kSha256 : HashKind::kGitSha1;
}

Hasher::Hasher(HashKind kind, std::uint64_t content_size) : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (state_->ctx == nullptr) fail("cannot allocate a hash context (OpenSSL)");
  const EVP_MD* md = kind == HashKind::kSha256 ? EVP_sha256() : EVP_sha1();
  if (EVP_DigestInit_ex(state_->ctx, md, nullptr) != 1) fail("cannot initialise {} (OpenSSL)", hash_kind_name(kind));
  if (kind == HashKind::kGitSha1) {
    std::string header = "blob " + std::to_string(content_size);
    update(header.data(), header.size() + 1);  // including the terminating NUL
  }
}

Hasher::~Hasher() = default;

void Hasher::update(const void* data, std::size_t size) {
  if (size > 0 && EVP_DigestUpdate(state_->ctx, data, size) != 1) fail("hash update failed (OpenSSL)");
}

std::string Hasher::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx, digest, &len) != 1) fail("hash finalisation failed (OpenSSL)");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Hasher h(HashKind::kSha256);
  h.update(data.data(), data.size());
  return h.hex_digest();
}

std::string hash_file(const std::filesystem::path& path, HashKind kind,
                      const std::function<void(std::uint64_t)>& on_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) fail("{}: cannot open for hashing: {}", path.string(), std::strerror(errno));
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};

  std::uint64_t size = 0;
  if (kind == HashKind::kGitSha1) {
    std::error_code ec;
    size = std::filesystem::file_size(path, ec);
    if (ec) fail("{}: cannot stat: {}", path.string(), ec.message());
  }
  Hasher hasher(kind, size);
  std::vector<char> buffer(1 << 20);
  std::uint64_t total = 0;
  while (true) {
    std::size_t n = std::fread(buffer.data(), 1, buffer.size(), f);
    if (n > 0) {
      hasher.update(buffer.data(), n);
      total += n;
      if (on_bytes) on_bytes(n);
    }
    if (n < buffer.size()) {
      if (std::ferror(f)) fail("{}: read error while hashing: {}", path.string(), std::strerror(errno));
      break;
    }
  }
  if (kind == HashKind::kGitSha1 && total != size) {
    fail("{}: file changed size while hashing ({} -> {} bytes)", path.string(), size, total);
  }
  return hasher.hex_digest();
}

}  // namespace entroscope::io::hub
