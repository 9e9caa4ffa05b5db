// The CUDA backend (built only with -DENTROSCOPE_CUDA=ON; run by scripts/gpu-check.sh on a GPU
// machine): every fixture against its float64 goldens at its stated tolerances, the GPU scorer
// against the CPU's, identical bits on the GPU whatever the batching, and non-finite values
// refused with their place.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "common/checkpoint_edit.h"
#include "common/golden.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "io/safetensors.h"
#include "kernels/device.h"
#include "metrics/entropy.h"
#include "metrics/scorer.h"
#include "model/forward.h"

namespace fs = std::filesystem;
using namespace entroscope;

namespace {

const fs::path kModels = fs::path(ES_TEST_DATA_DIR) / "models";

class DeviceFixture : public ::testing::TestWithParam<std::string> {};

std::vector<std::int32_t> fixture_ids(const fs::path& dir, int& B, int& T) {
  io::SafetensorsFile expected(dir / "expected.safetensors");
  const std::vector<std::int64_t> ids64 = io::read_as_i64(expected, expected.at("input_ids"));
  B = static_cast<int>(expected.at("input_ids").shape[0]);
  T = static_cast<int>(expected.at("input_ids").shape[1]);
  return {ids64.begin(), ids64.end()};
}

// Random sequences of the given lengths (a fixed LCG: the same ids on every machine).
std::vector<std::vector<std::int32_t>> sequences_of(const std::vector<int>& lengths, int vocab) {
  std::vector<std::vector<std::int32_t>> seqs;
  std::uint32_t state = 11;
  for (int len : lengths) {
    std::vector<std::int32_t> s(static_cast<std::size_t>(len));
    for (auto& id : s) {
      state = state * 1664525u + 1013904223u;
      id = static_cast<std::int32_t>((state >> 8) % static_cast<std::uint32_t>(vocab));
    }
    seqs.push_back(std::move(s));
  }
  return seqs;
}

TEST_P(DeviceFixture, MatchesFloat64Reference) {
  const fs::path dir = kModels / GetParam();
  int B = 0, T = 0;
  const std::vector<std::int32_t> ids = fixture_ids(dir, B, T);
  const model::Model m = model::load_model(dir);
  const int V = m.config.vocab_size;
  const model::DeviceWeights weights = model::upload_weights(m);
  std::vector<float> logits(static_cast<std::size_t>(B) * T * V);
  std::vector<std::vector<float>> hidden;
  model::forward_on_device(m, weights, ids, B, T, logits.data(), &hidden);
  std::vector<double> entropy(static_cast<std::size_t>(B) * T), surprisal(static_cast<std::size_t>(B) * (T - 1));
  metrics::score_rows(logits.data(), ids.data(), B, T, V, entropy.data(), surprisal.data());
  test_util::expect_outputs_match_goldens(dir, B, T, V, logits, entropy, surprisal, hidden);
}

// The GPU scorer (entropy and surprisal reduced on the device, token classes too) against the CPU
// scorer on the same sequences, within the fixture's entropy and surprisal tolerances.
TEST_P(DeviceFixture, ScorerAgreesWithTheCpu) {
  const fs::path dir = kModels / GetParam();
  const model::Model m = model::load_model(dir);
  const auto tol = read_json_file(dir / "expected.json")["tolerances"];
  const double entropy_atol = tol["entropy_bits_atol"], surprisal_atol = tol["surprisal_bits_atol"];
  const auto seqs = sequences_of({17, 5, 1, 40, 64, 9}, m.config.vocab_size);
  std::vector<std::uint8_t> masks(static_cast<std::size_t>(m.config.vocab_size));
  for (std::size_t v = 0; v < masks.size(); ++v) masks[v] = static_cast<std::uint8_t>((v % 3 == 0) | ((v % 5 == 0) << 1));
  metrics::Scorer cpu(m), gpu(m, 4096, kernels::Device::kCuda);
  cpu.set_token_classes(masks, 2);
  gpu.set_token_classes(masks, 2);
  const std::vector<metrics::PositionRange> needed{{0, 17}, {2, 5}, {0, 1}, {30, 40}, {0, 64}, {0, 0}};
  const auto want = cpu.score(seqs, needed), got = gpu.score(seqs, needed);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    for (std::size_t t = needed[s].first; t < needed[s].end; ++t) {
      EXPECT_NEAR(got[s].entropy_bits[t], want[s].entropy_bits[t], entropy_atol) << "sequence " << s << " position " << t;
      if (t + 1 < seqs[s].size()) {
        EXPECT_NEAR(got[s].surprisal_bits[t], want[s].surprisal_bits[t], surprisal_atol) << "sequence " << s << " position " << t;
      }
      for (int c = 0; c < 2; ++c)
        EXPECT_NEAR(got[s].log2_class_mass[t * 2 + c], want[s].log2_class_mass[t * 2 + c], 10 * entropy_atol)
            << "sequence " << s << " position " << t << " class " << c;
    }
    for (std::size_t t = 0; t < needed[s].first; ++t) EXPECT_TRUE(std::isnan(got[s].entropy_bits[t]));
  }
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// On the GPU, a sequence's numbers have the same bits alone, packed with others at any offset, and
// across the GEMMs' fixed row blocks (more than kDeviceGemmRows rows packed).
TEST_P(DeviceFixture, BatchingDoesNotChangeAnyBit) {
  const fs::path dir = kModels / GetParam();
  const model::Model m = model::load_model(dir);
  // Lengths of both attention paths, more than two of the GEMMs' row blocks in all.
  std::vector<int> lengths{13, 1, 200, 77, 31};
  for (int k = 0, total = 0; total <= 2 * kernels::kDeviceGemmRows + 100; ++k) {
    lengths.push_back(150 + 7 * (k % 12));
    total = 0;
    for (int& n : lengths) total += n = std::min(n, m.config.max_positions);
  }
  const auto seqs = sequences_of(lengths, m.config.vocab_size);
  metrics::Scorer packed(m, 1 << 20, kernels::Device::kCuda), small(m, 64, kernels::Device::kCuda);
  const auto all = packed.score(seqs);   // every sequence in one forward
  const auto few = small.score(seqs);    // about one sequence per forward
  std::vector<std::vector<std::int32_t>> reversed(seqs.rbegin(), seqs.rend());
  const auto back = packed.score(reversed);  // other offsets
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    const auto& r = back[seqs.size() - 1 - s];
    for (std::size_t t = 0; t < seqs[s].size(); ++t) {
      ASSERT_TRUE(same_bits(all[s].entropy_bits[t], few[s].entropy_bits[t])) << "sequence " << s << " position " << t;
      ASSERT_TRUE(same_bits(all[s].entropy_bits[t], r.entropy_bits[t])) << "sequence " << s << " position " << t;
    }
    for (std::size_t t = 0; t + 1 < seqs[s].size(); ++t) {
      ASSERT_TRUE(same_bits(all[s].surprisal_bits[t], few[s].surprisal_bits[t])) << "sequence " << s << " position " << t;
      ASSERT_TRUE(same_bits(all[s].surprisal_bits[t], r.surprisal_bits[t])) << "sequence " << s << " position " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DeviceFixture, ::testing::ValuesIn(test_util::golden_fixtures()),
                         test_util::fixture_test_name);

TEST(Device, NaNWeightStopsWithLayerStepAndPosition) {
  test_util::TempDir tmp;
  test_util::copy_model_dir(kModels / "gpt2-tiny", tmp.path());
  test_util::rewrite_safetensors(tmp.path() / "model.safetensors", [](test_util::EditableTensors& t) {
    t["h.1.mlp.c_proj.weight"].second[5] = std::numeric_limits<float>::quiet_NaN();
  });
  const model::Model m = model::load_model(tmp.path(), "nan-model");
  metrics::Scorer gpu(m, 4096, kernels::Device::kCuda);
  try {
    gpu.score({{3, 7, 11, 13}, {5, 9}});
    ADD_FAILURE() << "no error";
  } catch (const model::NonFiniteError& e) {
    EXPECT_EQ(e.where().layer, 1);
    EXPECT_EQ(e.where().step, "mlp.out");
    EXPECT_EQ(e.where().batch_row, 0);
    EXPECT_EQ(e.where().position, 0);
    EXPECT_EQ(e.where().channel, 5);
  }
}

TEST(Device, DescribesTheGpu) {
  const std::string text = kernels::cuda_device_description();
  EXPECT_NE(text.find("sm_"), std::string::npos) << text;
  EXPECT_NE(text.find("CUDA runtime"), std::string::npos) << text;
}

}  // namespace
