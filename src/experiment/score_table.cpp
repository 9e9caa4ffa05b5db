#include "experiment/score_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "experiment/checked_output.h"
#include "tokenizer/utf8.h"

namespace entroscope::experiment {
namespace {

using Cell = nlohmann::json;

// Texts scored per Scorer call: enough to fill its forward calls with short texts, few enough that
// on_text (progress, a notebook's Ctrl-C) is heard often.
constexpr std::size_t kTextsPerCall = 64;

// Index of the character that holds byte `b`, for each byte offset 0..size.
std::vector<std::size_t> char_index_of_bytes(std::string_view text) {
  std::vector<std::size_t> index(text.size() + 1, 0);
  std::size_t chars = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = tokenizer::decode_utf8(text, pos).length;
    for (std::size_t k = 0; k < length; ++k) index[pos + k] = chars;
    pos += length;
    ++chars;
  }
  index[text.size()] = chars;
  return index;
}

// Char span of a byte span: from the character holding its first byte to the end of the
// character holding its last byte.
Span char_span(const std::vector<std::size_t>& index, Span bytes) {
  if (bytes.end == bytes.begin) return {index[bytes.begin], index[bytes.begin]};
  return {index[bytes.begin], index[bytes.end - 1] + 1};
}

}  // namespace

ScoreUnit parse_score_unit(const std::string& unit, const std::string& option) {
  if (unit == "token") return ScoreUnit::kToken;
  if (unit == "word") return ScoreUnit::kWord;
  fail("{} {}: use token or word", option, unit);
}

std::vector<std::string> score_columns(const std::vector<ScoreInput>& inputs, ScoreUnit unit) {
  std::vector<std::string> columns{"model", "revision", "bos", "text_id"};
  for (const ScoreInput& t : inputs)
    for (const auto& item : t.extra.items())
      if (std::find(columns.begin() + 4, columns.end(), item.key()) == columns.end()) columns.push_back(item.key());
  for (const char* c : {"unit_index", "unit", "char_start", "char_end", "byte_start", "byte_end"}) columns.push_back(c);
  switch (unit) {
    case ScoreUnit::kWord:
      for (const char* c : {"token_start", "token_end", "unit_token_start", "entropy_bits", "surprisal_bits",
                            "surprisal_bow_bits", "surprisal_bow_wordsprobability_bits", "surprisal_bow_minicons_bits",
                            "first_subword_entropy_bits", "boundary_inside_token"})
        columns.push_back(c);
      break;
    case ScoreUnit::kToken:
      for (const char* c : {"token_index", "token_id", "entropy_bits", "surprisal_bits"}) columns.push_back(c);
      break;
  }
  return columns;
}

void append_score_rows(ScoreTable& table, const std::vector<ScoreInput>& inputs, ScoreUnit unit, const ScoringModel& m,
                       const std::function<void(const ScoreInput&, const TextScores&)>& on_text) {
  const std::size_t extra_columns = table.columns.size() - 4 - 6 - (unit == ScoreUnit::kWord ? 10 : 4);
  std::vector<std::vector<Cell>> rows;
  std::vector<TextScores> scored;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const ScoreInput& input = inputs[i];
    if (i % kTextsPerCall == 0) {  // the next texts, packed into shared forward calls
      std::vector<std::string_view> texts;
      for (std::size_t j = i; j < std::min(inputs.size(), i + kTextsPerCall); ++j) texts.push_back(inputs[j].text);
      scored = score_texts(m.scorer, m.tok, texts, m.bos.id, unit == ScoreUnit::kWord);
    }
    const TextScores& s = scored[i % kTextsPerCall];
    if (on_text) on_text(input, s);
    std::vector<Cell> prefix{m.name, m.revision.empty() ? Cell() : Cell(m.revision), m.bos.described, input.id};
    for (std::size_t k = 0; k < extra_columns; ++k) {
      const std::string& key = table.columns[4 + k];
      prefix.push_back(input.extra.contains(key) ? input.extra[key] : Cell());
    }
    const std::vector<std::size_t> char_index = char_index_of_bytes(input.text);
    switch (unit) {
      case ScoreUnit::kWord: {
        const TextWords tw = measure_words(input.text, s.ids, s.byte_spans, *m.classes, s.rows);
        for (std::size_t k = 0; k < tw.words.size(); ++k) {
          const WordMeasures& w = tw.words[k];
          // A boundary class with no probability mass at all would make a correction infinite.
          for (double v : {w.surprisal_bow_bits, w.surprisal_bow_wordsprobability_bits, w.surprisal_bow_minicons_bits}) {
            if (std::isinf(v)) {
              fail("{}: text {}, word {} ({}): a word-boundary probability is 0, so the corrected surprisal is "
                   "infinite (nothing written)",
                   m.name, input.id.dump(), k,
                   nlohmann::json(w.word).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            }
          }
          std::vector<Cell> cells = prefix;
          for (const Cell& c : std::vector<Cell>{
                   k, w.word, w.char_span.begin, w.char_span.end, w.byte_span.begin, w.byte_span.end,
                   w.token_span.begin, w.token_span.end, w.unit_span.begin, w.unit_entropy_bits, w.surprisal_bits,
                   w.surprisal_bow_bits, w.surprisal_bow_wordsprobability_bits, w.surprisal_bow_minicons_bits,
                   w.first_subword_entropy_bits, w.boundary_inside_token})
            cells.push_back(c);
          rows.push_back(std::move(cells));
        }
        break;
      }
      case ScoreUnit::kToken: {
        std::size_t byte = 0;
        for (std::size_t i = 0; i < s.ids.size(); ++i) {
          const std::string_view bytes = m.tok.token_bytes(s.ids[i]);
          const Span span{byte, std::min(byte + bytes.size(), input.text.size())};
          const Span chars = char_span(char_index, span);
          std::vector<Cell> cells = prefix;
          for (const Cell& c : std::vector<Cell>{i, printable_bytes(bytes), chars.begin, chars.end, span.begin,
                                                 span.end, i, s.ids[i], s.rows.entropy_bits[i], s.rows.surprisal_bits[i]})
            cells.push_back(c);
          rows.push_back(std::move(cells));
          byte = span.end;
        }
        break;
      }
    }
  }
  for (auto& r : rows) table.rows.push_back(std::move(r));
}

}  // namespace entroscope::experiment
