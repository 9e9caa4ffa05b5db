#include "tokenizer/tokenizer_file.h"

#include "common/error.h"
#include "common/json_file.h"
#include "tokenizer/json_quote.h"
#include "tokenizer/utf8.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace entroscope::tokenizer {
namespace {

using nlohmann::json;

enum class Capture { kNone, kVocab, kMerges };

// SAX handler: forwards every event to nlohmann's DOM builder, except the value of the streamed
// keys, which it collects itself. The first problem found is kept and reported after parsing.
class StreamingHandler {
 public:
  // vocab_at_root: the whole document is the vocabulary (vocab.json).
  StreamingHandler(json& root, bool vocab_at_root) : dom_(root, true), vocab_at_root_(vocab_at_root) {}

  bool null() { return scalar([] { return std::string("null"); }, [&] { return dom_.null(); }); }
  bool boolean(bool v) { return scalar([&] { return std::string(v ? "true" : "false"); }, [&] { return dom_.boolean(v); }); }
  bool number_integer(json::number_integer_t v) {
    if (capture_ == Capture::kVocab && depth_in_capture_ == 1) {
      return v >= 0 ? vocab_id(static_cast<std::uint64_t>(v)) : vocab_id_out_of_range(std::to_string(v));
    }
    return scalar([&] { return std::to_string(v); }, [&] { return dom_.number_integer(v); });
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (capture_ == Capture::kVocab && depth_in_capture_ == 1) return vocab_id(v);
    return scalar([&] { return std::to_string(v); }, [&] { return dom_.number_unsigned(v); });
  }
  bool number_float(json::number_float_t v, const std::string& s) {
    return scalar([&] { return s; }, [&] { return dom_.number_float(v, s); });
  }
  bool string(std::string& s) {
    if (capture_ == Capture::kMerges) {
      if (depth_in_capture_ == 1) return merge_string(s);
      if (depth_in_capture_ == 2) {
        pair_parts_.push_back(s);
        return true;
      }
    }
    return scalar([&] { return json_quoted(s); }, [&] { return dom_.string(s); });
  }
  bool binary(json::binary_t& b) { return scalar([] { return std::string("binary"); }, [&] { return dom_.binary(b); }); }

  bool start_object(std::size_t n) {
    if (capture_ != Capture::kNone) return nested("an object");
    if (depth_ == 0 && vocab_at_root_) return begin_capture(Capture::kVocab);
    if (pending_key_ && *pending_key_ == "vocab" && in_model()) return begin_capture(Capture::kVocab);
    flush_pending_key();
    path_.push_back(last_key_);
    ++depth_;
    return dom_.start_object(n);
  }
  bool end_object() {
    if (capture_ != Capture::kNone) return end_capture_container();
    --depth_;
    path_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (capture_ == Capture::kMerges && depth_in_capture_ == 1) {
      depth_in_capture_ = 2;
      pair_parts_.clear();
      return true;
    }
    if (capture_ != Capture::kNone) return nested("an array");
    if (pending_key_ && *pending_key_ == "merges" && in_model()) return begin_capture(Capture::kMerges);
    flush_pending_key();
    path_.push_back("[]");
    ++depth_;
    return dom_.start_array(n);
  }
  bool end_array() {
    if (capture_ == Capture::kMerges && depth_in_capture_ == 2) {
      depth_in_capture_ = 1;
      if (pair_parts_.size() == 2 && !pair_parts_[0].empty() && !pair_parts_[1].empty()) {
        merges_.push_back(MergeSpec{std::move(pair_parts_[0]), std::move(pair_parts_[1]), index_});
      } else {
        problem(fmt::format("model.merges[{}]: expected \"A B\" or [\"A\", \"B\"]", index_));
      }
      ++index_;
      return true;
    }
    if (capture_ != Capture::kNone) return end_capture_container();
    --depth_;
    path_.pop_back();
    return dom_.end_array();
  }
  bool key(std::string& k) {
    if (capture_ == Capture::kVocab && depth_in_capture_ == 1) {
      vocab_key_ = k;
      return true;
    }
    last_key_ = k;
    // "vocab" / "merges" inside "model": held back until the value shows whether it is streamed.
    if (in_model_object() && (k == "vocab" || k == "merges")) {
      pending_key_ = k;
      return true;
    }
    return dom_.key(k);
  }
  bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
    return dom_.parse_error(position, token, e);
  }

  std::optional<std::vector<std::pair<std::string, std::int32_t>>> take_vocab() { return std::move(vocab_); }
  std::optional<std::vector<MergeSpec>> take_merges() {
    if (!merges_started_) return std::nullopt;
    return std::move(merges_);
  }
  const std::string& first_problem() const { return problem_; }

 private:
  // Inside root -> "model" (an object), where the next key is read.
  bool in_model_object() const { return capture_ == Capture::kNone && depth_ == 2 && path_.size() == 2 && path_[1] == "model"; }
  bool in_model() const { return in_model_object(); }

