// Every fixture checkpoint against its float64 goldens (logits, entropy, surprisal, every hidden
// state) at the tolerances stated in its expected.json, through the library API. (The same
// comparison through the `entroscope forward` CLI is in tests/cli.)
#include <gtest/gtest.h>

#include <filesystem>

#include "common/golden.h"
#include "common/temp_dir.h"
#include "io/safetensors.h"
#include "metrics/entropy.h"
#include "model/forward.h"

namespace fs = std::filesystem;
using namespace entroscope;

namespace {

const fs::path kModels = fs::path(ES_TEST_DATA_DIR) / "models";

class GoldenFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenFixture, MatchesFloat64Reference) {
  const fs::path dir = kModels / GetParam();
  io::SafetensorsFile expected(dir / "expected.safetensors");
  std::vector<std::int64_t> ids64 = io::read_as_i64(expected, expected.at("input_ids"));
  const auto& shape = expected.at("input_ids").shape;
  const int B = static_cast<int>(shape[0]), T = static_cast<int>(shape[1]);
  std::vector<std::int32_t> ids(ids64.begin(), ids64.end());

  model::Model m = model::load_model(dir);
  const int V = m.config.vocab_size;
  std::vector<float> logits(static_cast<std::size_t>(B) * T * V);
  std::vector<std::vector<float>> hidden;
  model::Activations act;
  model::forward(m, ids, B, T, act, {logits.data(), &hidden});
  std::vector<double> entropy(static_cast<std::size_t>(B) * T), surprisal(static_cast<std::size_t>(B) * (T - 1));
  metrics::score_rows(logits.data(), ids.data(), B, T, V, entropy.data(), surprisal.data());

  // Package as a safetensors image and reuse the shared comparison.
  std::vector<io::TensorToWrite> t{{"logits", io::DType::F32, {B, T, V}, io::as_bytes_span(logits)},
                                   {"entropy_bits", io::DType::F64, {B, T}, io::as_bytes_span(entropy)},
                                   {"surprisal_bits", io::DType::F64, {B, T - 1}, io::as_bytes_span(surprisal)}};
  // Each hidden state is [B*T, width]: d_model, except OPT's last after project_out.
  for (std::size_t k = 0; k < hidden.size(); ++k) {
    const std::int64_t width = static_cast<std::int64_t>(hidden[k].size()) / (static_cast<std::int64_t>(B) * T);
    t.push_back({"hidden." + std::to_string(k), io::DType::F32, {B, T, width}, io::as_bytes_span(hidden[k])});
  }
  test_util::TempDir tmp;
  io::write_safetensors(tmp / "out.safetensors", t);
  io::SafetensorsFile out(tmp / "out.safetensors");
  test_util::expect_matches_goldens(dir, out, /*hidden_states=*/true);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenFixture, ::testing::ValuesIn(test_util::golden_fixtures()),
                         test_util::fixture_test_name);

}  // namespace
