#include "experiment/text_template.h"

#include "common/error.h"

namespace entroscope::experiment {

namespace {
bool is_name_char(char c, bool first) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') return true;
  return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}
}  // namespace

TextTemplate TextTemplate::parse(const std::string& source) {
  TextTemplate t;
  t.source_ = source;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) t.pieces_.push_back({false, literal});
    literal.clear();
  };
  for (std::size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    if (c == '{' && i + 1 < source.size() && source[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < source.size() && source[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '}') {
      fail("unmatched '}}' at character {} of template \"{}\" (write '}}}}' for a literal brace)", i + 1, source);
    } else if (c == '{') {
      const std::size_t close = source.find('}', i + 1);
      if (close == std::string::npos)
        fail("unmatched '{{' at character {} of template \"{}\" (write '{{{{' for a literal brace)", i + 1, source);
      const std::string name = source.substr(i + 1, close - i - 1);
      if (name.empty()) fail("empty placeholder '{{}}' in template \"{}\"", source);
      for (std::size_t k = 0; k < name.size(); ++k) {
        if (!is_name_char(name[k], k == 0))
          fail("'{{{}}}' in template \"{}\" is not a field name (letters, digits, '_', '-', '.'; "
               "write '{{{{' for a literal brace)",
               name, source);
      }
      flush();
      t.pieces_.push_back({true, name});
      i = close;
    } else {
      literal += c;
    }
  }
  flush();
  return t;
}

TextTemplate TextTemplate::literal(const std::string& text) {
  TextTemplate t;
  t.source_ = text;
  if (!text.empty()) t.pieces_.push_back({false, text});
  return t;
}

std::vector<std::string> TextTemplate::fields() const {
  std::vector<std::string> out;
  for (const Piece& p : pieces_)
    if (p.is_field) out.push_back(p.text);
  return out;
}

bool TextTemplate::has_fields() const {
  for (const Piece& p : pieces_)
    if (p.is_field) return true;
  return false;
}

std::string TextTemplate::render(const std::map<std::string, std::string>& values) const {
  std::string out;
  for (const Piece& p : pieces_) {
    if (!p.is_field) {
      out += p.text;
      continue;
    }
    auto it = values.find(p.text);
    if (it == values.end()) fail("no field '{}' for template \"{}\"", p.text, source_);
    out += it->second;
  }
  return out;
}

}  // namespace entroscope::experiment
