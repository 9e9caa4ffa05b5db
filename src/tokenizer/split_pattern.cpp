#include "tokenizer/split_pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

#include <array>
#include <mutex>

#include "common/error.h"
#include "tokenizer/char_class.h"
#include "tokenizer/json_quote.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {

const char* const kGpt2SplitRegex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string cl100k_split_regex(int max_digits) {
  const std::string digits = max_digits == 1 ? R"(\p{N})" : fmt::format(R"(\p{{N}}{{1,{}}})", max_digits);
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|)" + digits +
         R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

namespace {

struct ClassifiedChar {
  CharClass cls;
  std::size_t length;
};

inline ClassifiedChar char_at(std::string_view text, std::size_t pos) {
  const auto b = static_cast<unsigned char>(text[pos]);
  if (b < 0x80) return {detail::kAsciiClasses[b], 1};
  const Utf8Char ch = decode_utf8(text, pos);
  if (!ch.valid) return {CharClass::kOther, 1};
  return {classify_code_point(ch.code_point), ch.length};
}

// End of the run of characters of class `cls` that starts at `pos`.
std::size_t run_end(std::string_view text, std::size_t pos, CharClass cls) {
  while (pos < text.size()) {
    const ClassifiedChar c = char_at(text, pos);
    if (c.cls != cls) break;
    pos += c.length;
  }
  return pos;
}

// GPT-2's contractions are ASCII and lowercase only ("IT'S" and "it’s" have none).
std::size_t gpt2_contraction_length(std::string_view text, std::size_t pos) {
  std::string_view rest = text.substr(pos + 1);
  if (rest.empty()) return 0;
  switch (rest[0]) {
    case 's':
    case 't':
    case 'm':
    case 'd':
      return 2;
    default:
      break;
  }
  std::string_view two = rest.substr(0, 2);
  if (two == "ll" || two == "ve" || two == "re") return 3;
  return 0;
}

// The ASCII letter the character at `pos` case-folds to (with its length in bytes), or 0. Besides
// ASCII, only U+017F LONG S folds to one of the contraction letters (s); U+212A KELVIN SIGN folds
// to k, which no contraction uses.
std::pair<char, std::size_t> folded_ascii_letter(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return {0, 0};
  const auto b = static_cast<unsigned char>(text[pos]);
  if (b < 0x80) {
    if (b >= 'A' && b <= 'Z') return {static_cast<char>(b - 'A' + 'a'), 1};
    if (b >= 'a' && b <= 'z') return {static_cast<char>(b), 1};
    return {0, 0};
  }
  if (b == 0xC5 && pos + 1 < text.size() && static_cast<unsigned char>(text[pos + 1]) == 0xBF) return {'s', 2};
  return {0, 0};
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at text[pos] == '\''.
std::size_t folded_contraction_length(std::string_view text, std::size_t pos) {
  const auto [first, first_length] = folded_ascii_letter(text, pos + 1);
  switch (first) {
    case 's':
    case 't':
    case 'm':
    case 'd':
      return 1 + first_length;
    case 'r':
    case 'v':
    case 'l': {
      const auto [second, second_length] = folded_ascii_letter(text, pos + 1 + first_length);
      const char want = first == 'l' ? 'l' : 'e';
      if (second == want) return 1 + first_length + second_length;
      return 0;
    }
    default:
      return 0;
  }
}

bool is_cr_or_lf(char c) { return c == '\r' || c == '\n'; }

// The maximal run of whitespace from `start`: where it ends, where its last character starts, and
// the end of its last \r or \n (0 when it has none).
struct WhitespaceRun {
  std::size_t end;
  std::size_t last_char_start;
  std::size_t after_last_newline;
};

WhitespaceRun whitespace_run(std::string_view text, std::size_t start) {
  WhitespaceRun run{start, start, 0};
  while (run.end < text.size()) {
    const ClassifiedChar c = char_at(text, run.end);
    if (c.cls != CharClass::kWhitespace) break;
    run.last_char_start = run.end;
    run.end += c.length;
    if (is_cr_or_lf(text[run.last_char_start])) run.after_last_newline = run.end;
  }
  return run;
}

// "\s+(?!\S)|\s+" at whitespace: the whole run if it reaches the end of the text, otherwise the
// run without its last character (which then may lead the next word); a single whitespace
// character before a non-space is a piece of its own.
std::size_t whitespace_piece_end(std::string_view text, std::size_t start, const WhitespaceRun& run) {
  if (run.end == text.size()) return run.end;
  return run.last_char_start > start ? run.last_char_start : run.end;
}

// ---- PCRE2 --------------------------------------------------------------------------------------

using Ranges = std::vector<std::pair<char32_t, char32_t>>;

bool is_letter(char32_t c) { return classify_code_point(c) == CharClass::kLetter; }
bool is_number(char32_t c) { return classify_code_point(c) == CharClass::kNumber; }
bool is_space(char32_t c) { return classify_code_point(c) == CharClass::kWhitespace; }

Ranges complement(const Ranges& ranges) {
  Ranges out;
  char32_t next = 0;
  auto add = [&](char32_t first, char32_t last) {
    // Surrogates are not scalar values; a class never needs them.
    if (first <= 0xDFFF && last >= 0xD800) {
      if (first < 0xD800) out.emplace_back(first, 0xD7FF);
      if (last > 0xDFFF) out.emplace_back(0xE000, last);
      return;
    }
    out.emplace_back(first, last);
  };
  for (const auto& [first, last] : ranges) {
    if (first > next) add(next, first - 1);
    next = last + 1;
  }
  if (next <= 0x10FFFF) add(next, 0x10FFFF);
  return out;
}

// The code point sets the rewritten escapes stand for, computed once.
struct EscapeSets {
  Ranges letter, number, space, decimal, word;
  static const EscapeSets& get() {
    static const EscapeSets sets{code_point_ranges(is_letter), code_point_ranges(is_number),
                                 code_point_ranges(is_space), code_point_ranges(is_decimal_number),
                                 code_point_ranges(is_word_char)};
    return sets;
  }
};

void append_ranges(std::string& out, const Ranges& ranges) {
  for (const auto& [first, last] : ranges) {
    if (first == last) {
      fmt::format_to(std::back_inserter(out), "\\x{{{:X}}}", static_cast<std::uint32_t>(first));
    } else {
      fmt::format_to(std::back_inserter(out), "\\x{{{:X}}}-\\x{{{:X}}}", static_cast<std::uint32_t>(first),
                     static_cast<std::uint32_t>(last));
    }
  }
}

// The set an escape names, or nullptr when it is not one that is rewritten.
const Ranges* set_of_property(const std::string& name) {
  const EscapeSets& sets = EscapeSets::get();
  if (name == "L" || name == "Letter") return &sets.letter;
  if (name == "N" || name == "Number") return &sets.number;
  if (name == "Nd" || name == "Decimal_Number") return &sets.decimal;
  return nullptr;
}

class Pcre2Pattern final : public SplitPattern {
 public:
  Pcre2Pattern(const std::string& oniguruma_regex, const std::string& where) : SplitPattern(false) {
    const std::string source = translate_oniguruma_regex(oniguruma_regex, where);
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
    if (!code) {
      std::array<PCRE2_UCHAR, 256> message{};
      pcre2_get_error_message(error, message.data(), message.size());
      fail("{}: the regex {} cannot be compiled: {}", where, json_quoted(oniguruma_regex),
           reinterpret_cast<const char*>(message.data()));
    }
    code_.reset(code);
    // JIT makes matching several times faster; the interpreter is the fallback where JIT is missing.
    jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  }

  // Oniguruma's find_iter: after an empty match the search moves on by one character, and the
  // first empty match found after a non-empty one is dropped.
  void find_matches(std::string_view text, std::vector<Span>& matches) const override {
    thread_local std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
        pcre2_match_data_create(1, nullptr), &pcre2_match_data_free);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t last_end = 0;
    bool skip_next_empty = false;
    while (last_end <= text.size()) {
      const int rc = jit_ ? pcre2_jit_match(code_.get(), subject, text.size(), last_end, 0, data.get(), nullptr)
                          : pcre2_match(code_.get(), subject, text.size(), last_end, 0, data.get(), nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) return;
      if (rc < 0) {
        std::array<PCRE2_UCHAR, 256> message{};
        pcre2_get_error_message(rc, message.data(), message.size());
        fail("regex matching failed: {}", reinterpret_cast<const char*>(message.data()));
      }
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
      const Span match{ovector[0], ovector[1]};
      last_end = match.end;
      if (match.end == match.begin) {
        last_end += last_end < text.size() ? decode_utf8(text, last_end).length : 1;
        if (skip_next_empty) {
          skip_next_empty = false;
          continue;
        }
      } else {
        skip_next_empty = true;
      }
      matches.push_back(match);
    }
  }

 private:
  struct CodeDeleter {
    void operator()(pcre2_code* code) const { pcre2_code_free(code); }
  };
  std::unique_ptr<pcre2_code, CodeDeleter> code_;
  bool jit_ = false;
};

class Gpt2Scanner final : public SplitPattern {
 public:
  Gpt2Scanner() : SplitPattern(true) {}
  void find_matches(std::string_view text, std::vector<Span>& matches) const override {
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t end = gpt2_piece_end(text, pos);
      matches.push_back(Span{pos, end});
      pos = end;
    }
  }
  std::size_t covering_match_end(std::string_view text, std::size_t start) const override {
    return gpt2_piece_end(text, start);
  }
};