  // shown(): the value as a message shows it (computed only for a message).
  template <typename Shown, typename Forward>
  bool scalar(Shown&& shown, Forward&& forward) {
    if (capture_ == Capture::kVocab && depth_in_capture_ == 1) {
      problem(fmt::format("{}: the id of token {} is not an integer (got {})", vocab_name(), json_quoted(vocab_key_), shown()));
      return true;
    }
    if (capture_ == Capture::kMerges) {
      if (depth_in_capture_ == 1) {
        problem(fmt::format("model.merges[{}]: expected \"A B\" or [\"A\", \"B\"], got {}", index_, shown()));
        ++index_;
      } else {
        pair_parts_.push_back("");  // makes the pair invalid
      }
      return true;
    }
    flush_pending_key();
    return forward();
  }

  std::string vocab_name() const { return vocab_at_root_ ? "vocab.json" : "model.vocab"; }

  bool vocab_id_out_of_range(const std::string& shown) {
    problem(fmt::format("{}: the id {} of token {} is out of range (0..{})", vocab_name(), shown, json_quoted(vocab_key_),
                        kMaxTokenId));
    return true;
  }
  bool vocab_id(std::uint64_t id) {
    if (id > static_cast<std::uint64_t>(kMaxTokenId)) return vocab_id_out_of_range(std::to_string(id));
    vocab_->emplace_back(std::move(vocab_key_), static_cast<std::int32_t>(id));
    return true;
  }

  bool merge_string(const std::string& text) {
    if (text.starts_with("#version")) {
      ++index_;
      return true;
    }
    const std::size_t space = text.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == text.size() ||
        text.find(' ', space + 1) != std::string::npos) {
      problem(fmt::format("model.merges[{}]: expected two tokens separated by one space, got {}", index_, json_quoted(text)));
    } else {
      merges_.push_back(MergeSpec{text.substr(0, space), text.substr(space + 1), index_});
    }
    ++index_;
    return true;
  }

  bool begin_capture(Capture what) {
    pending_key_.reset();
    capture_ = what;
    depth_in_capture_ = 1;
    if (what == Capture::kVocab) vocab_.emplace();
    if (what == Capture::kMerges) merges_started_ = true;
    return true;
  }
  bool nested(const char* what) {
    if (capture_ == Capture::kVocab) {
      problem(fmt::format("{}: the id of token {} is not an integer (got {})", vocab_name(), json_quoted(vocab_key_), what));
    } else {
      problem(fmt::format("model.merges[{}]: expected \"A B\" or [\"A\", \"B\"], got {}", index_, what));
    }
    ++skip_depth_;
    return true;
  }
  bool end_capture_container() {
    if (skip_depth_ > 0) {
      --skip_depth_;
      return true;
    }
    capture_ = Capture::kNone;
    return true;
  }
  void flush_pending_key() {
    if (!pending_key_) return;
    std::string k = *pending_key_;
    pending_key_.reset();
    dom_.key(k);
  }
  void problem(std::string message) {
    if (problem_.empty()) problem_ = std::move(message);
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  bool vocab_at_root_;
  int depth_ = 0;
  std::vector<std::string> path_;
  std::string last_key_;
  std::optional<std::string> pending_key_;
  Capture capture_ = Capture::kNone;
  int depth_in_capture_ = 0;
  int skip_depth_ = 0;
  std::string vocab_key_;
  std::optional<std::vector<std::pair<std::string, std::int32_t>>> vocab_;
  std::vector<MergeSpec> merges_;
  bool merges_started_ = false;
  std::vector<std::string> pair_parts_;
  std::uint32_t index_ = 0;
  std::string problem_;
};

// A JSON reader for the SAX handler above: nlohmann's lexer builds every string one character at
// a time, which makes it the slowest part of loading an 11 MB tokenizer.json; this one copies
// string runs whole. Strict JSON (RFC 8259): the same documents nlohmann accepts, strings must be
// valid UTF-8, no control characters, surrogate escapes must pair up, nesting at most kMaxJsonDepth.
class JsonReader {
 public:
  JsonReader(std::string_view text, StreamingHandler& handler) : text_(text), handler_(handler) {}

  void parse() {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 byte order mark, as nlohmann skips it
    skip_space();
    value(0);
    skip_space();
    if (pos_ != text_.size()) error();
  }
  std::size_t position() const { return pos_; }
  bool too_deep() const { return too_deep_; }

