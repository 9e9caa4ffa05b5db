// Memory before loading: the estimate grows with the batch, a limit lowers the batch (never below
// one context window) and a model that cannot fit is refused with the figures.
#include <gtest/gtest.h>

#include "common/error.h"
#include <filesystem>

#include "io/checkpoint.h"
#include "model/memory_plan.h"
#include "model/presets.h"

namespace entroscope::model {
namespace {

ModelConfig gpt2_config() {
  for (const Preset& p : all_presets())
    if (p.name == "gpt2") return parse_config(p.config, "gpt2");
  ADD_FAILURE() << "no gpt2 preset";
  return {};
}

// gpt2 as the Hub ships it: float32, the head tied to the token embedding (never released).
WeightMemory gpt2_weights(const ModelConfig& c) {
  return {static_cast<std::uint64_t>(c.parameter_count()) * 4, 50257ull * 768 * 4, 0, "float32"};
}

TEST(MemoryPlan, EstimateOfGpt2) {
  const ModelConfig c = gpt2_config();
  const MemoryEstimate e = estimate_memory(c, gpt2_weights(c), 4096, 2);
  // 124.4M parameters as float32 plus the packed 50257 x 768 head.
  EXPECT_EQ(e.weight_bytes, static_cast<std::uint64_t>(c.parameter_count()) * 4 + 50257ull * 768 * 4);
  EXPECT_GT(e.activation_bytes, 4096ull * 768 * 4 * 5);
  EXPECT_LT(e.activation_bytes, 400ull << 20);
  EXPECT_LT(estimate_memory(c, gpt2_weights(c), 1024, 2).activation_bytes, e.activation_bytes);
}

// The weights' part from a checkpoint's headers: float32 as stored, the packed head added, an untied
// head's mapped pages released once packed; 16-bit matrices at half the bytes.
TEST(MemoryPlan, WeightMemoryFollowsTheCheckpoint) {
  const std::filesystem::path models = std::filesystem::path(ES_TEST_DATA_DIR) / "models";
  for (const char* name : {"gpt2-tiny", "neox-tiny", "gpt2-tiny-fp16"}) {
    SCOPED_TRACE(name);
    const ModelConfig c = load_config(models / name);
    const WeightMemory m = weight_memory(c, io::Checkpoint(models / name));
    const std::uint64_t head = static_cast<std::uint64_t>(c.vocab_size) * c.embed_dim;
    EXPECT_EQ(m.packed_head_bytes, head * 4);
    if (std::string(name) == "gpt2-tiny-fp16") {
      EXPECT_EQ(m.matrix_dtype, "float16");
      EXPECT_LT(m.held_bytes, static_cast<std::uint64_t>(c.parameter_count()) * 3);
      EXPECT_GT(m.held_bytes, static_cast<std::uint64_t>(c.parameter_count()) * 2);
    } else {
      EXPECT_EQ(m.matrix_dtype, "float32");
      EXPECT_EQ(m.held_bytes, static_cast<std::uint64_t>(c.parameter_count()) * 4);
    }
    EXPECT_EQ(m.released_bytes, c.tie_word_embeddings ? 0 : head * 4);  // neox-tiny: untied, float32, aligned
    EXPECT_EQ(m.resident_bytes(), m.held_bytes + m.packed_head_bytes - m.released_bytes);
  }
}

TEST(MemoryPlan, ALimitLowersTheBatchOrRefusesWithTheFigures) {
  const ModelConfig c = gpt2_config();
  const AvailableMemory plenty{64ull << 30, "MemAvailable"};
  const MemoryPlan roomy = plan_memory(c, gpt2_weights(c), "gpt2", 4096, 0, 2, plenty);
  EXPECT_EQ(roomy.batch_tokens, 4096u);
  EXPECT_TRUE(roomy.note.empty());

  const std::uint64_t tight = estimate_memory(c, gpt2_weights(c), 1024, 2).total() + (1 << 20);
  const MemoryPlan lowered = plan_memory(c, gpt2_weights(c), "gpt2", 4096, tight, 2, plenty);
  EXPECT_EQ(lowered.batch_tokens, 1024u);
  EXPECT_LE(lowered.estimate.total(), tight);
  EXPECT_NE(lowered.note.find("gpt2: batches of at most 1024 tokens (not 4096)"), std::string::npos) << lowered.note;

  try {
    plan_memory(c, gpt2_weights(c), "gpt2", 4096, 300ull << 20, 2, plenty);
    FAIL() << "a 300 MB limit was accepted for gpt2";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("gpt2: needs about "), std::string::npos) << m;
    EXPECT_NE(m.find("but only 300 MB are allowed (--max-memory)"), std::string::npos) << m;
  }
  try {
    plan_memory(c, gpt2_weights(c), "gpt2", 4096, 0, 2, AvailableMemory{200ull << 20, "MemAvailable"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("but only 200 MB are available (MemAvailable)"), std::string::npos) << e.what();
  }
  // Unknown availability: nothing to check against.
  EXPECT_EQ(plan_memory(c, gpt2_weights(c), "gpt2", 4096, 0, 2, std::nullopt).batch_tokens, 4096u);
}

TEST(MemoryPlan, Sizes) {
  EXPECT_EQ(parse_memory_size("8G", "--max-memory"), 8ull << 30);
  EXPECT_EQ(parse_memory_size("512M", "--max-memory"), 512ull << 20);
  EXPECT_EQ(parse_memory_size("1.5GiB", "--max-memory"), 3ull << 29);
  EXPECT_EQ(parse_memory_size("100", "--max-memory"), 100u);
  EXPECT_THROW(parse_memory_size("lots", "--max-memory"), Error);
  EXPECT_THROW(parse_memory_size("-1G", "--max-memory"), Error);
  EXPECT_THROW(parse_memory_size("8X", "--max-memory"), Error);
  EXPECT_TRUE(available_memory().has_value());  // Linux: /proc/meminfo
}

}  // namespace
}  // namespace entroscope::model
