// libFuzzer target fuzz_safetensors_index: model.safetensors.index.json beside two fixed shards (Checkpoint, shard_files_from_index, snapshot_problem).
// Any byte string must be accepted or rejected with entroscope::Error (one-line message); anything
// else (crash, sanitizer report, other exception, hang) is a bug. The entry is in fuzz_entries.cpp,
// shared with tests/cli/fuzz_regressions_test.cpp, which replays tests/data/fuzz_regressions/safetensors_index/.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  entroscope::fuzz::run_checked(entroscope::fuzz::safetensors_index, data, size);
  return 0;
}
