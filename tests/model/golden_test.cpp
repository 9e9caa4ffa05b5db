// Every fixture checkpoint against its float64 goldens (logits, entropy, surprisal, every hidden
// state) at the tolerances stated in its expected.json.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/json_file.h"
#include "io/safetensors.h"
#include "metrics/entropy.h"
#include "model/forward.h"

namespace fs = std::filesystem;
using namespace entroscope;

namespace {

const fs::path kModels = fs::path(ES_TEST_DATA_DIR) / "models";

struct MaxError {
  double worst = 0.0;      // max |got - expected| - tolerance (<= 0 passes)
  double max_abs = 0.0;
  std::size_t where = 0;
};

template <typename Got, typename Want>
MaxError compare(const std::vector<Got>& got, const std::vector<Want>& want, double atol, double rtol) {
  MaxError e;
  e.worst = -INFINITY;
  for (std::size_t i = 0; i < want.size(); ++i) {
    double diff = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    double excess = diff - (atol + rtol * std::fabs(static_cast<double>(want[i])));
    if (diff > e.max_abs) e.max_abs = diff;
    if (excess > e.worst || std::isnan(diff)) {
      e.worst = std::isnan(diff) ? INFINITY : excess;
      e.where = i;
    }
  }
  return e;
}

class GoldenFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenFixture, MatchesFloat64Reference) {
  const fs::path dir = kModels / GetParam();
  auto meta = read_json_file(dir / "expected.json");
  const auto& tol = meta["tolerances"];
  io::SafetensorsFile expected(dir / "expected.safetensors");

  std::vector<std::int64_t> ids64 = io::read_as_i64(expected, expected.at("input_ids"));
  const auto& shape = expected.at("input_ids").shape;
  const int B = static_cast<int>(shape[0]), T = static_cast<int>(shape[1]);
  std::vector<std::int32_t> ids(ids64.begin(), ids64.end());

  model::Model m = model::load_model(dir);
  const int V = m.config.vocab_size, L = m.config.n_layer;
  std::vector<float> logits(static_cast<std::size_t>(B) * T * V);
  std::vector<std::vector<float>> hidden;
  model::Activations act;
  model::forward(m, ids, B, T, act, {logits.data(), &hidden});

  std::vector<double> entropy(static_cast<std::size_t>(B) * T), surprisal(static_cast<std::size_t>(B) * (T - 1));
  metrics::score_rows(logits.data(), ids.data(), B, T, V, entropy.data(), surprisal.data());

  auto check = [&](const char* what, const MaxError& e) {
    EXPECT_LE(e.worst, 0.0) << GetParam() << " " << what << ": max |err| " << e.max_abs << " at flat index " << e.where;
  };
  check("logits", compare(logits, io::read_as_f32(expected, expected.at("logits")), tol["logits_atol"], 0.0));
  check("entropy_bits",
        compare(entropy, io::read_as_f64(expected, expected.at("entropy_bits")), tol["entropy_bits_atol"], 0.0));
  check("surprisal_bits",
        compare(surprisal, io::read_as_f64(expected, expected.at("surprisal_bits")), tol["surprisal_bits_atol"], 0.0));
  ASSERT_EQ(hidden.size(), static_cast<std::size_t>(L + 1));
  for (int k = 0; k <= L; ++k) {
    std::string name = "hidden." + std::to_string(k);
    check(name.c_str(), compare(hidden[k], io::read_as_f32(expected, expected.at(name)), tol["hidden_atol"][k],
                                tol["hidden_rtol"]));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenFixture,
                         ::testing::Values("gpt2-tiny", "gpt2-tiny-unaligned", "gpt2-tiny-fp16", "gpt2-tiny-prefixed",
                                           "gpt2-tiny-sharded", "neox-tiny", "neox-tiny-bf16"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

}  // namespace
