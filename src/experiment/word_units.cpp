#include "experiment/word_units.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "tokenizer/char_class.h"
#include "tokenizer/utf8.h"

namespace entroscope::experiment {
namespace {

bool starts_with_white_space(std::string_view bytes) {
  if (bytes.empty()) return false;
  const tokenizer::Utf8Char ch = tokenizer::decode_utf8(bytes, 0);
  return ch.valid && tokenizer::classify(ch.code_point) == tokenizer::CharClass::kWhitespace;
}

bool is_white_space_byte_run(std::string_view bytes) {
  for (std::size_t pos = 0; pos < bytes.size();) {
    const tokenizer::Utf8Char ch = tokenizer::decode_utf8(bytes, pos);
    if (!ch.valid || tokenizer::classify(ch.code_point) != tokenizer::CharClass::kWhitespace) return false;
    pos += ch.length;
  }
  return true;
}

double log2_add(double a, double b) {
  if (a == -HUGE_VAL) return b;
  if (b == -HUGE_VAL) return a;
  const double m = std::max(a, b);
  return m + std::log2(std::exp2(a - m) + std::exp2(b - m));
}

}  // namespace

WordTokenClasses word_token_classes(const tokenizer::Tokenizer& tok, int model_vocab_size, std::int32_t eos_id) {
  WordTokenClasses classes;
  classes.eos_id = eos_id;
  classes.masks.assign(static_cast<std::size_t>(model_vocab_size), 0);
  const std::vector<std::int32_t>& specials = tok.special_ids();
  const std::vector<std::int32_t>& lstrip = tok.lstrip_ids();
  const auto library_vocab = static_cast<std::int64_t>(tok.model_vocab_entries());
  for (std::int32_t id = 0; id < model_vocab_size; ++id) {
    if (!tok.is_valid_id(id)) continue;
    std::uint8_t bits = 0;
    if (id == eos_id) {
      bits = (1u << kBoundary) | (1u << kNotSpaceInitial) | (1u << kEndOfText);
    } else {
      if (std::binary_search(specials.begin(), specials.end(), id)) continue;  // other special tokens: no set
      bits |= starts_with_white_space(tok.token_bytes(id)) ? (1u << kBoundary) : (1u << kNonBoundary);
      // The libraries' space-initial tokens: "Ġ…" (byte-level) or "▁…" (SentencePiece).
      const std::string_view s = tok.token_string(id);
      const bool space_initial = s.starts_with("\xC4\xA0") || s.starts_with("\xE2\x96\x81");
      if (id < library_vocab) bits |= space_initial ? (1u << kSpaceInitial) : (1u << kNotSpaceInitial);
      if (space_initial || std::binary_search(lstrip.begin(), lstrip.end(), id)) bits |= 1u << kMiniconsBoundary;
    }
    classes.masks[static_cast<std::size_t>(id)] = bits;
  }
  return classes;
}

std::vector<Span> token_byte_spans(const tokenizer::Tokenizer& tok, std::string_view text,
                                   const std::vector<std::int32_t>& ids) {
  std::string spelled;
  for (std::int32_t id : ids) spelled.append(tok.token_bytes(id));
  // SentencePiece-style tokenizers put a space (the dummy "▁") before the text: it has no source
  // character, so the spans start one byte earlier.
  std::size_t dummy = 0;
  if (spelled != text) {
    if (spelled.size() == text.size() + 1 && spelled.front() == ' ' && std::string_view(spelled).substr(1) == text) {
      dummy = 1;
    } else {
      std::size_t at = 0;
      while (at < spelled.size() && at < text.size() && spelled[at] == text[at]) ++at;
      fail("word units need tokens that spell the text; this tokenizer changes it (a normalizer, or a literal \u2581) "
           "at byte {}",
           at);
    }
  }
  std::vector<Span> spans;
  spans.reserve(ids.size());
  std::size_t pos = 0;
  for (std::int32_t id : ids) {
    const std::size_t length = tok.token_bytes(id).size();
    const std::size_t begin = pos < dummy ? 0 : pos - dummy;
    pos += length;
    spans.push_back(Span{begin, pos < dummy ? 0 : pos - dummy});
  }
  return spans;
}

TextWords measure_words(std::string_view text, const std::vector<std::int32_t>& ids,
                        const std::vector<Span>& byte_spans, const WordTokenClasses& classes, const RowScores& rows) {
  TextWords out;
  // Words: maximal runs of non-whitespace characters, with code point and byte spans.
  struct RawWord {
    Span chars, bytes;
  };
  std::vector<RawWord> raw;
  std::size_t char_index = 0;
  bool in_word = false;
  for (std::size_t pos = 0; pos < text.size();) {
    const tokenizer::Utf8Char ch = tokenizer::decode_utf8(text, pos);
    const bool space = ch.valid && tokenizer::classify(ch.code_point) == tokenizer::CharClass::kWhitespace;
    if (!space && !in_word) raw.push_back(RawWord{{char_index, char_index}, {pos, pos}});
    in_word = !space;
    pos += ch.length;
    ++char_index;
    if (in_word) raw.back().chars.end = char_index, raw.back().bytes.end = pos;
  }

  const std::size_t n = ids.size();
  std::size_t previous_end = 0;  // te of the previous word
  for (std::size_t k = 0; k < raw.size(); ++k) {
    WordMeasures w;
    w.word = std::string(text.substr(raw[k].bytes.begin, raw[k].bytes.end - raw[k].bytes.begin));
    w.char_span = raw[k].chars;
    w.byte_span = raw[k].bytes;
    // Tokens overlapping the word's bytes.
    std::size_t ts = previous_end;
    while (ts < n && byte_spans[ts].end <= raw[k].bytes.begin) ++ts;
    std::size_t te = ts;
    while (te < n && byte_spans[te].begin < raw[k].bytes.end) ++te;
    w.token_span = Span{ts, te};
    w.unit_span = Span{previous_end, te};
    const std::size_t us = previous_end;
    // A token that reaches past the word's end into whitespace (cl100k-style ".\n").
    w.boundary_inside_token = te > 0 && byte_spans[te - 1].end > raw[k].bytes.end;
    if (ts > 0 && byte_spans[ts].begin < raw[k].bytes.begin &&
        !is_white_space_byte_run(text.substr(byte_spans[ts].begin, raw[k].bytes.begin - byte_spans[ts].begin))) {
      w.boundary_inside_token = true;
    }

    double surprisal = 0;
    for (std::size_t i = us; i < te; ++i) surprisal += rows.surprisal_bits[i];
    w.surprisal_bits = surprisal;
    w.first_subword_entropy_bits = rows.entropy_bits[ts];
    w.unit_entropy_bits = rows.entropy_bits[us];

    const std::int32_t first = ids[us];
    w.log2_p_bow_after = rows.log2_mass(te, kBoundary);
    w.log2_denominator = classes.in(first, kBoundary) ? rows.log2_mass(us, kBoundary) : rows.log2_mass(us, kNonBoundary);
    w.surprisal_bow_bits = surprisal - w.log2_p_bow_after + w.log2_denominator;

    // wordsprobability: B = Ġ-initial + EOS; first-word set = the rest (EOS included) + EOS again.
    const double wp_after = log2_add(rows.log2_mass(te, kSpaceInitial), rows.log2_mass(te, kEndOfText));
    const bool wp_boundary_first = classes.in(first, kSpaceInitial) || first == classes.eos_id;
    const double wp_denominator =
        wp_boundary_first ? log2_add(rows.log2_mass(us, kSpaceInitial), rows.log2_mass(us, kEndOfText))
                          : log2_add(rows.log2_mass(us, kNotSpaceInitial), rows.log2_mass(us, kEndOfText));
    w.surprisal_bow_wordsprobability_bits = surprisal - wp_after + wp_denominator;
    // minicons: B = Ġ-initial (and lstrip added tokens), no EOS; no normalizer for a first word or
    // after a separator outside its B.
    const double mc_after = rows.log2_mass(te, kMiniconsBoundary);
    const double mc_denominator =
        (k > 0 && classes.in(first, kMiniconsBoundary)) ? rows.log2_mass(us, kMiniconsBoundary) : 0.0;
    w.surprisal_bow_minicons_bits = surprisal - mc_after + mc_denominator;

    out.words.push_back(std::move(w));
    previous_end = te;
  }
  out.unassigned_token_span = Span{previous_end, n};
  return out;
}

}  // namespace entroscope::experiment
