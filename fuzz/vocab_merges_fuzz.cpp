// libFuzzer target fuzz_vocab_merges: vocab.json + merges.txt (+ tokenizer_config.json, special_tokens_map.json), NUL-separated parts.
// Any byte string must be accepted or rejected with entroscope::Error (one-line message); anything
// else (crash, sanitizer report, other exception, hang) is a bug. The entry is in fuzz_entries.cpp,
// shared with tests/cli/fuzz_regressions_test.cpp, which replays tests/data/fuzz_regressions/vocab_merges/.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  entroscope::fuzz::run_checked(entroscope::fuzz::vocab_merges, data, size);
  return 0;
}
