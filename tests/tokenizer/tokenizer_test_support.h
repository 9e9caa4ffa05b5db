#pragma once
// Shared helpers for the tokenizer tests: fixture paths, loading each fixture tokenizer once,
// reading golden JSON Lines rows, hex and SHA-256 of byte strings.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace entroscope::tokenizer::test {

std::filesystem::path fixture_dir();  // tests/data/tokenizer

// Fixture tokenizers, loaded on first use and shared by all tests of the process.
const Tokenizer& gpt2_from_vocab();                                // gpt2/vocab.json + merges.txt
const Tokenizer& fixture_tokenizer_json(const std::string& name);  // <name>/tokenizer.json
// The folder holding <name>/tokenizer.json (the Qwen3 one is unpacked into the build tree).
std::filesystem::path fixture_tokenizer_dir(const std::string& name);

// All rows of golden/<file>.
std::vector<nlohmann::json> read_golden_rows(const std::string& file);

// The input bytes of a golden row: "text", or the bytes of "file" (whose sha256 is checked).
std::string golden_row_input(const nlohmann::json& row);

std::string to_hex(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
std::string read_file_bytes(const std::filesystem::path& path);
std::vector<std::int32_t> ids_of(const nlohmann::json& array);

// A small valid byte-level BPE tokenizer.json: the 256 byte tokens with id = byte value, "ab"
// (256, from the merge "a b") and the special token <|endoftext|> (257, also in the vocabulary).
// Tests edit copies of it.
nlohmann::json toy_tokenizer_json();

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace entroscope::tokenizer::test
