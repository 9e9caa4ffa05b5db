#pragma once
// Named places where a test can kill the process (tests/experiment/kill_safety_test.cpp): with
// ENTROSCOPE_FAULT_POINT=NAME (or NAME#N for its Nth hit) the process raises SIGKILL there, or the
// signal ENTROSCOPE_FAULT_SIGNAL names (KILL, INT, TERM, STOP). Unset: one getenv at the first call.
#include <string_view>

namespace entroscope {

void fault_point(std::string_view name);

}  // namespace entroscope
