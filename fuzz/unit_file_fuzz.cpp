// libFuzzer target fuzz_unit_file: one work-unit file of a sharded run, as `entroscope merge` reads it (experiment/unit_file.h).
// Any byte string must be accepted or rejected with entroscope::Error (one-line message); anything
// else (crash, sanitizer report, other exception, hang) is a bug. The entry is in fuzz_entries.cpp,
// shared with tests/cli/fuzz_regressions_test.cpp, which replays tests/data/fuzz_regressions/unit_file/.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  entroscope::fuzz::run_checked(entroscope::fuzz::unit_file, data, size);
  return 0;
}
