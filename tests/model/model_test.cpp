// Loading errors, numeric guards and invariance of the forward pass.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/json_file.h"
#include "common/checkpoint_edit.h"
#include "common/temp_dir.h"
#include "io/safetensors.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"
#include "metrics/scorer.h"
#include "model/forward.h"

namespace fs = std::filesystem;
using namespace entroscope;
using entroscope::test_util::TempDir;

namespace {

const fs::path kModels = fs::path(ES_TEST_DATA_DIR) / "models";

std::string load_error(const fs::path& dir) {
  try {
    model::load_model(dir);
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }
  ADD_FAILURE() << "no error loading " << dir;
  return "";
}

void rewrite_checkpoint(const fs::path& dir, const std::function<void(test_util::EditableTensors&)>& edit) {
  test_util::rewrite_safetensors(dir / "model.safetensors", edit);
}

TEST(ModelLoad, UnknownModelTypeIsRejected) {
  TempDir tmp;
  test_util::copy_model_dir(kModels / "gpt2-tiny", tmp.path());
  auto cfg = read_json_file(tmp / "config.json");
  cfg["model_type"] = "mamba";
  test_util::write_file(tmp / "config.json", cfg.dump());
  EXPECT_NE(load_error(tmp.path()).find("unknown model_type 'mamba'"), std::string::npos);
}

TEST(ModelLoad, UnsupportedActivationIsRejected) {
  TempDir tmp;
  test_util::copy_model_dir(kModels / "neox-tiny", tmp.path());
  auto cfg = read_json_file(tmp / "config.json");
  cfg["hidden_act"] = "quick_gelu";
  test_util::write_file(tmp / "config.json", cfg.dump());
  EXPECT_NE(load_error(tmp.path()).find("hidden_act 'quick_gelu' is not supported"), std::string::npos);
}

TEST(ModelLoad, MissingUnexpectedAndMisshapenTensorsAreListed) {
  TempDir tmp;
  test_util::copy_model_dir(kModels / "gpt2-tiny", tmp.path());
  rewrite_checkpoint(tmp.path(), [](auto& t) {
    t.erase("h.1.mlp.c_fc.bias");
    t["h.0.attn.c_proj.weight"].first = {32, 128};  // same element count, wrong shape
    t["extra.weight"] = {{2}, {1.0f, 2.0f}};
  });
  std::string msg = load_error(tmp.path());
  EXPECT_NE(msg.find("missing tensors: h.1.mlp.c_fc.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("h.0.attn.c_proj.weight has shape [32, 128], expected [64, 64]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected tensors: extra.weight"), std::string::npos) << msg;
}

TEST(ModelLoad, MaskBuffersAreIgnoredButRealBiasesAreNot) {
  EXPECT_TRUE(model::is_ignored_buffer("h.3.attn.bias", model::Architecture::kGpt2));
  EXPECT_TRUE(model::is_ignored_buffer("transformer.h.3.attn.masked_bias", model::Architecture::kGpt2));
  EXPECT_FALSE(model::is_ignored_buffer("h.3.attn.c_attn.bias", model::Architecture::kGpt2));
  EXPECT_FALSE(model::is_ignored_buffer("h.3.attn.c_proj.bias", model::Architecture::kGpt2));
  EXPECT_TRUE(model::is_ignored_buffer("gpt_neox.layers.0.attention.rotary_emb.inv_freq", model::Architecture::kGptNeoX));
  EXPECT_FALSE(model::is_ignored_buffer("gpt_neox.layers.0.attention.dense.bias", model::Architecture::kGptNeoX));
}

TEST(ModelLoad, ParameterCountsMatchTheDemoModelCard) {
  const fs::path demo = fs::path(ES_SOURCE_DIR) / "models";
  auto s = model::load_config(demo / "demo-gpt2-s");
  EXPECT_EQ(s.parameter_count(), 297536);
  EXPECT_EQ(s.non_embedding_parameter_count(), 150080);
  auto n = model::load_config(demo / "demo-neox-m");
  EXPECT_EQ(n.parameter_count(), 1119360);
  EXPECT_EQ(n.non_embedding_parameter_count(), 595072);
}

TEST(Forward, RejectsOutOfRangeIdsAndOverlongInput) {
  model::Model m = model::load_model(kModels / "gpt2-tiny");
  model::Activations act;
  std::vector<float> logits(2 * m.config.vocab_size);
  std::vector<std::int32_t> bad{1, m.config.vocab_size};
  EXPECT_THROW(model::forward(m, bad, 1, 2, act, {logits.data(), nullptr}), Error);
  std::vector<std::int32_t> long_ids(m.config.max_positions + 1, 0);
  EXPECT_THROW(model::forward(m, long_ids, 1, static_cast<int>(long_ids.size()), act, {nullptr, nullptr}), Error);
}

TEST(Forward, NaNWeightStopsWithLayerStepAndPosition) {
  TempDir tmp;
  test_util::copy_model_dir(kModels / "gpt2-tiny", tmp.path());
  // A NaN in one output column of layer 1's MLP down-projection: the residual stream goes
  // non-finite at every position of layer 1's mlp.out.
  rewrite_checkpoint(tmp.path(), [](auto& t) { t["h.1.mlp.c_proj.weight"].second[5] = std::numeric_limits<float>::quiet_NaN(); });
  model::Model m = model::load_model(tmp.path(), "nan-model");
  model::Activations act;
  std::vector<std::int32_t> ids{3, 7, 11, 13};
  std::vector<float> logits(ids.size() * m.config.vocab_size);
  try {
    model::forward(m, ids, 1, 4, act, {logits.data(), nullptr});
    FAIL() << "no error";
  } catch (const model::NonFiniteError& e) {
    EXPECT_EQ(e.where().layer, 1);
    EXPECT_EQ(e.where().step, "mlp.out");
    EXPECT_EQ(e.where().position, 0);
    EXPECT_EQ(e.where().channel, 5);
    std::string msg = e.what();
    EXPECT_NE(msg.find("nan-model: non-finite value (nan) in layer 1 at step 'mlp.out', batch row 0, token position 0, channel 5"),
              std::string::npos)
        << msg;
  }
}

std::vector<std::vector<std::int32_t>> test_sequences(int vocab) {
  std::vector<std::vector<std::int32_t>> seqs;
  std::uint32_t state = 7;
  for (int len : {17, 5, 17, 40, 1, 17, 64}) {
    std::vector<std::int32_t> s(len);
    for (auto& id : s) {
      state = state * 1664525u + 1013904223u;
      id = static_cast<std::int32_t>(state % static_cast<std::uint32_t>(vocab));
    }
    seqs.push_back(s);
  }
  return seqs;
}

class Invariance : public ::testing::TestWithParam<std::string> {};

// A sequence's numbers must not depend on what it is batched with, nor on the thread count.
TEST_P(Invariance, BatchingAndThreadsDoNotChangeAnyBit) {
  model::Model m = model::load_model(kModels / GetParam());
  auto seqs = test_sequences(m.config.vocab_size);
  kernels::set_thread_count(2);
  metrics::Scorer batched(m, 1 << 20);
  auto all = batched.score(seqs);
  kernels::set_thread_count(1);
  metrics::Scorer single(m, 1);  // one sequence per forward call
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    auto alone = single.score({seqs[i]});
    ASSERT_EQ(alone[0].entropy_bits.size(), all[i].entropy_bits.size());
    for (std::size_t t = 0; t < alone[0].entropy_bits.size(); ++t)
      EXPECT_EQ(alone[0].entropy_bits[t], all[i].entropy_bits[t]) << "sequence " << i << " position " << t;
    for (std::size_t t = 0; t < alone[0].surprisal_bits.size(); ++t)
      EXPECT_EQ(alone[0].surprisal_bits[t], all[i].surprisal_bits[t]) << "sequence " << i << " position " << t;
  }
  kernels::set_thread_count(0);
}

// The fp32 path has no BLAS: every GEMM micro-kernel (AVX-512, AVX2, portable std::fma) gives
// the same bits, so a machine with another CPU reproduces the same numbers.
TEST_P(Invariance, EveryGemmKernelGivesTheSameBits) {
  model::Model m = model::load_model(kModels / GetParam());
  auto seqs = test_sequences(m.config.vocab_size);
  metrics::Scorer scorer(m, 1 << 20);
  const auto want = scorer.score(seqs);
  int compared = 0;
  for (const char* name : {"avx512", "avx2", "portable"}) {
    try {
      kernels::force_gemm_kernel(name);
    } catch (const Error&) {
      continue;  // not on this CPU
    }
    const auto got = scorer.score(seqs);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      EXPECT_EQ(got[i].entropy_bits, want[i].entropy_bits) << name << " sequence " << i;
      EXPECT_EQ(got[i].surprisal_bits, want[i].surprisal_bits) << name << " sequence " << i;
    }
    ++compared;
  }
  kernels::force_gemm_kernel("");
  EXPECT_GE(compared, 1);
}

INSTANTIATE_TEST_SUITE_P(Models, Invariance, ::testing::Values("gpt2-tiny", "neox-tiny"), [](const auto& info) {
  std::string s = info.param;
  for (char& ch : s)
    if (ch == '-') ch = '_';
  return s;
});

}  // namespace

namespace {

TEST(Config, NeoXRotaryDefaultsFollowTransformers) {
  nlohmann::json doc = {{"model_type", "gpt_neox"}, {"vocab_size", 100}, {"max_position_embeddings", 64},
                        {"hidden_size", 64},        {"num_attention_heads", 2}, {"num_hidden_layers", 1},
                        {"intermediate_size", 128}};
  auto c = model::parse_config(doc, "config.json");
  EXPECT_EQ(c.rotary_ndims, 8);  // rotary_pct defaults to 0.25 of head_dim 32
  EXPECT_EQ(c.rotary_base, 10000.0);
  doc["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500.0}, {"partial_rotary_factor", 0.5}};
  c = model::parse_config(doc, "config.json");
  EXPECT_EQ(c.rotary_ndims, 16);
  EXPECT_EQ(c.rotary_base, 500.0);
  doc["rope_parameters"]["rope_type"] = "linear";
  EXPECT_THROW(model::parse_config(doc, "config.json"), Error);
}

}  // namespace
