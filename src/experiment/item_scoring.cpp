#include "experiment/item_scoring.h"

#include <algorithm>
#include <cmath>

#include "experiment/windowed_scorer.h"

namespace entroscope::experiment {

namespace {

// Items per scorer call: enough tokens to fill a few batches, few enough for lively progress.
constexpr std::size_t kChunkBatches = 1;
constexpr std::size_t kMaxChunkItems = 32;

[[noreturn]] void fail_non_finite(const model::NonFiniteError& e, const ExperimentSpec& spec, const ItemSet& set,
                                  std::size_t first_item, const std::vector<BuiltSequence>& built) {
  const model::NonFiniteLocation& w = e.where();
  const std::size_t n_cond = spec.conditions.size();
  const auto row = static_cast<std::size_t>(w.batch_row);
  const Item& item = set.items.at(first_item + row / n_cond);
  const Condition& condition = spec.conditions.at(row % n_cond);
  const BuiltSequence& seq = built.at(row);
  const auto p = static_cast<std::size_t>(w.position);
  std::string token;
  if (p < seq.ids.size()) {
    token = fmt::format("token id {}, ", seq.ids[p]);
    if (p < seq.measured_begin)
      token += "before the measured span";
    else if (p < seq.measured_end)
      token += fmt::format("measured token {} of {}", p - seq.measured_begin + 1, seq.measured_count());
  }
  const std::string layer = w.layer >= 0 ? fmt::format("layer {}", w.layer) : std::string("outside the blocks");
  throw NumericError(fmt::format(
      "{}: non-finite value ({}) in {}, step '{}', channel {}, while scoring item '{}' ({}:{}), condition '{}', "
      "token position {} ({})",
      w.model, w.value, layer, w.step, w.channel, item.id, set.file.string(), item.line, condition.name, p, token));
}

// Word measures of one sequence's measured segment from its measured rows (word_units.h).
TextWords measured_words(const BuiltSequence& seq, const MeasuredScores& s, const tokenizer::Tokenizer& tok,
                         const WordTokenClasses& classes) {
  const std::vector<std::int32_t> ids(seq.ids.begin() + static_cast<std::ptrdiff_t>(seq.measured_begin),
                                      seq.ids.begin() + static_cast<std::ptrdiff_t>(seq.measured_end));
  RowScores rows;
  rows.entropy_bits = s.entropy_bits;
  rows.entropy_bits.push_back(s.entropy_after_bits);
  rows.surprisal_bits = s.surprisal_bits;
  rows.log2_class_mass = s.log2_class_mass;
  return measure_words(seq.measured_text, ids, token_byte_spans(tok, seq.measured_text, ids), classes, rows);
}

}  // namespace

WindowInfo window_info(const ExperimentSpec& spec, const WindowShape& shape) {
  WindowInfo w;
  w.length = shape.length;
  w.stride_setting = shape.stride;
  for (const Condition& c : spec.conditions) w.stride_by_condition[c.name] = effective_stride(shape, c.window_prefix_segments);
  return w;
}

ScoredItems score_items(const ExperimentSpec& spec, const ItemSet& set, const SequenceBuilder& builder,
                        metrics::Scorer& scorer, const WindowShape& shape, bool keep_units, Progress* progress,
                        const WordTokenClasses* word_classes) {
  const bool words = spec.unit == Unit::kWord;
  if (words && (!word_classes || scorer.class_count() != kWordClassCount))
    fail("internal error: word units need the word token classes on the scorer");
  ScoredItems out;
  out.window = window_info(spec, shape);
  WindowedScorer windowed(scorer, shape);
  const std::size_t n_cond = spec.conditions.size();
  const std::size_t chunk_tokens = kChunkBatches * spec.batch_tokens;
  const std::string file = spec.data_file.string();

  std::size_t next = 0;
  while (next < set.items.size()) {
    // Build one chunk of items x conditions.
    std::vector<BuiltSequence> built;
    std::size_t tokens = 0, end = next;
    while (end < set.items.size() && (end == next || (tokens < chunk_tokens && end - next < kMaxChunkItems))) {
      for (const Condition& c : spec.conditions) {
        built.push_back(builder.build(c, set.items[end]));
        tokens += built.back().ids.size();
      }
      ++end;
    }
    std::vector<const BuiltSequence*> pointers;
    for (const auto& b : built) pointers.push_back(&b);
    std::vector<MeasuredScores> scores;
    try {
      scores = windowed.score(pointers);
    } catch (const model::NonFiniteError& e) {
      fail_non_finite(e, spec, set, next, built);
    }

    for (std::size_t i = next; i < end; ++i) {
      const Item& source = set.items[i];
      ItemScores item;
      item.id = source.id;
      item.line = source.line;
      for (std::size_t c = 0; c < n_cond; ++c) {
        const std::size_t row = (i - next) * n_cond + c;
        const BuiltSequence& seq = built[row];
        const MeasuredScores& s = scores[row];
        ItemConditionScores v;
        v.n_preceding_tokens = seq.measured_begin;
        v.windows = s.windows;
        double sum_h = 0, sum_s = 0;  // in unit order, so the means do not depend on chunking
        if (words) {
          TextWords tw;
          try {
            tw = measured_words(seq, s, builder.tokenizer(), *word_classes);
          } catch (const Error& e) {
            fail_at(source.where(file), "item '{}', condition '{}': {}", source.id, spec.conditions[c].name, e.what());
          }
          if (tw.words.empty())
            fail_at(source.where(file), "item '{}': the measured span of condition '{}' has no words (only whitespace)",
                    source.id, spec.conditions[c].name);
          for (std::size_t k = 0; k < tw.words.size(); ++k) {
            const WordMeasures& w = tw.words[k];
            if (!std::isfinite(w.surprisal_bow_bits) || !std::isfinite(w.first_subword_entropy_bits))
              fail_at(source.where(file),
                      "item '{}', condition '{}', word {} ('{}'): a word-boundary probability is 0, so the corrected "
                      "surprisal is not finite",
                      source.id, spec.conditions[c].name, k, w.word);
            sum_h += w.first_subword_entropy_bits;  // the word entropy of tests/data/words/README.md §6
            sum_s += w.surprisal_bow_bits;
            if (keep_units)
              out.words.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(c),
                                   static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(seq.measured_begin), w});
          }
          v.n_tokens = tw.words.size();
        } else {
          for (std::size_t k = 0; k < s.entropy_bits.size(); ++k) {
            sum_h += s.entropy_bits[k];
            sum_s += s.surprisal_bits[k];
            if (keep_units)
              out.tokens.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(c),
                                    static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(seq.measured_begin + k),
                                    seq.ids[seq.measured_begin + k], s.entropy_bits[k], s.surprisal_bits[k]});
          }
          v.n_tokens = seq.measured_count();
        }
        v.mean_bits[index_of(Measure::kEntropy)] = sum_h / static_cast<double>(v.n_tokens);
        v.mean_bits[index_of(Measure::kSurprisal)] = sum_s / static_cast<double>(v.n_tokens);
        if (s.windows > 1) ++out.window.sequences_windowed;
        out.window.max_windows = std::max(out.window.max_windows, s.windows);
        item.conditions.push_back(v);
      }
      out.items.push_back(std::move(item));
    }
    next = end;
    if (progress) progress->update(next);
  }
  return out;
}

}  // namespace entroscope::experiment
