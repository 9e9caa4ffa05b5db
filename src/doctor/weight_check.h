#pragma once
// Doctor, section "weights": per tensor NaN/Inf counts and min/max/absmax/mean/std; non-finite
// parameters are problems, extreme magnitudes are flagged (ranked); each tensor's role comes from
// the architecture's table; mask/rotary buffers are reported as buffers (an fp16 -inf masked_bias
// is expected, not a problem).
#include "doctor/report.h"
#include "io/checkpoint.h"
#include "model/config.h"

namespace entroscope::doctor {

struct TensorStats {
  std::uint64_t count = 0, nan = 0, inf = 0;
  double min = 0, max = 0, absmax = 0, mean = 0, std = 0;
};
TensorStats tensor_stats(const float* x, std::size_t n);

// Magnitude above which a weight is flagged as extreme (fp16's largest finite value is 65504;
// trained transformer weights are typically below 10).
inline constexpr double kExtremeWeight = 1000.0;

void check_weights(const io::Checkpoint& checkpoint, const model::ModelConfig& config, Report& report);

}  // namespace entroscope::doctor
