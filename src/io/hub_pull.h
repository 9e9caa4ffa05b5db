#pragma once
// `entroscope pull ID[@REV]`: asks the Hub which commit the revision is and which files it has,
// then fetches config.json, the tokenizer files and the safetensors weights (single file, or the
// index and every shard it names) into the Hugging Face cache layout, verified. With
// HF_HUB_OFFLINE set it touches no network and succeeds only if the cache already has the model.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "io/hub_id.h"
#include "io/hub_retry.h"
#include "io/hub_settings.h"

namespace entroscope::io::hub {

class TransferProgress;

struct PullOptions {
  std::filesystem::path cache_root;      // empty: default_cache_root()
  RetryPolicy retry;
  TransferProgress* progress = nullptr;  // null: silent
};

enum class FileOutcome {
  kDownloaded,  // fetched now
  kResumed,     // fetched now, continuing an interrupted download
  kCached,      // the snapshot already had it
  kLinked,      // the blob was already cached (another revision); only the link is new
};
std::string_view file_outcome_name(FileOutcome outcome);

struct PulledFile {
  std::string path;
  std::string hash;
  std::uint64_t size = 0;
  FileOutcome outcome = FileOutcome::kCached;
};

struct PullResult {
  std::string repo_id;
  std::string revision;
  std::string commit;
  std::filesystem::path snapshot_dir;
  std::vector<PulledFile> files;
  std::uint64_t bytes_downloaded = 0;
  bool offline = false;  // answered from the cache because HF_HUB_OFFLINE is set
};

PullResult pull_model(const HubModelRef& ref, const HubSettings& settings, const PullOptions& options);

}  // namespace entroscope::io::hub
