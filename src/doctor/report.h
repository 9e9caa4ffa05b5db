#pragma once
// A doctor report: findings with a severity, plus the sections' data as JSON. Rendering (text or
// JSON) is separate from finding things out.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace entroscope::doctor {

enum class Severity { kOk, kWarning, kProblem };
std::string_view severity_name(Severity s);  // "ok" / "warning" / "problem"

struct Finding {
  Severity severity;
  std::string section;  // "files", "weights", "activations", "precision", "compare"
  std::string message;  // one line
};

struct Report {
  std::string model;
  std::vector<Finding> findings;
  nlohmann::ordered_json sections = nlohmann::ordered_json::object();  // section name -> data

  void add(Severity s, std::string section, std::string message) {
    findings.push_back({s, std::move(section), std::move(message)});
  }
  Severity worst() const;
};

}  // namespace entroscope::doctor