class Cl100kScanner final : public SplitPattern {
 public:
  explicit Cl100kScanner(int max_digits) : SplitPattern(true), max_digits_(max_digits) {}
  void find_matches(std::string_view text, std::vector<Span>& matches) const override {
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t end = cl100k_piece_end(text, pos, max_digits_);
      matches.push_back(Span{pos, end});
      pos = end;
    }
  }
  std::size_t covering_match_end(std::string_view text, std::size_t start) const override {
    return cl100k_piece_end(text, start, max_digits_);
  }

 private:
  int max_digits_;
};

class LiteralPattern final : public SplitPattern {
 public:
  explicit LiteralPattern(std::string needle) : SplitPattern(false), needle_(std::move(needle)) {}
  void find_matches(std::string_view text, std::vector<Span>& matches) const override {
    if (needle_.empty()) {
      // An empty literal matches (empty) before every character and at the end.
      for (std::size_t pos = 0; pos < text.size(); pos += decode_utf8(text, pos).length) matches.push_back(Span{pos, pos});
      matches.push_back(Span{text.size(), text.size()});
      return;
    }
    for (std::size_t at = text.find(needle_); at != std::string_view::npos; at = text.find(needle_, at)) {
      matches.push_back(Span{at, at + needle_.size()});
      at += needle_.size();
    }
  }

