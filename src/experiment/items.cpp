#include "experiment/items.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "common/json_file.h"
#include "io/hub_hash.h"

namespace entroscope::experiment {

namespace {
std::string json_type_name(const nlohmann::json& v) {
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_array()) return "a list";
  return "an object";
}

}  // namespace

ItemSet load_items(const std::filesystem::path& file, const std::string& id_field) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) fail("{}: no such data file", file.string());
  return parse_items_text(read_text_file(file), file, id_field);
}

ItemSet parse_items_text(const std::string& text, const std::filesystem::path& file, const std::string& id_field) {
  ItemSet set;
  set.file = file;
  set.sha256 = io::hub::sha256_hex(text);
  const std::string label = file.string();

  std::vector<bool> has_id;
  std::vector<std::string> problems;  // "<file>:<line>: ..." for each bad line, up to kMaxReported
  constexpr std::size_t kMaxReported = 20;
  std::size_t bad_lines = 0;
  // Counted before parsing so that a file far past the limit fails at once.
  std::size_t lines_with_text = 0;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = std::min(text.find('\n', start), text.size());
    if (text.find_first_not_of(" \t\r", start) < end) ++lines_with_text;
    start = end + 1;
  }
  if (lines_with_text > kMaxItems)
    fail("{}: {} items, more than the {} one data file may have (the limit)", label, lines_with_text, kMaxItems);

  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      if (line.size() > kMaxLineBytes)
        fail("{}:{}: the line has {} bytes, more than the {} MiB a line may have (the limit)", label, line_no,
             line.size(), kMaxLineBytes >> 20);
      nlohmann::json obj;
      std::string duplicate;
      try {
        obj = parse_json_checking_keys(line, fmt::format("{}:{}", label, line_no), &duplicate);
      } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
        fail("{}:{}: invalid JSON: {}", label, line_no, e.what());
      }
      if (!duplicate.empty()) fail("{}:{}: the key '{}' appears twice in one item", label, line_no, duplicate);
      if (!obj.is_object()) fail("{}:{}: each line must be a JSON object such as {{\"id\": ..., \"target\": ...}}", label, line_no);
      Item item;
      item.line = line_no;
      for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (it.value().is_string())
          item.fields[it.key()] = it.value().get<std::string>();
        else
          item.other_fields[it.key()] = json_type_name(it.value());
      }
      auto id_it = obj.find(id_field);
      if (id_it != obj.end()) {
        if (id_it->is_string())
          item.id = id_it->get<std::string>();
        else if (id_it->is_number_integer())
          item.id = id_it->dump();
        else
          fail("{}:{}: field '{}' (the item id) is {}, expected a string or an integer", label, line_no, id_field,
               json_type_name(*id_it));
        if (item.id.empty()) fail("{}:{}: field '{}' (the item id) is empty", label, line_no, id_field);
      } else {
        item.id = fmt::format("line {}", line_no);
      }
      has_id.push_back(id_it != obj.end());
      set.items.push_back(std::move(item));
    } catch (const Error& e) {
      // Keep going: a data file's mistakes are reported together (up to kMaxReported).
      ++bad_lines;
      if (problems.size() < kMaxReported) problems.push_back(e.what());
    }
  }
  if (bad_lines == 1) fail("{}", problems.front());
  if (bad_lines > 1) {
    std::string joined;
    for (const std::string& p : problems) joined += (joined.empty() ? "" : " | ") + p.substr(label.size() + 1);
    fail("{}: {} bad lines{}: {}", label, bad_lines, bad_lines > kMaxReported ? fmt::format(" (the first {})", kMaxReported) : "",
         joined);
  }
  if (set.items.empty()) fail("{}: no items (expected one JSON object per line)", label);

  const std::size_t with_id = static_cast<std::size_t>(std::count(has_id.begin(), has_id.end(), true));
  // A renamed id field that no item has is a typo, not a request for line numbers.
  if (with_id == 0 && id_field != "id") {
    fail("{}: no item has the field '{}' that id_field names (fields of line {}: {})", label, id_field,
         set.items.front().line, [&] {
           std::string names;
           for (const auto& [k, v] : set.items.front().fields) names += (names.empty() ? "" : ", ") + k;
           for (const auto& [k, v] : set.items.front().other_fields) names += (names.empty() ? "" : ", ") + k;
           return names;
         }());
  }
  if (with_id != 0 && with_id != set.items.size()) {
    for (std::size_t i = 0; i < set.items.size(); ++i)
      if (!has_id[i])
        fail("{}:{}: item has no field '{}' but other items do (ids must be all or none)", label, set.items[i].line,
             id_field);
  }
  std::set<std::string> ids;
  for (const Item& item : set.items)
    if (!ids.insert(item.id).second) fail("{}:{}: duplicate item id '{}'", label, item.line, item.id);
  return set;
}

void check_items_for_spec(const ExperimentSpec& spec, const ItemSet& set) {
  const std::string label = set.file.string();
  for (const Item& item : set.items) {
    for (const Condition& c : spec.conditions) {
      bool something_before = false;
      for (std::size_t s = 0; s < c.segments.size(); ++s) {
        const Segment& seg = c.segments[s];
        if (seg.kind == SegmentKind::kSpecialToken) {
          if (s < c.measured_segment) something_before = true;
          continue;
        }
        for (const std::string& field : seg.text.fields()) {
          if (item.fields.count(field)) continue;
          auto other = item.other_fields.find(field);
          if (other != item.other_fields.end())
            fail("{}:{}: field '{}' of item '{}' is {}, but condition '{}' ({}) uses it as text", label, item.line,
                 field, item.id, other->second, c.name, seg.where.describe());
          fail("{}:{}: item '{}' has no field '{}', which condition '{}' uses ({})", label, item.line, item.id, field,
               c.name, seg.where.describe());
        }
        const bool empty = seg.text.render(item.fields).empty();
        if (s < c.measured_segment && !empty) something_before = true;
        if (s == c.measured_segment && empty) {
          const auto fields = seg.text.fields();
          fail("{}:{}: field '{}' of item '{}' is empty, so condition '{}' has an empty measured span", label,
               item.line, fields.empty() ? std::string("?") : fields.front(), item.id, c.name);
        }
      }
      if (!something_before) {
        const auto& prev = c.segments[c.measured_segment - 1];
        const auto fields = prev.text.fields();
        fail("{}:{}: in condition '{}' nothing precedes the measured span of item '{}' (field '{}' is empty), so its "
             "first token has nothing to be predicted from",
             label, item.line, c.name, item.id, fields.empty() ? std::string("?") : fields.front());
      }
    }
  }
}

}  // namespace entroscope::experiment
