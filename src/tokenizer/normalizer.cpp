#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

#include "common/error.h"
#include "tokenizer/char_class.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

// Every code point below U+0300 is NFC-stable, and UTF-8 bytes below 0xCC only ever encode such
// code points. ASCII characters are starters that never compose with what precedes them, so NFC
// works on each stretch between ASCII characters independently: only the stretches around bytes
// >= 0xCC (from the ASCII character before them, which may take a combining mark, to the next
// ASCII character) are handed to utf8proc; everything else is copied.
constexpr unsigned char kFirstUnstableLeadByte = 0xCC;

// The reference's Unicode normalization (the crate unicode-normalization-alignments 0.1.12) has
// Unicode 9.0 tables: a character assigned later is, for it, a starter with no decomposition that
// composes with nothing. These are the characters assigned after 9.0 that do take part in
// normalization for utf8proc 2.8 (Unicode 15.0: a nonzero combining class, a canonical or
// compatibility decomposition, or a part of one); each is passed through unchanged and cuts the
// text into separately normalized runs, which is what those tables do with it. (Characters newer
// than 15.0 are unassigned for utf8proc too.) Generated from utf8proc 2.8 and Perl 5.36's Age
// property (Unicode 14.0; unassigned there counts as newer).
constexpr std::pair<char32_t, char32_t> kNormalizesAfterUnicode9[] = {
    {0x7FD, 0x7FD}, {0x898, 0x89F}, {0x8CA, 0x8D3}, {0x9FE, 0x9FE}, {0xC3C, 0xC3C},
    {0xD3B, 0xD3C}, {0xEBA, 0xEBA}, {0x1715, 0x1715}, {0x1ABF, 0x1ACE}, {0x1DF6, 0x1DFA},
    {0x32FF, 0x32FF}, {0xA7F2, 0xA7F4}, {0xA82C, 0xA82C}, {0xAB66, 0xAB67}, {0xAB69, 0xAB69},
    {0x10781, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x10D24, 0x10D27}, {0x10EAB, 0x10EAC},
    {0x10EFD, 0x10EFF}, {0x10F46, 0x10F50}, {0x10F82, 0x10F85}, {0x11070, 0x11070}, {0x1133B, 0x1133B},
    {0x1145E, 0x1145E}, {0x11839, 0x1183A}, {0x11930, 0x11930}, {0x11935, 0x11935}, {0x11938, 0x11938},
    {0x1193D, 0x1193E}, {0x11943, 0x11943}, {0x119E0, 0x119E0}, {0x11A34, 0x11A34}, {0x11A47, 0x11A47},
    {0x11A99, 0x11A99}, {0x11D42, 0x11D42}, {0x11D44, 0x11D45}, {0x11D97, 0x11D97}, {0x11F41, 0x11F42},
    {0x16FF0, 0x16FF1}, {0x1DF04, 0x1DF06}, {0x1DF08, 0x1DF08}, {0x1DF0A, 0x1DF0A}, {0x1DF1E, 0x1DF1E},
    {0x1E030, 0x1E06D}, {0x1E08F, 0x1E08F}, {0x1E130, 0x1E136}, {0x1E2AE, 0x1E2AE}, {0x1E2EC, 0x1E2EF},
    {0x1E4EC, 0x1E4EF}, {0x1F16C, 0x1F16C}, {0x1FBF0, 0x1FBF9},
};

bool normalizes_after_unicode9(char32_t c) {
  if (c < 0x7FD) return false;
  for (const auto& [first, last] : kNormalizesAfterUnicode9) {
    if (c < first) return false;
    if (c <= last) return true;
  }
  return false;
}

void append_normalized_valid_utf8(std::string_view valid, utf8proc_option_t options, std::string& out) {
  if (valid.empty()) return;
  utf8proc_uint8_t* result = nullptr;
  utf8proc_ssize_t length = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid.data()),
                                         static_cast<utf8proc_ssize_t>(valid.size()), &result, options);
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(result, &std::free);
  if (length == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
  if (length < 0) fail("Unicode normalization failed: {}", utf8proc_errmsg(length));
  out.append(reinterpret_cast<const char*>(result), static_cast<std::size_t>(length));
}

// Normalization of text that may hold bytes that are not valid UTF-8: those, and the characters
// the reference's Unicode 9.0 tables do not normalize, are kept as they are and split the text
// into separately normalized runs.
void append_normalized(std::string_view text, utf8proc_option_t options, std::string& out) {
  std::size_t run_start = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    Utf8Char ch = decode_utf8(text, pos);
    if (ch.valid && !normalizes_after_unicode9(ch.code_point)) {
      pos += ch.length;
      continue;
    }
    append_normalized_valid_utf8(text.substr(run_start, pos - run_start), options, out);
    out.append(text.substr(pos, ch.length));
    pos += ch.length;
    run_start = pos;
  }
  append_normalized_valid_utf8(text.substr(run_start), options, out);
}

constexpr auto kNfcOptions = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);

bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

bool is_white_space_at(std::string_view text, std::size_t pos, std::size_t& length) {
  const Utf8Char ch = decode_utf8(text, pos);
  length = ch.length;
  return ch.valid && classify(ch.code_point) == CharClass::kWhitespace;
}

