#pragma once
// A segment's text: literal pieces and {field} placeholders filled from an item. "{{" and "}}"
// stand for literal braces. A literal segment (no placeholders) is the same type with one piece.
#include <map>
#include <string>
#include <vector>

namespace entroscope::experiment {

class TextTemplate {
 public:
  TextTemplate() = default;
  // Parses "{context}\n{target}". Throws Error (message without location; the caller adds it)
  // for an unmatched brace or an empty / malformed field name.
  static TextTemplate parse(const std::string& source);
  // Takes `text` as written: no placeholders.
  static TextTemplate literal(const std::string& text);

  // Field names in order of appearance (may repeat).
  std::vector<std::string> fields() const;
  bool has_fields() const;
  const std::string& source() const { return source_; }

  // Fills the placeholders. Precondition: every field is present (checked when the items are
  // validated); a missing one throws Error naming the field.
  std::string render(const std::map<std::string, std::string>& values) const;

 private:
  struct Piece {
    bool is_field;
    std::string text;  // literal text, or the field name
  };
  std::string source_;
  std::vector<Piece> pieces_;
};

}  // namespace entroscope::experiment
