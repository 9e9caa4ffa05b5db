#include "experiment/utc_time.h"

#include <cstdio>
#include <ctime>

namespace entroscope::experiment {

namespace {
std::string format_utc(WallTime t, const char* pattern) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, pattern, &tm);
  return buf;
}
}  // namespace

std::string utc_compact(WallTime t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  return format_utc(t, "%Y%m%dT%H%M%S") + frac;
}
std::string utc_iso(WallTime t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

}  // namespace entroscope::experiment