// Rust's char::to_lowercase, which Hugging Face's Lowercase applies per character: the simple
// mapping, except U+0130 (I with dot above), whose lowercase is two characters.
void append_lowercase(std::string_view text, std::string& out) {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      out.push_back(b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : static_cast<char>(b));
      ++pos;
      continue;
    }
    const Utf8Char ch = decode_utf8(text, pos);
    if (!ch.valid) {
      out.push_back(text[pos]);
    } else if (ch.code_point == 0x130) {
      out += "i\xCC\x87";
    } else {
      append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(ch.code_point))));
    }
    pos += ch.length;
  }
}

}  // namespace

std::string_view nfc_normalize(std::string_view text, std::string& storage) {
  std::size_t copied = 0;      // text[0, copied) is already in storage
  std::size_t last_ascii = 0;  // start of the stretch that ends at the current position
  bool changed = false;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (byte < 0x80) {
      last_ascii = pos;
      continue;
    }
    if (byte < kFirstUnstableLeadByte) continue;
    if (!changed) {
      storage.clear();
      storage.reserve(text.size() + 16);
      changed = true;
    }
    std::size_t end = pos + 1;
    while (end < text.size() && !is_ascii(text[end])) ++end;
    const std::size_t begin = std::max(last_ascii, copied);
    storage.append(text.substr(copied, begin - copied));
    append_normalized(text.substr(begin, end - begin), kNfcOptions, storage);
    copied = end;
    last_ascii = end;
    pos = end - 1;
  }
  if (!changed) return text;
  storage.append(text.substr(copied));
  if (storage == text) return text;
  return storage;
}

Normalizer::Normalizer(const std::vector<NormalizerStep>& steps, const std::string& origin) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    Step step{steps[i], nullptr};
    if (steps[i].kind == NormalizerKind::kReplace) {
      step.pattern = compile_split_pattern(steps[i].pattern, fmt::format("{}: normalizer Replace", origin));
    }
    steps_.push_back(std::move(step));
  }
}

bool Normalizer::apply_step(const Step& step, std::string_view in, std::string& out, bool& start_moved) const {
  out.clear();
  switch (step.spec.kind) {
    case NormalizerKind::kNfc: {
      const std::string_view result = nfc_normalize(in, out);
      return result.data() != in.data();
    }
    case NormalizerKind::kNfd:
      append_normalized(in, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE), out);
      return true;
    case NormalizerKind::kNfkc:
      append_normalized(in, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT), out);
      return true;
    case NormalizerKind::kNfkd:
      append_normalized(in, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT),
                        out);
      return true;
    case NormalizerKind::kLowercase:
      append_lowercase(in, out);
      return true;
    case NormalizerKind::kPrepend:
      if (in.empty()) return false;
      out.reserve(step.spec.content.size() + in.size());
      out.append(step.spec.content).append(in);
      return true;
    case NormalizerKind::kReplace: {
      thread_local std::vector<Span> matches;
      matches.clear();
      step.pattern->find_matches(in, matches);
      if (matches.empty()) return false;
      if (matches.front().begin == 0 && matches.front().end > 0 &&
          (step.spec.content.empty() || decode_utf8(in, 0).length < matches.front().end)) {
        start_moved = true;
      }
      std::size_t copied = 0;
      for (const Span& m : matches) {
        out.append(in.substr(copied, m.begin - copied)).append(step.spec.content);
        copied = m.end;
      }
      out.append(in.substr(copied));
      return true;
    }
    case NormalizerKind::kStrip: {
      std::size_t begin = 0;
      std::size_t end = in.size();
      std::size_t length = 0;
      if (step.spec.strip_left) {
        while (begin < end && is_white_space_at(in, begin, length)) begin += length;
      }
      if (step.spec.strip_right) {
        // Step back over whole characters: find the start of the last character each time.
        while (end > begin) {
          std::size_t start = end - 1;
          while (start > begin && (static_cast<unsigned char>(in[start]) & 0xC0) == 0x80 && end - start < 4) --start;
          if (!is_white_space_at(in, start, length) || start + length != end) break;
          end = start;
        }
      }
      if (begin == 0 && end == in.size()) return false;
      if (begin > 0) start_moved = true;
      out.assign(in.substr(begin, end - begin));
      return true;
    }
  }
  return false;
}

std::string_view Normalizer::apply(std::string_view text, std::string& storage, bool* start_moved) const {
  if (steps_.empty()) return text;
  bool moved = false;
  // Two buffers used in turn: a step reads the previous result and writes the other one.
  thread_local std::string scratch;
  std::string_view current = text;
  std::string* buffers[2] = {&storage, &scratch};
  int next = 0;
  for (const Step& step : steps_) {
    std::string& out = *buffers[next];
    if (apply_step(step, current, out, moved)) {
      current = out;
      next ^= 1;
    }
  }
  if (start_moved) *start_moved = moved;
  if (current.data() == scratch.data()) {
    storage.assign(current);
    return storage;
  }
  return current;
}

}  // namespace entroscope::tokenizer
