#pragma once
// What became of one model in a run: computed now, reused from an earlier run, or failed (with a
// one-line reason). Failed models have no results, only the reason.
#include <optional>
#include <string>

#include "experiment/model_result.h"

namespace entroscope::experiment {

enum class ModelStatus { kComputed, kReused, kFailed };
inline std::string_view model_status_name(ModelStatus s) {
  return s == ModelStatus::kComputed ? "computed" : s == ModelStatus::kReused ? "reused" : "failed";
}

struct ModelOutcome {
  std::string name;
  std::string family;
  std::string arch;
  long long parameters = 0;
  long long non_embedding_parameters = 0;
  ModelStatus status = ModelStatus::kFailed;
  std::string failure;               // one line starting with "<name>: ", when failed
  std::optional<ModelResult> result;  // when computed or reused
  std::string results_file;          // file name in the output folder, when computed or reused
  std::string log_file;
  double seconds = 0;
};

}  // namespace entroscope::experiment
