#pragma once
// One text, scored by one model: its tokens, their byte spans, and every row's entropy, token
// surprisal and (for word units) boundary-class masses, with the model input BOS + the text's
// tokens (nothing appended). Without a BOS the first token has no row: its values are NaN, which
// the outputs write as NA ("unscored").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "experiment/word_units.h"
#include "metrics/scorer.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace entroscope::experiment {

// --bos: auto (the tokenizer's template BOS; else per family <|endoftext|> or config.json's
// bos_token_id, docs/words.md), never, or one token given by id or by its string.
struct BosChoice {
  std::int32_t id = -1;   // -1: no BOS
  std::string described;  // what the outputs record: "auto: <|endoftext|> (2047)", "never", ...
};
BosChoice resolve_bos(const std::string& policy, const model::Model& model, const tokenizer::Tokenizer& tok);

// EOS for the word boundary set: config.json's eos_token_id when it names a token, else
// <|endoftext|>, else none (-1).
std::int32_t resolve_eos(const model::Model& model, const tokenizer::Tokenizer& tok);

struct TextScores {
  std::vector<std::int32_t> ids;  // the text's tokens, no BOS
  std::vector<Span> byte_spans;   // empty unless word units were asked for
  RowScores rows;                 // rows 0..n as in word_units.h
};

// `scorer` must have the word classes set when `words` is true. A text longer than the model's
// context is scored in sliding windows (window_plan.h): every token once, with at least half a
// context before it.
TextScores score_text(metrics::Scorer& scorer, const tokenizer::Tokenizer& tok, std::string_view text,
                      std::int32_t bos_id, bool words);
// Several texts at once: those that fit the context are packed into shared forward calls (the
// same bits as one by one: packing never changes a number), longer ones windowed one by one.
std::vector<TextScores> score_texts(metrics::Scorer& scorer, const tokenizer::Tokenizer& tok,
                                    const std::vector<std::string_view>& texts, std::int32_t bos_id, bool words);

}  // namespace entroscope::experiment
