#include "doctor/report.h"

namespace entroscope::doctor {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kOk: return "ok";
    case Severity::kWarning: return "warning";
    case Severity::kProblem: return "problem";
  }
  return "?";
}

Severity Report::worst() const {
  Severity w = Severity::kOk;
  for (const auto& f : findings)
    if (static_cast<int>(f.severity) > static_cast<int>(w)) w = f.severity;
  return w;
}

}  // namespace entroscope::doctor
