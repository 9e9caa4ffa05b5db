// libFuzzer target fuzz_doctor_compare: doctor --compare's reference dump (a safetensors file with input_ids, hidden.K, logits).
// Any byte string must be accepted or rejected with entroscope::Error (one-line message); anything
// else (crash, sanitizer report, other exception, hang) is a bug. The entry is in fuzz_entries.cpp,
// shared with tests/cli/fuzz_regressions_test.cpp, which replays tests/data/fuzz_regressions/doctor_compare/.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  entroscope::fuzz::run_checked(entroscope::fuzz::doctor_compare, data, size);
  return 0;
}
