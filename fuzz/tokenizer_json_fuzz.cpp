// libFuzzer target fuzz_tokenizer_json: tokenizer.json (then encodes and decodes a few texts with what it loaded).
// Any byte string must be accepted or rejected with entroscope::Error (one-line message); anything
// else (crash, sanitizer report, other exception, hang) is a bug. The entry is in fuzz_entries.cpp,
// shared with tests/cli/fuzz_regressions_test.cpp, which replays tests/data/fuzz_regressions/tokenizer_json/.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  entroscope::fuzz::run_checked(entroscope::fuzz::tokenizer_json, data, size);
  return 0;
}