 private:
  [[noreturn]] void error() { throw std::out_of_range("json"); }

  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
      ++pos_;
    }
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) error();
  }
  void literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) error();
    pos_ += word.size();
  }

  void value(int depth) {
    skip_space();
    if (pos_ >= text_.size()) error();
    if (depth >= kMaxJsonDepth && (text_[pos_] == '{' || text_[pos_] == '[')) {
      too_deep_ = true;
      error();
    }
    switch (text_[pos_]) {
      case '{': {
        ++pos_;
        handler_.start_object(static_cast<std::size_t>(-1));
        if (!consume('}')) {
          do {
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != '"') error();
            std::string key = string();
            handler_.key(key);
            expect(':');
            value(depth + 1);
          } while (consume(','));
          expect('}');
        }
        handler_.end_object();
        return;
      }
      case '[': {
        ++pos_;
        handler_.start_array(static_cast<std::size_t>(-1));
        if (!consume(']')) {
          do {
            value(depth + 1);
          } while (consume(','));
          expect(']');
        }
        handler_.end_array();
        return;
      }
      case '"': {
        std::string s = string();
        handler_.string(s);
        return;
      }
      case 't':
        literal("true");
        handler_.boolean(true);
        return;
      case 'f':
        literal("false");
        handler_.boolean(false);
        return;
      case 'n':
        literal("null");
        handler_.null();
        return;
      default:
        number();
        return;
    }
  }

  void number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    const bool negative = pos_ < text_.size() && text_[pos_] == '-';
    if (negative) ++pos_;
    const std::size_t int_start = pos_;
    const std::size_t int_digits = digits();
    if (int_digits == 0 || (int_digits > 1 && text_[int_start] == '0')) error();
    bool is_float = false;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) error();
      is_float = true;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) error();
      is_float = true;
    }
    const std::string token(text_.substr(start, pos_ - start));
    if (!is_float) {
      errno = 0;
      char* end = nullptr;
      if (negative) {
        const long long v = std::strtoll(token.c_str(), &end, 10);
        if (errno == 0) {
          handler_.number_integer(v);
          return;
        }
      } else {
        const unsigned long long v = std::strtoull(token.c_str(), &end, 10);
        if (errno == 0) {
          handler_.number_unsigned(v);
          return;
        }
      }
    }
    handler_.number_float(std::strtod(token.c_str(), nullptr), token);
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) error();
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else error();
    }
    return v;
  }

  // At the opening quote; returns the decoded string.
  std::string string() {
    ++pos_;
    std::string out;
    bool ascii = true;
    for (;;) {
      const std::size_t run = pos_;
      while (pos_ < text_.size()) {
        const auto c = static_cast<unsigned char>(text_[pos_]);
        if (c == '"' || c == '\\' || c < 0x20) break;
        ascii = ascii && c < 0x80;
        ++pos_;
      }
      out.append(text_.substr(run, pos_ - run));
      if (pos_ >= text_.size() || static_cast<unsigned char>(text_[pos_]) < 0x20) error();
      if (text_[pos_] == '"') {
        ++pos_;
        break;
      }
      ++pos_;  // backslash
      if (pos_ >= text_.size()) error();
      const char e = text_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          char32_t c = hex4();
          if (c >= 0xDC00 && c <= 0xDFFF) error();
          if (c >= 0xD800 && c <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") error();
            pos_ += 2;
            const char32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) error();
            c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, c);
          break;
        }
        default:
          error();
      }
    }
    if (!ascii && !is_valid_utf8(out)) error();
    return out;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool too_deep_ = false;
  StreamingHandler& handler_;
};

StreamedJson parse_streaming(std::string_view text, const std::string& origin, bool vocab_at_root) {
  StreamedJson out;
  StreamingHandler handler(out.root, vocab_at_root);
  JsonReader reader(text, handler);
  try {
    reader.parse();
  } catch (const std::out_of_range&) {
    if (reader.too_deep()) fail("{}: JSON nested deeper than {} levels (the limit)", origin, kMaxJsonDepth);
    fail("{}: invalid JSON at byte {}", origin, reader.position() + 1);
  } catch (const json::exception& e) {
    fail("{}: invalid JSON: {}", origin, e.what());
  }
  if (!handler.first_problem().empty()) fail("{}: {}", origin, handler.first_problem());
  out.vocab = handler.take_vocab();
  out.merges = handler.take_merges();
  return out;
}

}  // namespace

StreamedJson read_tokenizer_json_file(const std::filesystem::path& path) {
  return parse_streaming(read_text_file(path), path.string(), false);
}

StreamedJson parse_tokenizer_json_text(std::string_view text, const std::string& origin) {
  return parse_streaming(text, origin, false);
}

std::vector<std::pair<std::string, std::int32_t>> read_vocab_json_file(const std::filesystem::path& path) {
  StreamedJson parsed = parse_streaming(read_text_file(path), path.string(), true);
  if (!parsed.vocab) fail("{}: vocab.json must be a JSON object mapping token strings to ids", path.string());
  if (parsed.vocab->empty()) fail("{}: vocab.json is empty", path.string());
  return std::move(*parsed.vocab);
}

}  // namespace entroscope::tokenizer
