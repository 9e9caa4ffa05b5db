// Loading errors, numeric guards and invariance of the forward pass.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <cstring>
#include <limits>

#include "common/json_file.h"
#include "common/checkpoint_edit.h"
#include "common/temp_dir.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"
#include "metrics/scorer.h"
#include "model/architecture.h"
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

// Runs a copy of `fixture` with `edit` applied to its checkpoint; returns where the forward stopped.
model::NonFiniteLocation non_finite_location(const std::string& fixture, const std::string& name,
                                             const std::function<void(test_util::EditableTensors&)>& edit,
                                             std::string* message = nullptr) {
  TempDir tmp;
  test_util::copy_model_dir(kModels / fixture, tmp.path());
  rewrite_checkpoint(tmp.path(), edit);
  model::Model m = model::load_model(tmp.path(), name);
  model::Activations act;
  std::vector<std::int32_t> ids{3, 7, 11, 13};
  std::vector<float> logits(ids.size() * m.config.vocab_size);
  try {
    model::forward(m, ids, 1, 4, act, {logits.data(), nullptr});
  } catch (const model::NonFiniteError& e) {
    if (message) *message = e.what();
    return e.where();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(Forward, NaNWeightStopsWithLayerStepAndPosition) {
  // A NaN in one output column of layer 1's MLP down-projection: the residual stream goes
  // non-finite at every position of layer 1's mlp.out.
  std::string msg;
  const auto where = non_finite_location("gpt2-tiny", "nan-model", [](auto& t) {
    t["h.1.mlp.c_proj.weight"].second[5] = std::numeric_limits<float>::quiet_NaN();
  }, &msg);
  EXPECT_EQ(where.layer, 1);
  EXPECT_EQ(where.step, "mlp.out");
  EXPECT_EQ(where.position, 0);
  EXPECT_EQ(where.channel, 5);
  EXPECT_NE(msg.find("nan-model: non-finite value (nan) in layer 1 at step 'mlp.out', batch row 0, token position 0, channel 5"),
            std::string::npos)
      << msg;
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

// The sequences side by side: their ids concatenated and the start of each (SequenceRows).
std::pair<std::vector<std::int32_t>, std::vector<int>> packed(const std::vector<std::vector<std::int32_t>>& seqs) {
  std::vector<int> start{0};
  std::vector<std::int32_t> ids;
  for (const auto& s : seqs) {
    ids.insert(ids.end(), s.begin(), s.end());
    start.push_back(static_cast<int>(ids.size()));
  }
  return {ids, start};
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

// Packing (issue 15): sequences of different lengths side by side in one forward give every
// sequence the bits of its forward alone: logits and every hidden state, at 2 threads against 1.
TEST_P(Invariance, PackedSequencesGiveTheBitsOfEachAlone) {
  model::Model m = model::load_model(kModels / GetParam());
  const auto seqs = test_sequences(m.config.vocab_size);
  const int V = m.config.vocab_size;
  const auto [ids, start] = packed(seqs);
  kernels::set_thread_count(2);
  std::vector<float> logits(ids.size() * V);
  std::vector<std::vector<float>> hidden;
  model::Activations act;
  model::forward(m, ids, kernels::SequenceRows{start}, act, {logits.data(), &hidden});
  kernels::set_thread_count(1);
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const int T = static_cast<int>(seqs[i].size());
    std::vector<float> alone_logits(static_cast<std::size_t>(T) * V);
    std::vector<std::vector<float>> alone_hidden;
    model::Activations alone_act;
    model::forward(m, seqs[i], 1, T, alone_act, {alone_logits.data(), &alone_hidden});
    const std::size_t first = static_cast<std::size_t>(start[i]);
    EXPECT_EQ(0, std::memcmp(alone_logits.data(), logits.data() + first * V, alone_logits.size() * sizeof(float)))
        << "logits of sequence " << i << " (length " << T << ")";
    ASSERT_EQ(alone_hidden.size(), hidden.size());
    for (std::size_t k = 0; k < hidden.size(); ++k) {
      const std::size_t width = alone_hidden[k].size() / static_cast<std::size_t>(T);
      EXPECT_EQ(0, std::memcmp(alone_hidden[k].data(), hidden[k].data() + first * width,
                               alone_hidden[k].size() * sizeof(float)))
          << "hidden state " << k << " of sequence " << i;
    }
  }
  kernels::set_thread_count(0);
}

// 16-bit weights stay 16-bit (issue 15): a BF16 or F16 checkpoint gives the bits of the same values
// stored as F32 (what widening at load gave), logits and every hidden state, packed at 2 threads;
// its matrices and embeddings are held 16-bit, mapped in place, so they take half the bytes.
TEST_P(Invariance, SixteenBitWeightsGiveTheBitsOfTheirFloat32Values) {
  for (const io::DType dtype : {io::DType::BF16, io::DType::F16}) {
    SCOPED_TRACE(std::string(io::dtype_name(dtype)));
    TempDir half_dir, wide_dir;
    test_util::copy_model_dir(kModels / GetParam(), half_dir.path());
    test_util::rewrite_safetensors(half_dir / "model.safetensors", [](auto&) {}, dtype);
    test_util::copy_model_dir(half_dir.path(), wide_dir.path());
    test_util::rewrite_safetensors(wide_dir / "model.safetensors", [](auto&) {}, io::DType::F32);  // exact
    const model::Model half = model::load_model(half_dir.path()), wide = model::load_model(wide_dir.path());

    const auto roles = model::checkpoint_roles(*half.checkpoint, half.config);
    int kept = 0;
    for (const auto& r : half.checkpoint->load_records()) {
      const bool matrix = model::keeps_stored_dtype(roles.at(r.name).first);
      EXPECT_EQ(r.residence, matrix ? io::Residence::kMapped : io::Residence::kConverted) << r.name;
      EXPECT_EQ(r.dtype, dtype) << r.name;
      kept += matrix;
    }
    EXPECT_GE(kept, 3);
    const model::WeightMemory half_memory = model::weight_memory(half.config, *half.checkpoint);
    const model::WeightMemory wide_memory = model::weight_memory(wide.config, *wide.checkpoint);
    EXPECT_EQ(half_memory.matrix_dtype, dtype == io::DType::BF16 ? "bfloat16" : "float16");
    EXPECT_EQ(wide_memory.matrix_dtype, "float32");
    EXPECT_LT(half_memory.held_bytes, 0.6 * wide_memory.held_bytes);

    const auto [ids, start] = packed(test_sequences(half.config.vocab_size));
    kernels::set_thread_count(2);
    std::vector<float> half_logits(ids.size() * half.config.vocab_size), wide_logits(half_logits.size());
    std::vector<std::vector<float>> half_hidden, wide_hidden;
    model::Activations act;
    model::forward(half, ids, kernels::SequenceRows{start}, act, {half_logits.data(), &half_hidden});
    model::forward(wide, ids, kernels::SequenceRows{start}, act, {wide_logits.data(), &wide_hidden});
    kernels::set_thread_count(0);
    EXPECT_EQ(0, std::memcmp(half_logits.data(), wide_logits.data(), half_logits.size() * sizeof(float)));
    ASSERT_EQ(half_hidden.size(), wide_hidden.size());
    for (std::size_t k = 0; k < half_hidden.size(); ++k)
      EXPECT_EQ(half_hidden[k], wide_hidden[k]) << "hidden state " << k;
  }
}

// Logits only for the needed positions (the LM head over gathered rows): every needed value has
// the bits of full-logit scoring, with and without token classes, and the rest are not computed.
TEST_P(Invariance, MeasuredRowsOnlyGiveTheFullLogitBits) {
  model::Model m = model::load_model(kModels / GetParam());
  auto seqs = test_sequences(m.config.vocab_size);
  std::vector<metrics::PositionRange> needed;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const std::size_t T = seqs[i].size();
    // A measured tail, a middle span, nothing, everything: as the windowed scorer asks.
    const std::size_t first = i % 4 == 0 ? T / 2 : (i % 4 == 1 ? T / 3 : (i % 4 == 2 ? T : 0));
    const std::size_t end = i % 4 == 1 ? std::max(first, 2 * T / 3) : T;
    needed.push_back({first, end});
  }
  for (int classes : {0, 2}) {
    kernels::set_thread_count(2);
    metrics::Scorer full(m, 96), measured(m, 96);  // several batches, with unequal lengths
    if (classes) {
      std::vector<std::uint8_t> masks(static_cast<std::size_t>(m.config.vocab_size));
      for (std::size_t v = 0; v < masks.size(); ++v) masks[v] = static_cast<std::uint8_t>(v % 3 == 0 ? 1 : (v % 5 == 0 ? 2 : 0));
      full.set_token_classes(masks, classes);
      measured.set_token_classes(masks, classes);
    }
    const auto want = full.score(seqs);
    const auto got = measured.score(seqs, needed);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      const std::size_t T = seqs[i].size();
      for (std::size_t t = 0; t < T; ++t) {
        const bool in = t >= needed[i].first && t < needed[i].end;
        if (in) {
          EXPECT_EQ(got[i].entropy_bits[t], want[i].entropy_bits[t]) << "sequence " << i << " position " << t;
          if (t + 1 < T) {
            EXPECT_EQ(got[i].surprisal_bits[t], want[i].surprisal_bits[t]) << "sequence " << i << " position " << t;
          }
          for (int c = 0; c < classes; ++c)
            EXPECT_EQ(got[i].log2_class_mass[t * classes + c], want[i].log2_class_mass[t * classes + c]);
        } else {
          EXPECT_TRUE(std::isnan(got[i].entropy_bits[t])) << "sequence " << i << " position " << t;
        }
      }
    }
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

INSTANTIATE_TEST_SUITE_P(Models, Invariance,
                         ::testing::Values("gpt2-tiny", "neox-tiny", "gpt-neo-tiny", "gptj-tiny", "opt-tiny",
                                           "opt-350m-tiny", "llama-tiny", "llama3-tiny", "mistral-tiny", "qwen2-tiny",
                                           "qwen3-tiny", "olmo2-tiny"),
                         [](const auto& info) {
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


// ---- families: config parsing ----

nlohmann::json llama_doc(const char* model_type = "llama") {
  return {{"model_type", model_type}, {"vocab_size", 100}, {"max_position_embeddings", 64}, {"hidden_size", 64},
          {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"num_hidden_layers", 3},
          {"intermediate_size", 96}};
}

std::string config_error(const nlohmann::json& doc) {
  try {
    model::parse_config(doc, "config.json");
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("config.json: ", 0), 0u) << msg;
    return msg;
  }
  ADD_FAILURE() << "no error for " << doc.dump();
  return "";
}

TEST(Config, UnknownValuesOfFieldsThatChangeTheMathAreErrors) {
  auto doc = llama_doc();
  doc["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_NE(config_error(doc).find("rope_scaling type 'yarn' is not supported"), std::string::npos);
  doc = llama_doc();
  doc["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};  // the pre-4.40 spelling
  EXPECT_NE(config_error(doc).find("'dynamic'"), std::string::npos);
  doc = llama_doc();
  doc["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_NE(config_error(doc).find("rope_scaling.low_freq_factor is required"), std::string::npos);
  doc = llama_doc();
  doc["hidden_act"] = "gelu";
  EXPECT_NE(config_error(doc).find("hidden_act 'gelu' is not supported for llama"), std::string::npos);
  doc = llama_doc();
  doc["num_key_value_heads"] = 3;
  EXPECT_NE(config_error(doc).find("not a multiple of 3 key/value heads"), std::string::npos);
  doc = llama_doc("qwen2");
  doc["use_sliding_window"] = true;
  doc["sliding_window"] = 8;
  doc["layer_types"] = {"full_attention", "chunked_attention", "full_attention"};
  EXPECT_NE(config_error(doc).find("layer_types[1] 'chunked_attention' is not supported"), std::string::npos);
  nlohmann::json neo = {{"model_type", "gpt_neo"}, {"vocab_size", 100}, {"max_position_embeddings", 64},
                        {"hidden_size", 64},        {"num_heads", 4},     {"num_layers", 2},
                        {"window_size", 8},         {"attention_types", {{{"global", "sparse"}, 1}}}};
  EXPECT_NE(config_error(neo).find("attention type 'sparse' is not supported"), std::string::npos);
  neo["attention_types"] = {{{"global", "local"}, 2}};
  EXPECT_NE(config_error(neo).find("names more than num_layers (2) layers"), std::string::npos);
  neo["attention_types"] = {{{"global"}, 1}};
  EXPECT_NE(config_error(neo).find("name 1 layers, num_layers is 2"), std::string::npos);
  nlohmann::json opt = {{"model_type", "opt"}, {"vocab_size", 100}, {"max_position_embeddings", 64},
                        {"hidden_size", 64},   {"num_attention_heads", 4}, {"num_hidden_layers", 2},
                        {"ffn_dim", 128},      {"layer_norm_elementwise_affine", false}};
  EXPECT_NE(config_error(opt).find("layer_norm_elementwise_affine=false is not supported"), std::string::npos);
}

TEST(Config, SizesThatWouldExhaustMemoryBeforeAnyWeightIsReadAreErrors) {
  // Found by fuzz_config_json: per-layer and per-head tables are sized from these fields.
  nlohmann::json neo = {{"model_type", "gpt_neo"}, {"vocab_size", 100}, {"max_position_embeddings", 64},
                        {"hidden_size", 64},        {"num_heads", 4},     {"num_layers", 2},
                        {"window_size", 8},         {"attention_types", {{{"global"}, 1000000000}}}};
  EXPECT_NE(config_error(neo).find("names more than num_layers (2) layers"), std::string::npos);
  auto doc = llama_doc();
  doc["num_hidden_layers"] = 1000000000;
  EXPECT_NE(config_error(doc).find("at most 4096 layers are supported"), std::string::npos);
  doc = llama_doc();
  doc["head_dim"] = 1 << 29;
  EXPECT_NE(config_error(doc).find("attention head size 536870912 exceeds the supported 16384"), std::string::npos);
  nlohmann::json gpt2 = {{"model_type", "gpt2"}, {"vocab_size", 10}, {"n_positions", 8},
                         {"n_embd", 1 << 30},    {"n_head", 1},      {"n_layer", 2}};
  EXPECT_NE(config_error(gpt2).find("'n_embd' is 1073741824; at most 1048576 is supported"), std::string::npos);
}

TEST(Config, SlidingWindowsFollowEachFamilysRule) {
  // Qwen2/Qwen3: only with use_sliding_window, then layers >= max_window_layers (or layer_types).
  auto doc = llama_doc("qwen2");
  doc["sliding_window"] = 8;
  doc["max_window_layers"] = 1;
  EXPECT_EQ(model::parse_config(doc, "c").layer_window, (std::vector<int>{0, 0, 0}));
  doc["use_sliding_window"] = true;
  EXPECT_EQ(model::parse_config(doc, "c").layer_window, (std::vector<int>{0, 8, 8}));
  doc["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention"};
  EXPECT_EQ(model::parse_config(doc, "c").layer_window, (std::vector<int>{8, 0, 8}));
  // Mistral: every layer; null: none.
  doc = llama_doc("mistral");
  doc["sliding_window"] = 5;
  EXPECT_EQ(model::parse_config(doc, "c").layer_window, (std::vector<int>{5, 5, 5}));
  doc["sliding_window"] = nullptr;
  EXPECT_EQ(model::parse_config(doc, "c").layer_window, (std::vector<int>{0, 0, 0}));
  // GPT-Neo: attention_types expanded.
  nlohmann::json neo = {{"model_type", "gpt_neo"}, {"vocab_size", 100}, {"max_position_embeddings", 64},
                        {"hidden_size", 64},        {"num_heads", 4},     {"num_layers", 4},
                        {"window_size", 8},         {"attention_types", {{{"global", "local"}, 2}}}};
  EXPECT_EQ(model::parse_config(neo, "c").layer_window, (std::vector<int>{0, 8, 0, 8}));
}

TEST(Config, Llama3RopeScalingKeepsShortWavelengthsAndSlowsLongOnes) {
  auto doc = llama_doc();
  doc["rope_theta"] = 500000.0;
  doc["head_dim"] = 24;
  doc["rope_scaling"] = {{"rope_type", "llama3"},  {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
  const auto c = model::parse_config(doc, "c");
  const auto scaled = c.rotary_inv_freq();
  ASSERT_EQ(scaled.size(), 12u);
  int kept = 0, slowed = 0, between = 0;
  for (int i = 0; i < 12; ++i) {
    const double base = 1.0 / std::pow(500000.0, 2.0 * i / 24);
    const double wavelen = 2 * M_PI / base;
    if (wavelen < 16) {
      EXPECT_EQ(scaled[i], base);
      ++kept;
    } else if (wavelen > 64) {
      EXPECT_DOUBLE_EQ(scaled[i], base / 8);
      ++slowed;
    } else {
      EXPECT_LT(scaled[i], base);
      EXPECT_GT(scaled[i], base / 8);
      ++between;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(slowed, 0);
  EXPECT_GT(between, 0);
  doc["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4.0}};
  EXPECT_DOUBLE_EQ(model::parse_config(doc, "c").rotary_inv_freq()[3], 1.0 / std::pow(500000.0, 6.0 / 24) / 4);
}

// ---- families: the tensor table against real checkpoints ----

class FamilyFixture : public ::testing::TestWithParam<std::string> {};

// The table's parameter count is what the checkpoint holds (less a tied copy and ignored buffers).
TEST_P(FamilyFixture, TableParameterCountEqualsTheCheckpoint) {
  model::Model m = model::load_model(kModels / GetParam());
  std::uint64_t stored = 0;
  for (const auto& name : m.checkpoint->tensor_names()) {
    if (model::is_ignored_buffer(name, m.config.arch)) continue;
    if (m.config.tie_word_embeddings && name == "lm_head.weight") continue;
    std::uint64_t n = 1;
    for (auto d : m.checkpoint->find(name)->shape) n *= static_cast<std::uint64_t>(d);
    stored += n;
  }
  EXPECT_EQ(static_cast<std::uint64_t>(m.config.parameter_count()), stored);
  EXPECT_LT(m.config.non_embedding_parameter_count(), m.config.parameter_count());
}

// A checkpoint without the base-model prefix (as a base model's save_pretrained writes it), with
// a stale rotary inv_freq buffer and a stored copy of a tied head, loads and gives the same bits.
TEST_P(FamilyFixture, PrefixlessCheckpointWithBuffersGivesTheSameBits) {
  const fs::path src = kModels / GetParam();
  model::Model original = model::load_model(src);
  const auto& info = model::family_info(original.config.arch);
  std::string prefix;
  for (const auto& p : info.base_prefixes)
    if (!p.empty() && original.checkpoint->find(p + model::tensor_table(original.config)[0].name)) prefix = p;
  if (prefix.empty()) GTEST_SKIP() << "stored without a prefix";
  TempDir tmp;
  test_util::copy_model_dir(src, tmp.path());
  const bool rotary = original.config.rotary_style != model::RotaryStyle::kNone;
  const bool tied = original.config.tie_word_embeddings;
  const model::ModelConfig config = original.config;
  rewrite_checkpoint(tmp.path(), [&](test_util::EditableTensors& t) {
    test_util::EditableTensors out;
    for (auto& [name, value] : t) {
      const bool top = name.rfind(prefix, 0) != 0;
      out[top ? name : name.substr(prefix.size())] = value;
    }
    if (rotary && (config.arch == model::Architecture::kLlama || config.arch == model::Architecture::kQwen2))
      out["layers.0.self_attn.rotary_emb.inv_freq"] = {{config.head_dim / 2}, std::vector<float>(config.head_dim / 2, 9.0f)};
    if (tied) out["lm_head.weight"] = out.count("embed_tokens.weight") ? out["embed_tokens.weight"] : out["wte.weight"];
    t = out;
  });
  model::Model edited = model::load_model(tmp.path());
  auto seqs = test_sequences(config.vocab_size);
  metrics::Scorer a(original), b(edited);
  const auto want = a.score(seqs), got = b.score(seqs);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(got[i].entropy_bits, want[i].entropy_bits) << i;
}

TEST_P(FamilyFixture, MissingAndMisshapenTensorsAreNamedInFull) {
  const fs::path src = kModels / GetParam();
  const model::ModelConfig config = model::load_config(src);
  TempDir tmp;
  test_util::copy_model_dir(src, tmp.path());
  std::string removed, reshaped;
  rewrite_checkpoint(tmp.path(), [&](test_util::EditableTensors& t) {
    for (auto it = t.begin(); it != t.end(); ++it)
      if (it->first.find("layers.1.") != std::string::npos || it->first.find("h.1.") != std::string::npos) {
        if (removed.empty() && it->second.first.size() == 2) {
          removed = it->first;
        } else if (reshaped.empty() && it->second.first.size() == 1) {
          reshaped = it->first;
          it->second.first = {it->second.first[0] - 1};
          it->second.second.pop_back();
        }
      }
    t.erase(removed);
  });
  const std::string msg = load_error(tmp.path());
  EXPECT_NE(msg.find("missing tensors: " + removed), std::string::npos) << msg;
  EXPECT_NE(msg.find(reshaped + " has shape"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string(model::architecture_name(config.arch)) + " config.json"), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyFixture,
                         ::testing::Values("gpt-neo-tiny", "gptj-tiny", "opt-tiny", "opt-350m-tiny", "llama-tiny",
                                           "llama3-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny", "olmo2-tiny"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

TEST(Forward, NaNInQwen3QkNormIsLocatedAtThatStep) {
  const auto where = non_finite_location("qwen3-tiny", "qwen3-inf", [](auto& t) {
    t["model.layers.1.self_attn.k_norm.weight"].second[3] = std::numeric_limits<float>::infinity();
  });
  EXPECT_EQ(where.layer, 1);
  EXPECT_EQ(where.step, "attn.qk_norm");
}

TEST(Architectures, EveryFamilyHasATableAndAName) {
  for (model::Architecture a : model::kAllArchitectures) {
    const auto& info = model::family_info(a);
    model::Architecture back;
    ASSERT_TRUE(model::architecture_from_model_type(info.model_type, back)) << info.model_type;
    EXPECT_EQ(back, a);
    EXPECT_FALSE(info.base_prefixes.empty());
  }
  EXPECT_EQ(model::supported_model_types(), "gpt2, gpt_neox, gpt_neo, gptj, opt, llama, mistral, qwen2, qwen3, olmo2");
}

}  // namespace
