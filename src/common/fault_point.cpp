#include "common/fault_point.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

namespace entroscope {
namespace {

struct FaultSetting {
  std::string name;  // empty: no fault point armed
  long hit = 1;
  int signal = SIGKILL;
};

const FaultSetting& setting() {
  static const FaultSetting s = [] {
    FaultSetting f;
    const char* v = std::getenv("ENTROSCOPE_FAULT_POINT");
    if (!v || !*v) return f;
    f.name = v;
    if (const auto hash = f.name.find('#'); hash != std::string::npos) {
      f.hit = std::max(1L, std::strtol(f.name.c_str() + hash + 1, nullptr, 10));
      f.name.resize(hash);
    }
    if (const char* sig = std::getenv("ENTROSCOPE_FAULT_SIGNAL")) {
      const std::string name = sig;
      if (name == "INT") f.signal = SIGINT;
      if (name == "TERM") f.signal = SIGTERM;
      if (name == "STOP") f.signal = SIGSTOP;  // frozen until killed: a job "mid-way" for a batch system's kill
    }
    return f;
  }();
  return s;
}

std::atomic<long> g_hits{0};

}  // namespace

void fault_point(std::string_view name) {
  const FaultSetting& s = setting();
  if (s.name.empty() || name != s.name) return;
  if (++g_hits == s.hit) ::raise(s.signal);
}

}  // namespace entroscope
