#include "tokenizer/decoder.h"

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A ByteFallback byte token: exactly "<0x" + two hexadecimal digits + ">" (Rust's from_str_radix
// also takes a sign, so "<0x+A>" is byte 0x0A there too).
int byte_token_value(std::string_view token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token.back() != '>') return -1;
  if (token[3] == '+') return hex_value(token[4]);
  const int high = hex_value(token[3]);
  const int low = hex_value(token[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

std::string replace_all(std::string_view text, const SplitPattern& pattern, const std::string& content) {
  thread_local std::vector<Span> matches;
  matches.clear();
  pattern.find_matches(text, matches);
  if (matches.empty()) return std::string(text);
  std::string out;
  std::size_t copied = 0;
  for (const Span& m : matches) {
    out.append(text.substr(copied, m.begin - copied)).append(content);
    copied = m.end;
  }
  out.append(text.substr(copied));
  return out;
}

// Strip per token: up to `start` leading and `stop` trailing copies of the character `content`.
std::string strip_token(const std::string& token, const std::string& content, std::size_t start, std::size_t stop) {
  std::size_t begin = 0;
  for (std::size_t i = 0; i < start && std::string_view(token).substr(begin).starts_with(content); ++i) {
    begin += content.size();
  }
  std::size_t end = token.size();
  for (std::size_t i = 0; i < stop && end >= begin + content.size() &&
                          std::string_view(token).substr(0, end).ends_with(content);
       ++i) {
    end -= content.size();
  }
  return token.substr(begin, end - begin);
}

}  // namespace

void append_utf8_lossy(std::string_view bytes, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    int needed = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      needed = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      needed = 2;
      if (b == 0xE0) lower = 0xA0;
      if (b == 0xED) upper = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      needed = 3;
      if (b == 0xF0) lower = 0x90;
      if (b == 0xF4) upper = 0x8F;
    } else {
      out.append(kReplacementCharacter);
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    bool complete = true;
    for (int k = 0; k < needed; ++k, ++j) {
      if (j >= n || p[j] < lower || p[j] > upper) {
        complete = false;
        break;
      }
      lower = 0x80;
      upper = 0xBF;
    }
    if (complete) {
      out.append(bytes.substr(i, j - i));
    } else {
      out.append(kReplacementCharacter);  // the maximal subpart bytes[i, j) as one U+FFFD
    }
    i = j;
  }
}

Decoder::Decoder(const std::vector<DecoderStep>& steps, bool has_decoder, const std::string& origin)
    : has_decoder_(has_decoder) {
  for (const DecoderStep& spec : steps) {
    Step step{spec, nullptr};
    if (spec.kind == DecoderKind::kReplace) {
      step.pattern = compile_split_pattern(spec.pattern, fmt::format("{}: decoder Replace", origin));
    }
    steps_.push_back(std::move(step));
  }
}

void Decoder::apply(const Step& step, std::vector<std::string>& tokens, bool repair_utf8, bool first_is_start) const {
  switch (step.spec.kind) {
    case DecoderKind::kByteLevel: {
      std::string bytes;
      for (const std::string& token : tokens) bytes += token_to_decoded_bytes(token);
      tokens.clear();
      if (repair_utf8) {
        std::string text;
        text.reserve(bytes.size());
        append_utf8_lossy(bytes, text);
        tokens.push_back(std::move(text));
      } else {
        tokens.push_back(std::move(bytes));
      }
      return;
    }
    case DecoderKind::kByteFallback: {
      std::vector<std::string> out;
      out.reserve(tokens.size());
      std::string run;
      auto flush = [&] {
        if (run.empty()) return;
        if (!repair_utf8 || is_valid_utf8(run)) {
          out.push_back(run);
        } else {
          std::string replaced;
          for (std::size_t i = 0; i < run.size(); ++i) replaced.append(kReplacementCharacter);
          out.push_back(std::move(replaced));
        }
        run.clear();
      };
      for (std::string& token : tokens) {
        const int value = byte_token_value(token);
        if (value >= 0) {
          run.push_back(static_cast<char>(value));
          continue;
        }
        flush();
        out.push_back(std::move(token));
      }
      flush();
      tokens.swap(out);
      return;
    }
    case DecoderKind::kFuse: {
      std::string joined;
      for (const std::string& token : tokens) joined += token;
      tokens.assign(1, std::move(joined));
      return;
    }
    case DecoderKind::kStrip:
      for (std::string& token : tokens) token = strip_token(token, step.spec.content, step.spec.start, step.spec.stop);
      return;
    case DecoderKind::kReplace:
      for (std::string& token : tokens) token = replace_all(token, *step.pattern, step.spec.content);
      return;
    case DecoderKind::kMetaspace: {
      const std::string& replacement = step.spec.content;
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        // In the first token every replacement character goes (the prepended one and any other).
        const bool drop = i == 0 && first_is_start && step.spec.prepend_scheme != PrependScheme::kNever;
        std::string out;
        std::string_view token = tokens[i];
        for (std::size_t pos = 0; pos < token.size();) {
          if (token.substr(pos).starts_with(replacement)) {
            if (!drop) out.push_back(' ');
            pos += replacement.size();
          } else {
            out.push_back(token[pos]);
            ++pos;
          }
        }
        tokens[i] = std::move(out);
      }
      return;
    }
  }
}

std::string Decoder::decode(std::vector<std::string> tokens, bool repair_utf8) const {
  std::string out;
  if (!has_decoder_) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }
  for (const Step& step : steps_) apply(step, tokens, repair_utf8, true);
  for (const std::string& token : tokens) out += token;
  return out;
}

std::string Decoder::token_bytes(std::string_view token) const {
  std::vector<std::string> tokens{std::string(token)};
  if (!has_decoder_) return tokens[0];
  for (const Step& step : steps_) {
    if (step.spec.kind == DecoderKind::kFuse || step.spec.kind == DecoderKind::kStrip) continue;
    apply(step, tokens, false, false);
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

}  // namespace entroscope::tokenizer
