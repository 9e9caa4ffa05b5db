#pragma once
// Scores every item under every condition with one model: builds the sequences, runs them in
// chunks (for progress; chunking never changes a number) and reduces each item's measured tokens
// to per-item means. A non-finite value stops the run with its place: layer, step, item (data
// file line), condition, token position.
#include <cstdint>
#include <vector>

#include "experiment/items.h"
#include "experiment/measures.h"
#include "experiment/model_result.h"
#include "experiment/progress.h"
#include "experiment/sequence_builder.h"
#include "experiment/window_plan.h"
#include "experiment/word_units.h"
#include "metrics/scorer.h"

namespace entroscope::experiment {

// One measured token, for the optional per-token output.
struct TokenRecord {
  std::uint32_t item = 0;
  std::uint32_t condition = 0;
  std::uint32_t token_index = 0;  // within the measured span
  std::uint32_t position = 0;     // within the condition's sequence
  std::int32_t token_id = 0;
  double entropy_bits = 0;
  double surprisal_bits = 0;
};

// One measured word (unit: word), for the optional per-word output. Spans are within the measured
// segment's text and tokens; measured_begin places the tokens in the condition's sequence.
struct WordRecord {
  std::uint32_t item = 0;
  std::uint32_t condition = 0;
  std::uint32_t word_index = 0;  // within the measured span
  std::uint32_t measured_begin = 0;
  WordMeasures measures;
};

struct ScoredItems {
  std::vector<ItemScores> items;
  std::vector<TokenRecord> tokens;  // unit token: filled only when asked for
  std::vector<WordRecord> words;    // unit word: filled only when asked for
  WindowInfo window;
};

// The window settings each item's scores were computed with (counts zero).
WindowInfo window_info(const ExperimentSpec& spec, const WindowShape& shape);

// `word_classes` must be given for unit: word, with the same classes set on `scorer`. Per item and
// condition the values are means over the measured units: for words, the entropy at each word's
// unit start and its beginning-of-word corrected surprisal (word_units.h).
ScoredItems score_items(const ExperimentSpec& spec, const ItemSet& items, const SequenceBuilder& builder,
                        metrics::Scorer& scorer, const WindowShape& shape, bool keep_units, Progress* progress,
                        const WordTokenClasses* word_classes = nullptr);

}  // namespace entroscope::experiment
