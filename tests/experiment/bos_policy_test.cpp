// --bos auto per family (docs/words.md): the tokenizer's own BOS first; else <|endoftext|> for the
// families trained with it as document separator, config.json's bos_token_id for OPT/Llama/Mistral.
#include <gtest/gtest.h>

#include "common/error.h"
#include "experiment/text_scoring.h"

namespace entroscope::experiment {
namespace {

const std::filesystem::path kTokenizers = std::filesystem::path(ES_TEST_DATA_DIR) / "tokenizer";

model::Model model_of(model::Architecture arch, int bos_token_id) {
  model::Model m;
  m.name = "m";
  m.config.arch = arch;
  m.config.vocab_size = 50304;
  m.config.bos_token_id = bos_token_id;
  return m;
}

TEST(BosPolicy, AutoPerFamily) {
  const tokenizer::Tokenizer gpt2 = tokenizer::Tokenizer::load(kTokenizers / "gpt2");  // no template BOS
  const tokenizer::Tokenizer mistral = tokenizer::Tokenizer::load(kTokenizers / "mistral-sp");  // adds <s>
  using A = model::Architecture;
  for (A arch : {A::kGpt2, A::kGptNeoX, A::kGptNeo, A::kGptJ, A::kQwen2, A::kQwen3, A::kOlmo2}) {
    EXPECT_EQ(resolve_bos("auto", model_of(arch, 2), gpt2).id, 50256) << model::architecture_name(arch);
  }
  for (A arch : {A::kOpt, A::kLlama, A::kMistral}) {
    const BosChoice b = resolve_bos("auto", model_of(arch, 2), gpt2);
    EXPECT_EQ(b.id, 2) << model::architecture_name(arch);
    EXPECT_EQ(b.described, "auto: # (2)");
    EXPECT_EQ(resolve_bos("auto", model_of(arch, -1), gpt2).id, 50256) << model::architecture_name(arch);
  }
  for (A arch : model::kAllArchitectures) {
    const BosChoice b = resolve_bos("auto", model_of(arch, 5), mistral);
    EXPECT_EQ(b.id, 1) << model::architecture_name(arch);
    EXPECT_EQ(b.described, "auto: <s> (1)");
  }
}

TEST(BosPolicy, ExplicitChoices) {
  const tokenizer::Tokenizer gpt2 = tokenizer::Tokenizer::load(kTokenizers / "gpt2");
  const model::Model m = model_of(model::Architecture::kGpt2, -1);
  EXPECT_EQ(resolve_bos("never", m, gpt2).id, -1);
  EXPECT_EQ(resolve_bos("never", m, gpt2).described, "never");
  EXPECT_EQ(resolve_bos("7", m, gpt2).id, 7);
  EXPECT_EQ(resolve_bos("<|endoftext|>", m, gpt2).id, 50256);
  EXPECT_THROW(resolve_bos("60000", m, gpt2), Error);
  EXPECT_THROW(resolve_bos("<s>", m, gpt2), Error);
}

}  // namespace
}  // namespace entroscope::experiment
