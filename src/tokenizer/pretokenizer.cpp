#include "tokenizer/pretokenizer.h"

#include <algorithm>

#include "common/error.h"
#include "tokenizer/char_class.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

struct Flagged {
  Span span;
  bool is_match;
};

// The pieces a pattern's matches make of `text`: matches and the gaps between them, in order,
// covering the text (empty matches included; an empty text is one empty gap).
void cover_with_matches(std::string_view text, const std::vector<Span>& matches, bool invert,
                        std::vector<Flagged>& out) {
  out.clear();
  if (text.empty()) {
    out.push_back({{0, 0}, invert});
    return;
  }
  std::size_t prev = 0;
  for (const Span& m : matches) {
    if (m.begin != prev) out.push_back({{prev, m.begin}, invert});
    out.push_back({m, !invert});
    prev = m.end;
  }
  if (prev != text.size()) out.push_back({{prev, text.size()}, invert});
}

// Hugging Face's NormalizedString::split: which pieces are kept, and which are glued together.
void apply_behavior(const std::vector<Flagged>& flagged, SplitBehavior behavior, std::vector<Span>& kept) {
  kept.clear();
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Flagged& f : flagged) {
        if (!f.is_match) kept.push_back(f.span);
      }
      return;
    case SplitBehavior::kIsolated:
      for (const Flagged& f : flagged) kept.push_back(f.span);
      return;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (const Flagged& f : flagged) {
        if (f.is_match == previous && !kept.empty()) {
          kept.back().end = f.span.end;
        } else {
          kept.push_back(f.span);
        }
        previous = f.is_match;
      }
      return;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (const Flagged& f : flagged) {
        if (f.is_match && !previous && !kept.empty()) {
          kept.back().end = f.span.end;
        } else {
          kept.push_back(f.span);
        }
        previous = f.is_match;
      }
      return;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous = false;
      for (auto it = flagged.rbegin(); it != flagged.rend(); ++it) {
        if (it->is_match && !previous && !kept.empty()) {
          kept.back().begin = it->span.begin;
        } else {
          kept.push_back(it->span);
        }
        previous = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      return;
    }
  }
}

// Every character for which `member` holds is a match of its own (a char pattern).
template <typename Member>
void char_matches(std::string_view text, Member&& member, std::vector<Span>& matches) {
  for (std::size_t pos = 0; pos < text.size();) {
    const Utf8Char ch = decode_utf8(text, pos);
    if (ch.valid && member(ch.code_point)) matches.push_back(Span{pos, pos + ch.length});
    pos += ch.length;
  }
}

bool is_numeric(char32_t c) { return classify(c) == CharClass::kNumber; }
bool is_white_space(char32_t c) { return classify(c) == CharClass::kWhitespace; }

// \w+|[^\w\s]+ with Rust regex's Unicode \w (the Whitespace pre-tokenizer keeps only these).
void word_or_symbol_runs(std::string_view text, std::vector<Span>& matches) {
  auto kind_at = [&](std::size_t pos, std::size_t& length) {
    const Utf8Char ch = decode_utf8(text, pos);
    length = ch.length;
    if (!ch.valid) return 2;  // neither word nor space
    if (ch.code_point == 0x200C || ch.code_point == 0x200D || is_rust_word_char(ch.code_point)) return 0;
    if (is_white_space(ch.code_point)) return 1;
    return 2;
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t length = 0;
    const int kind = kind_at(pos, length);
    if (kind == 1) {
      pos += length;
      continue;
    }
    const std::size_t begin = pos;
    pos += length;
    while (pos < text.size()) {
      const std::size_t at = pos;
      if (kind_at(at, length) != kind) break;
      pos += length;
    }
    matches.push_back(Span{begin, pos});
  }
}

std::string_view keep(std::deque<std::string>& arena, std::string text) {
  arena.push_back(std::move(text));
  return arena.back();
}

}  // namespace

