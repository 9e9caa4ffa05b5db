// Every fixture checkpoint against its float64 goldens (logits, entropy, surprisal, every hidden
// state) at the tolerances stated in its expected.json, through the library API. (The same
// comparison through the `entroscope forward` CLI is in tests/cli.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/golden.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "io/safetensors.h"
#include "metrics/entropy.h"
#include "model/forward.h"

namespace fs = std::filesystem;
using namespace entroscope;

namespace {

const fs::path kModels = fs::path(ES_TEST_DATA_DIR) / "models";

class GoldenFixture : public ::testing::TestWithParam<std::string> {};

// The fixture's model on its golden input_ids [B, T]: logits, every hidden state, entropy and surprisal.
struct FixtureRun {
  int B = 0, T = 0, V = 0;
  std::vector<float> logits;
  std::vector<std::vector<float>> hidden;
  std::vector<double> entropy, surprisal;
};
FixtureRun run_fixture(const fs::path& dir) {
  io::SafetensorsFile expected(dir / "expected.safetensors");
  std::vector<std::int64_t> ids64 = io::read_as_i64(expected, expected.at("input_ids"));
  const auto& shape = expected.at("input_ids").shape;
  FixtureRun r;
  r.B = static_cast<int>(shape[0]);
  r.T = static_cast<int>(shape[1]);
  std::vector<std::int32_t> ids(ids64.begin(), ids64.end());
  model::Model m = model::load_model(dir);
  r.V = m.config.vocab_size;
  r.logits.resize(static_cast<std::size_t>(r.B) * r.T * r.V);
  model::Activations act;
  model::forward(m, ids, r.B, r.T, act, {r.logits.data(), &r.hidden});
  r.entropy.resize(static_cast<std::size_t>(r.B) * r.T);
  r.surprisal.resize(static_cast<std::size_t>(r.B) * (r.T - 1));
  metrics::score_rows(r.logits.data(), ids.data(), r.B, r.T, r.V, r.entropy.data(), r.surprisal.data());
  return r;
}

TEST_P(GoldenFixture, MatchesFloat64Reference) {
  const fs::path dir = kModels / GetParam();
  const FixtureRun r = run_fixture(dir);
  test_util::expect_outputs_match_goldens(dir, r.B, r.T, r.V, r.logits, r.entropy, r.surprisal, r.hidden);
}

// entroscope's fp32 error against PyTorch's own fp32 forward (transformers, measured by the fixture
// generator: `measured_torch_fp32_error` in expected.json), on the logits and on the entropy,
// against the same float64 reference. Today's GEMM (one fp32 chain per output) errs 0.3-1.9x
// PyTorch's on these fixtures; the bound guards that. Issue 15 asks for <= 1x on every fixture:
// fp32 chains of 8 summed in float64 reach 0.92x at worst, but cost 1.6-1.7x the forward's time
// on an AVX-512 Intel core (DEVELOPERS.md, "Open ends"), so that definition is not in use.
TEST_P(GoldenFixture, ErrorAgainstTorchFloat32IsBounded) {
  const fs::path dir = kModels / GetParam();
  const auto torch_error = read_json_file(dir / "expected.json")["measured_torch_fp32_error"];
  io::SafetensorsFile expected(dir / "expected.safetensors");
  const FixtureRun r = run_fixture(dir);
  const auto& logits = r.logits;
  const auto& entropy = r.entropy;

  auto max_abs_error = [](const auto& got, const auto& want) {
    double worst = 0.0;
    for (std::size_t i = 0; i < want.size(); ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i])));
    return worst;
  };
  const double logits_error = max_abs_error(logits, io::read_as_f64(expected, expected.at("logits")));
  const double entropy_error = max_abs_error(entropy, io::read_as_f64(expected, expected.at("entropy_bits")));
  const double torch_logits = torch_error["logits_max_abs"], torch_entropy = torch_error["entropy_bits_max_abs"];
  std::printf("%-40s logits %.3g (torch %.3g, x%.2f)  entropy %.3g (torch %.3g, x%.2f)\n", GetParam().c_str(),
              logits_error, torch_logits, logits_error / torch_logits, entropy_error, torch_entropy,
              entropy_error / torch_entropy);
  constexpr double kBound = 2.0;  // x PyTorch fp32's own error
  EXPECT_LE(logits_error, kBound * torch_logits) << GetParam() << ": logits max |error| vs float64";
  EXPECT_LE(entropy_error, kBound * torch_entropy) << GetParam() << ": entropy_bits max |error| vs float64";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenFixture, ::testing::ValuesIn(test_util::golden_fixtures()),
                         test_util::fixture_test_name);

}  // namespace
