#pragma once
// Comparing computed arrays with a fixture's goldens at its stated tolerances.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/json_file.h"
#include "io/safetensors.h"

namespace entroscope::test_util {

// Checks |got - want| <= atol + rtol |want| elementwise; reports the worst element.
template <typename Got, typename Want>
void expect_close(const std::string& what, const std::vector<Got>& got, const std::vector<Want>& want, double atol,
                  double rtol = 0.0) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst_excess = -INFINITY, max_abs = 0.0;
  std::size_t where = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    double diff = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    double excess = std::isnan(diff) ? INFINITY : diff - (atol + rtol * std::fabs(static_cast<double>(want[i])));
    if (diff > max_abs) max_abs = diff;
    if (excess > worst_excess) {
      worst_excess = excess;
      where = i;
    }
  }
  EXPECT_LE(worst_excess, 0.0) << what << ": max |error| " << max_abs << ", worst element " << where << " (atol "
                               << atol << ", rtol " << rtol << ")";
}

// Compares every array of `out` (logits, entropy_bits, surprisal_bits, hidden.K when present) with
// the fixture's expected.safetensors at the tolerances of its expected.json.
inline void expect_matches_goldens(const std::filesystem::path& fixture_dir, const io::SafetensorsFile& out,
                                   bool hidden_states) {
  auto tol = read_json_file(fixture_dir / "expected.json")["tolerances"];
  io::SafetensorsFile expected(fixture_dir / "expected.safetensors");
  const std::string name = fixture_dir.filename().string();
  expect_close(name + " logits", io::read_as_f32(out, out.at("logits")), io::read_as_f32(expected, expected.at("logits")),
               tol["logits_atol"]);
  expect_close(name + " entropy_bits", io::read_as_f64(out, out.at("entropy_bits")),
               io::read_as_f64(expected, expected.at("entropy_bits")), tol["entropy_bits_atol"]);
  expect_close(name + " surprisal_bits", io::read_as_f64(out, out.at("surprisal_bits")),
               io::read_as_f64(expected, expected.at("surprisal_bits")), tol["surprisal_bits_atol"]);
  if (!hidden_states) return;
  for (std::size_t k = 0; k < tol["hidden_atol"].size(); ++k) {
    std::string h = "hidden." + std::to_string(k);
    ASSERT_NE(out.find(h), nullptr) << name << ": output lacks " << h;
    expect_close(name + " " + h, io::read_as_f32(out, out.at(h)), io::read_as_f32(expected, expected.at(h)),
                 tol["hidden_atol"][k], tol["hidden_rtol"]);
  }
}

}  // namespace entroscope::test_util