PreTokenizer::PreTokenizer(const std::vector<PreTokenizerStep>& steps, const std::string& origin) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const PreTokenizerStep& spec = steps[i];
    Step step{spec, nullptr};
    if (spec.kind == PreTokenizerKind::kByteLevel) {
      if (i + 1 != steps.size()) {
        fail("{}: pre_tokenizer ByteLevel followed by other pre-tokenizers is not supported (it must be the last "
             "step)",
             origin);
      }
      byte_level_ = true;
      // Only the byte mapping: nothing to do here.
      if (!spec.add_prefix_space && !spec.use_regex) continue;
    }
    if (spec.kind == PreTokenizerKind::kSplit) {
      step.pattern = compile_split_pattern(spec.pattern, fmt::format("{}: pre_tokenizer Split", origin));
    }
    steps_.push_back(std::move(step));
  }
  if (steps_.empty()) {
    fast_path_ = FastPath::kWhole;
  } else if (steps_.size() == 1 && steps_[0].spec.kind == PreTokenizerKind::kByteLevel &&
             !steps_[0].spec.add_prefix_space) {
    fast_path_ = FastPath::kScanner;
    scanner_ = compile_split_pattern(TextPattern{true, kGpt2SplitRegex}, origin);
  } else if (steps_.size() == 1 && steps_[0].spec.kind == PreTokenizerKind::kSplit &&
             steps_[0].pattern->covers_everything() && !steps_[0].spec.invert &&
             steps_[0].spec.behavior == SplitBehavior::kIsolated) {
    fast_path_ = FastPath::kScanner;
    scanner_ = steps_[0].pattern;
  } else {
    fast_path_ = FastPath::kNone;
  }
}

void PreTokenizer::apply_step(const Step& step, const Piece& piece, std::vector<Piece>& out,
                              std::deque<std::string>& arena) const {
  thread_local std::vector<Span> matches;
  thread_local std::vector<Flagged> flagged;
  thread_local std::vector<Span> kept;
  std::string_view text = piece.text;
  matches.clear();
  bool invert = false;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  switch (step.spec.kind) {
    case PreTokenizerKind::kByteLevel:
      if (step.spec.add_prefix_space && !text.empty() && text.front() != ' ') text = keep(arena, " " + std::string(text));
      if (!step.spec.use_regex) {
        out.push_back(Piece{text, piece.at_origin});
        return;
      }
      for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t end = gpt2_piece_end(text, pos);
        matches.push_back(Span{pos, end});
        pos = end;
      }
      break;
    case PreTokenizerKind::kSplit:
      step.pattern->find_matches(text, matches);
      invert = step.spec.invert;
      behavior = step.spec.behavior;
      break;
    case PreTokenizerKind::kMetaspace: {
      // Only U+0020 becomes the replacement; the prepend test sees the replaced text.
      const std::string& replacement = step.spec.replacement;
      std::string replaced;
      replaced.reserve(text.size() + replacement.size() * 4);
      for (char c : text) {
        if (c == ' ') {
          replaced += replacement;
        } else {
          replaced.push_back(c);
        }
      }
      const bool prepend = !std::string_view(replaced).starts_with(replacement) &&
                           (step.spec.prepend_scheme == PrependScheme::kAlways ||
                            (step.spec.prepend_scheme == PrependScheme::kFirst && piece.at_origin));
      text = keep(arena, prepend ? replacement + replaced : std::move(replaced));
      if (!step.spec.split) {
        out.push_back(Piece{text, piece.at_origin});
        return;
      }
      for (std::size_t at = text.find(replacement); at != std::string_view::npos;
           at = text.find(replacement, at + replacement.size())) {
        matches.push_back(Span{at, at + replacement.size()});
      }
      behavior = SplitBehavior::kMergedWithNext;
      break;
    }
    case PreTokenizerKind::kDigits:
      char_matches(text, is_numeric, matches);
      behavior = step.spec.individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous;
      break;
    case PreTokenizerKind::kWhitespace:
      word_or_symbol_runs(text, matches);
      invert = true;
      behavior = SplitBehavior::kRemoved;
      break;
    case PreTokenizerKind::kWhitespaceSplit:
      char_matches(text, is_white_space, matches);
      behavior = SplitBehavior::kRemoved;
      break;
  }
  cover_with_matches(text, matches, invert, flagged);
  apply_behavior(flagged, behavior, kept);
  for (const Span& span : kept) {
    if (span.end > span.begin) out.push_back(Piece{text.substr(span.begin, span.end - span.begin), piece.at_origin && span.begin == 0});
  }
}

void PreTokenizer::split_generic(std::string_view text, bool at_origin, std::vector<std::string_view>& out,
                                 std::deque<std::string>& arena) const {
  std::vector<Piece> current{Piece{text, at_origin}};
  std::vector<Piece> next;
  for (const Step& step : steps_) {
    next.clear();
    for (const Piece& piece : current) apply_step(step, piece, next, arena);
    current.swap(next);
  }
  for (const Piece& piece : current) out.push_back(piece.text);
}

std::vector<std::string> PreTokenizer::pieces(std::string_view text, bool at_origin) const {
  std::vector<std::string> out;
  for_each_piece(text, at_origin, [&](std::string_view piece) { out.emplace_back(piece); });
  return out;
}

}  // namespace entroscope::tokenizer
