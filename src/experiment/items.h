#pragma once
// The items of an experiment: a JSON Lines file, one object per line with string fields
// ("id", "context", "target", ...). Problems are reported as "<file>:<line>: ...".
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "experiment/spec.h"

namespace entroscope::experiment {

// The most items one data file may hold (docs/reliability.md).
inline constexpr std::size_t kMaxItems = 10'000'000;

struct Item {
  std::string id;     // the id field, or "line N" when the file has no ids
  int line = 0;       // 1-based line in the data file
  std::map<std::string, std::string> fields;        // string-valued fields
  std::map<std::string, std::string> other_fields;  // name -> JSON type of non-string fields
  SourceLocation where(const std::string& file) const { return {file, line, 0}; }
};

struct ItemSet {
  std::filesystem::path file;
  std::string sha256;  // of the file's bytes, for the results' provenance and the resume key
  std::vector<Item> items;
};

// Reads the file; blank lines are skipped. Ids come from `id_field` when every item has it
// (unique, string or integer); when no item has it, items are named "line N".
ItemSet load_items(const std::filesystem::path& file, const std::string& id_field);

// Same, from the file's content (`text`); `file` names it in messages and in the ItemSet.
ItemSet parse_items_text(const std::string& text, const std::filesystem::path& file, const std::string& id_field);

// Checks the items against the conditions before any model is loaded: every field a template
// uses exists and is a string, no measured span renders to empty text, and something precedes
// every measured span (its first token needs a position to be predicted from).
void check_items_for_spec(const ExperimentSpec& spec, const ItemSet& items);

}  // namespace entroscope::experiment
