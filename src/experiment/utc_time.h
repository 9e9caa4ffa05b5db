#pragma once
// Wall-clock times as they appear in file names and results.
#include <chrono>
#include <string>

namespace entroscope::experiment {

using WallTime = std::chrono::system_clock::time_point;

std::string utc_compact(WallTime t);  // "20250131T235959.123Z", for file names (sorts by time)
std::string utc_iso(WallTime t);      // "2025-01-31T23:59:59Z"

}  // namespace entroscope::experiment