 private:
  std::string needle_;
};

}  // namespace

std::size_t gpt2_piece_end(std::string_view text, std::size_t start) {
  const std::size_t n = text.size();
  if (text[start] == '\'') {
    if (std::size_t len = gpt2_contraction_length(text, start)) return start + len;
  }
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": only U+0020 can be the optional space.
  const std::size_t body = text[start] == ' ' ? start + 1 : start;
  if (body < n) {
    const ClassifiedChar c = char_at(text, body);
    if (c.cls != CharClass::kWhitespace) return run_end(text, body + c.length, c.cls);
  }
  // text[start] is whitespace.
  return whitespace_piece_end(text, start, whitespace_run(text, start));
}

void split_gpt2_pieces(std::string_view text, std::vector<std::string_view>& pieces) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = gpt2_piece_end(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
}

// The alternatives in order; the first that matches at `start` wins, each as greedy as a
// backtracking engine makes it.
std::size_t cl100k_piece_end(std::string_view text, std::size_t start, int max_digits) {
  const std::size_t n = text.size();
  if (text[start] == '\'') {
    if (std::size_t len = folded_contraction_length(text, start)) return start + len;
  }
  const ClassifiedChar first = char_at(text, start);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (first.cls == CharClass::kLetter) return run_end(text, start + first.length, CharClass::kLetter);
  if (first.cls != CharClass::kNumber && !is_cr_or_lf(text[start])) {
    const std::size_t next = start + first.length;
    if (next < n) {
      const ClassifiedChar second = char_at(text, next);
      if (second.cls == CharClass::kLetter) return run_end(text, next + second.length, CharClass::kLetter);
    }
  }
  // \p{N}{1,max_digits}
  if (first.cls == CharClass::kNumber) {
    std::size_t pos = start + first.length;
    for (int count = 1; count < max_digits && pos < n; ++count) {
      const ClassifiedChar c = char_at(text, pos);
      if (c.cls != CharClass::kNumber) break;
      pos += c.length;
    }
    return pos;
  }
  // " ?[^\s\p{L}\p{N}]+[\r\n]*"
  const std::size_t body = text[start] == ' ' ? start + 1 : start;
  if (body < n && char_at(text, body).cls == CharClass::kOther) {
    std::size_t pos = run_end(text, body, CharClass::kOther);
    while (pos < n && is_cr_or_lf(text[pos])) ++pos;
    return pos;
  }
  // text[start] is whitespace. "\s*[\r\n]+": the run up to and including its last \r or \n;
  // then "\s+(?!\S)" and "\s+", as in GPT-2's pattern.
  const WhitespaceRun run = whitespace_run(text, start);
  if (run.after_last_newline > 0) return run.after_last_newline;
  return whitespace_piece_end(text, start, run);
}

