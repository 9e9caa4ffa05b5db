#pragma once
// `entroscope doctor`: why does a model give NaN or wrong numbers? Runs the checks in order
// (files -> weights -> activations -> precision -> compare) and collects one report.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "doctor/report.h"

namespace entroscope::doctor {

struct DoctorOptions {
  std::filesystem::path model_dir;
  std::string model_name;                          // for the report
  std::optional<std::string> text;                 // sample text (needs tokenizer files)
  std::optional<std::filesystem::path> input_ids;  // safetensors with input_ids (first row used)
  std::optional<std::filesystem::path> compare;    // reference dump of hidden states / logits
  double compare_tolerance = 1e-3;
  int max_tokens = 128;
};

Report run_doctor(const DoctorOptions& options);

std::string render_text(const Report& report);
nlohmann::ordered_json render_json(const Report& report);

}  // namespace entroscope::doctor
