#include "doctor/weight_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/weights.h"

namespace entroscope::doctor {

TensorStats tensor_stats(const float* x, std::size_t n) {
  TensorStats s;
  s.count = n;
  double sum = 0, sq = 0;
  std::uint64_t finite = 0;
  s.min = INFINITY;
  s.max = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    double v = x[i];
    if (std::isnan(v)) {
      ++s.nan;
      continue;
    }
    if (std::isinf(v)) {
      ++s.inf;
      continue;
    }
    ++finite;
    sum += v;
    sq += v * v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  if (finite == 0) {
    s.min = s.max = 0;
    return s;
  }
  s.absmax = std::max(std::fabs(s.min), std::fabs(s.max));
  s.mean = sum / finite;
  s.std = std::sqrt(std::max(0.0, sq / finite - s.mean * s.mean));
  return s;
}

void check_weights(const io::Checkpoint& ckpt, const model::ModelConfig& config, Report& report) {
  const auto roles = model::checkpoint_roles(ckpt, config);
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  struct Ranked {
    std::string name;
    double absmax;
  };
  std::vector<Ranked> ranked;
  int bad_params = 0;
  for (const auto& name : ckpt.tensor_names()) {
    const io::TensorInfo& info = *ckpt.find(name);
    const bool buffer = model::is_ignored_buffer(name, config.arch);
    const auto role = roles.find(name);
    std::string role_text = buffer ? "buffer (ignored)" : "not in the architecture's table";
    if (role != roles.end()) {
      role_text = std::string(model::role_name(role->second.first));
      if (role->second.second >= 0) role_text = fmt::format("layer {} {}", role->second.second, role_text);
    }
    nlohmann::ordered_json tj{{"name", name}, {"dtype", std::string(io::dtype_name(info.dtype))}, {"shape", info.shape},
                              {"role", role_text}};
    if (io::is_float_dtype(info.dtype)) {
      std::vector<float> values = io::read_as_f32(ckpt.file_of(name), info);
      TensorStats s = tensor_stats(values.data(), values.size());
      tj["nan"] = s.nan;
      tj["inf"] = s.inf;
      tj["min"] = s.min;
      tj["max"] = s.max;
      tj["absmax"] = s.absmax;
      tj["mean"] = s.mean;
      tj["std"] = s.std;
      if (!buffer) {
        ranked.push_back({name, s.absmax});
        if (s.nan + s.inf > 0) {
          ++bad_params;
          report.add(Severity::kProblem, "weights",
                     fmt::format("{}: {} NaN and {} Inf values among {} (parameter {} {}, file {})", name, s.nan, s.inf,
                                 s.count, io::dtype_name(info.dtype), info.shape_string(),
                                 ckpt.file_of(name).path().filename().string()));
        } else if (s.absmax > kExtremeWeight) {
          report.add(Severity::kWarning, "weights",
                     fmt::format("{}: extreme magnitude, |max| = {:.4g} (min {:.4g}, max {:.4g})", name, s.absmax, s.min,
                                 s.max));
        }
      }
    }
    tensors.push_back(std::move(tj));
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) { return a.absmax > b.absmax; });
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < std::min<std::size_t>(5, ranked.size()); ++i)
    top.push_back({{"name", ranked[i].name}, {"absmax", ranked[i].absmax}});
  if (bad_params == 0)
    report.add(Severity::kOk, "weights",
               fmt::format("{} parameter tensors are all finite; largest |value| {:.4g} in {}", ranked.size(),
                           ranked.empty() ? 0.0 : ranked[0].absmax, ranked.empty() ? "-" : ranked[0].name));
  report.sections["weights"] = {{"largest_absmax", std::move(top)}, {"tensors", std::move(tensors)}};
}

}  // namespace entroscope::doctor
