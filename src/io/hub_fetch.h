#pragma once
// Downloads one file's content into the cache as a verified blob:
//   blobs/<hash>.incomplete   grows as bytes arrive; a later run resumes it with an HTTP Range request
//   hash check                sha256 (LFS) or git blob sha1 of the whole file against its name
//   blobs/<hash>              the checked file is renamed into place (atomic), never a partial one
// Transient failures are retried with backoff; each retry resumes where the last one stopped. A
// lock file (<root>/.locks/models--org--name/<hash>.lock, as huggingface_hub uses) keeps two
// processes from writing the same blob.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/hub_retry.h"

namespace entroscope::io::hub {

class CacheRepo;
class HubApi;
class TransferProgress;

struct BlobSource {
  std::string url;                    // where to GET the content
  std::string hash;                   // expected blob name: sha256 or git-sha1 hex
  std::optional<std::uint64_t> size;  // expected size, when known
  std::string file;                   // file name in the repository (messages, progress)
  std::string label;                  // progress label, e.g. "[3/5] model.safetensors"
  std::string revision;               // for messages
};

enum class FetchOutcome { kDownloaded, kResumed, kAlreadyPresent };

struct FetchResult {
  FetchOutcome outcome = FetchOutcome::kDownloaded;
  std::uint64_t size = 0;               // blob size
  std::uint64_t bytes_transferred = 0;  // over the network in this call
};

struct FetchOptions {
  RetryPolicy retry;
  TransferProgress* progress = nullptr;  // required
};

// A Content-Range answer to a Range request, "bytes 100-199/1000" or "bytes 100-199/*": the first
// byte, and the total in *total when given; nullopt when malformed (not digits, first > last,
// last >= total, a number beyond 64 bits).
std::optional<std::uint64_t> content_range_start(const std::string& value, std::optional<std::uint64_t>* total);

FetchResult fetch_blob(HubApi& api, const CacheRepo& repo, const BlobSource& source, const FetchOptions& options);

}  // namespace entroscope::io::hub
