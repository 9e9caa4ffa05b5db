// Replays every input under tests/data/fuzz_regressions/<target>/ (inputs that once crashed a
// libFuzzer target, kept after the fix) and the seed corpora fuzz/corpus/<target>/ through the same
// entries as the fuzz targets: each must be accepted or rejected with entroscope::Error whose
// message is one line. Without a fuzzing toolchain this keeps the fixes tested.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../../fuzz/fuzz_entries.cpp"  // the entries, compiled into this test (fuzz/ is not a library here)

namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replay(const fs::path& dir, entroscope::fuzz::Entry entry, int& count) {
  if (!fs::is_directory(dir)) return;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string bytes = read_bytes(e.path());
    ++count;
    try {
      entry(bytes);
    } catch (const entroscope::Error& err) {
      EXPECT_EQ(std::string(err.what()).find('\n'), std::string::npos) << e.path() << ": " << err.what();
    } catch (const std::exception& err) {
      ADD_FAILURE() << e.path() << ": not an entroscope::Error: " << err.what();
    }
  }
}

TEST(FuzzRegressions, EveryRecordedInputIsAcceptedOrRejectedWithError) {
  int count = 0;
  for (const auto& t : entroscope::fuzz::all_targets())
    replay(fs::path(ES_TEST_DATA_DIR) / "fuzz_regressions" / t.name, t.entry, count);
  SUCCEED() << count << " regression inputs";
}

TEST(FuzzRegressions, EverySeedIsAcceptedOrRejectedWithError) {
  int count = 0;
  for (const auto& t : entroscope::fuzz::all_targets())
    replay(fs::path(ES_SOURCE_DIR) / "fuzz" / "corpus" / t.name, t.entry, count);
  EXPECT_GT(count, 30);
}

}  // namespace