std::string translate_oniguruma_regex(const std::string& regex, const std::string& where) {
  const EscapeSets& sets = EscapeSets::get();
  std::string out;
  out.reserve(regex.size() * 4);
  bool in_class = false;
  bool class_start = false;  // just after "[" or "[^": a "]" here is a literal
  auto emit_set = [&](const Ranges& ranges, bool negated) {
    if (in_class) {
      append_ranges(out, negated ? complement(ranges) : ranges);
    } else {
      out += negated ? "[^" : "[";
      append_ranges(out, ranges);
      out += "]";
    }
  };
  for (std::size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    const bool was_class_start = class_start;
    class_start = false;
    if (c == '\\') {
      if (i + 1 >= regex.size()) fail("{}: the regex {} ends with a lone backslash", where, json_quoted(regex));
      const char e = regex[++i];
      switch (e) {
        case 's':
        case 'S':
          emit_set(sets.space, e == 'S');
          continue;
        case 'd':
        case 'D':
          emit_set(sets.decimal, e == 'D');
          continue;
        case 'w':
        case 'W':
          emit_set(sets.word, e == 'W');
          continue;
        case 'h':
        case 'H':
          // Oniguruma's \h is a hexadecimal digit (PCRE2's would be horizontal space).
          if (in_class && e == 'H') fail("{}: \\H inside a character class is not supported: {}", where, json_quoted(regex));
          out += in_class ? "0-9a-fA-F" : (e == 'h' ? "[0-9a-fA-F]" : "[^0-9a-fA-F]");
          continue;
        case 'p':
        case 'P': {
          std::string name;
          std::size_t consumed = 0;
          if (i + 1 < regex.size() && regex[i + 1] == '{') {
            const std::size_t close = regex.find('}', i + 2);
            if (close == std::string::npos) fail("{}: unterminated \\{}{{ in the regex {}", where, e, json_quoted(regex));
            name = regex.substr(i + 2, close - i - 2);
            consumed = close - i;
          } else if (i + 1 < regex.size()) {
            name = regex.substr(i + 1, 1);
            consumed = 1;
          }
          bool negated = e == 'P';
          if (!name.empty() && name[0] == '^') {
            negated = !negated;
            name.erase(0, 1);
          }
          if (const Ranges* set = set_of_property(name)) {
            emit_set(*set, negated);
            i += consumed;
            continue;
          }
          // Other properties are left to PCRE2's own tables.
          out += '\\';
          out += e;
          continue;
        }
        case 'u': {
          // Oniguruma's \uHHHH; PCRE2 spells it \x{HHHH}.
          if (i + 4 < regex.size()) {
            const std::string hex = regex.substr(i + 1, 4);
            if (hex.size() == 4 && hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
              out += "\\x{" + hex + "}";
              i += 4;
              continue;
            }
          }
          fail("{}: \\u must be followed by four hexadecimal digits in the regex {}", where, json_quoted(regex));
        }
        default:
          out += '\\';
          out += e;
          continue;
      }
    }
    if (in_class) {
      if (c == ']' && !was_class_start) {
        in_class = false;
      } else if (c == '[') {
        if (regex.compare(i, 2, "[:") == 0) {
          const std::size_t close = regex.find(":]", i + 2);
          if (close != std::string::npos) {
            out += regex.substr(i, close + 2 - i);
            i = close + 1;
            continue;
          }
        }
        fail("{}: nested character classes are not supported in the regex {}", where, json_quoted(regex));
      } else if (c == '&' && i + 1 < regex.size() && regex[i + 1] == '&') {
        fail("{}: character class intersection (&&) is not supported in the regex {}", where, json_quoted(regex));
      }
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < regex.size() && regex[i + 1] == '^') out += regex[++i];
      class_start = true;
      continue;
    }
    out += c;
  }
  return out;
}

std::unique_ptr<const SplitPattern> compile_with_pcre2(const std::string& regex, const std::string& where) {
  return std::make_unique<Pcre2Pattern>(regex, where);
}

std::unique_ptr<const SplitPattern> compile_split_pattern(const TextPattern& pattern, const std::string& where) {
  if (!pattern.is_regex) return std::make_unique<LiteralPattern>(pattern.text);
  if (pattern.text == kGpt2SplitRegex) return std::make_unique<Gpt2Scanner>();
  for (int max_digits : {1, 2, 3}) {
    if (pattern.text == cl100k_split_regex(max_digits)) return std::make_unique<Cl100kScanner>(max_digits);
  }
  return compile_with_pcre2(pattern.text, where);
}

}  // namespace entroscope::tokenizer
