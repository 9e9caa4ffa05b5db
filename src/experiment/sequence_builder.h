#pragma once
// Turns (condition, item) into token ids for one model. Each segment is tokenized on its own and
// the id lists are concatenated, so the measured segment's ids are the same in every condition
// that uses the same text. Special-token segments are resolved once per model and recorded.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "experiment/items.h"
#include "experiment/spec.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace entroscope::experiment {

struct BuiltSequence {
  std::vector<std::int32_t> ids;
  std::size_t window_prefix = 0;   // leading special tokens, repeated at the start of every window
  std::size_t measured_begin = 0;  // measured tokens are ids[measured_begin, measured_end)
  std::size_t measured_end = 0;
  std::string measured_text;  // the measured segment's text (empty for a special token)
  std::size_t measured_count() const { return measured_end - measured_begin; }
};

class SequenceBuilder {
 public:
  // Resolves every special segment of the spec for this model: "<|endoftext|>"-style names through
  // the tokenizer's vocabulary, bos / eos through config.json. Throws Error naming the segment's
  // place in the experiment file when the model has no such token.
  SequenceBuilder(const ExperimentSpec& spec, const tokenizer::Tokenizer& tokenizer, const model::ModelConfig& config,
                  const std::string& model_name);

  // Throws Error naming the data file line when the measured span has no tokens or nothing
  // precedes it.
  BuiltSequence build(const Condition& condition, const Item& item) const;

  // Special segment as written -> token id, for the results' metadata.
  const std::map<std::string, std::int32_t>& special_ids() const { return special_ids_; }
  const tokenizer::Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  const ExperimentSpec& spec_;
  const tokenizer::Tokenizer& tokenizer_;
  std::map<std::string, std::int32_t> special_ids_;
};

}  // namespace entroscope::experiment
