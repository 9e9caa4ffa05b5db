#pragma once
// Reading the big JSON files of a tokenizer fast. A 150k-entry vocabulary is a JSON object with
// 150k keys: a DOM of it (std::map nodes) costs most of a tokenizer's load time, so the
// vocabulary and the merges list are streamed (SAX) straight into vectors, and only the rest of
// the file becomes a DOM.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

struct StreamedJson {
  nlohmann::json root;  // the document without the streamed parts
  // model.vocab of a tokenizer.json (token -> id, in file order), or the whole of a vocab.json.
  std::optional<std::vector<std::pair<std::string, std::int32_t>>> vocab;
  std::optional<std::vector<MergeSpec>> merges;  // model.merges of a tokenizer.json
};

// A tokenizer.json: model.vocab and model.merges streamed when they are an object and an array.
// Errors name the file (and the entry: "model.vocab: the id of token ...", "model.merges[3]: ...").
StreamedJson read_tokenizer_json_file(const std::filesystem::path& path);
// The same for content already in memory; errors name `origin`.
StreamedJson parse_tokenizer_json_text(std::string_view text, const std::string& origin);

// A vocab.json: one object of token -> id, streamed.
std::vector<std::pair<std::string, std::int32_t>> read_vocab_json_file(const std::filesystem::path& path);

}  // namespace entroscope::tokenizer
