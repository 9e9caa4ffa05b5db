// libFuzzer target fuzz_hub_http: a raw Hub HTTP answer: status line, headers (X-Repo-Commit, X-Linked-Etag, Location, Content-Range, ...), JSON body.
// Any byte string must be accepted or rejected with entroscope::Error (one-line message); anything
// else (crash, sanitizer report, other exception, hang) is a bug. The entry is in fuzz_entries.cpp,
// shared with tests/cli/fuzz_regressions_test.cpp, which replays tests/data/fuzz_regressions/hub_http/.
#include "fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  entroscope::fuzz::run_checked(entroscope::fuzz::hub_http, data, size);
  return 0;
}
