#pragma once
// The two per-token quantities every experiment computes, and the per-item values built from them.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace entroscope::experiment {

// Entropy (bits) of the next-token distribution before a measured token, and the surprisal
// (bits) of that token under it. Both are always computed; `metrics:` picks what is reported.
enum class Measure { kEntropy = 0, kSurprisal = 1 };
inline constexpr std::array<Measure, 2> kMeasures = {Measure::kEntropy, Measure::kSurprisal};
inline constexpr std::size_t kMeasureCount = kMeasures.size();

inline std::string_view measure_key(Measure m) { return m == Measure::kEntropy ? "entropy_bits" : "surprisal_bits"; }
inline std::string_view measure_label(Measure m) { return m == Measure::kEntropy ? "entropy" : "surprisal"; }
inline std::size_t index_of(Measure m) { return static_cast<std::size_t>(m); }

// One item under one condition.
struct ItemConditionScores {
  std::size_t n_tokens = 0;            // measured tokens
  std::size_t n_preceding_tokens = 0;  // tokens before the measured span
  std::size_t windows = 1;             // windows the sequence spans (1 when it fits the model)
  std::array<double, kMeasureCount> mean_bits{};  // mean over the measured tokens
};

struct ItemScores {
  std::string id;
  int line = 0;  // in the data file
  std::vector<ItemConditionScores> conditions;  // in the spec's condition order
};

}  // namespace entroscope::experiment
