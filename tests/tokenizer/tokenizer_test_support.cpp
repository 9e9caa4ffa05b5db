#include "tokenizer_test_support.h"

#include <openssl/evp.h>

#include "tokenizer/byte_level.h"

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

namespace entroscope::tokenizer::test {

std::filesystem::path fixture_dir() { return std::filesystem::path(ES_TEST_DATA_DIR) / "tokenizer"; }

const Tokenizer& gpt2_from_vocab() {
  static const Tokenizer tokenizer = Tokenizer::load(fixture_dir() / "gpt2" / "vocab.json");
  return tokenizer;
}

const Tokenizer& fixture_tokenizer_json(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = loaded[name];
  if (!slot) slot = std::make_unique<Tokenizer>(Tokenizer::load(fixture_tokenizer_dir(name) / "tokenizer.json"));
  return *slot;
}

std::filesystem::path fixture_tokenizer_dir(const std::string& name) {
  const std::filesystem::path in_source = fixture_dir() / name;
  if (std::filesystem::exists(in_source / "tokenizer.json")) return in_source;
  // Stored compressed in the repository, unpacked by CMake.
  return std::filesystem::path(ES_BUILD_DIR) / "test-data" / "tokenizer" / name;
}

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<nlohmann::json> read_golden_rows(const std::string& file) {
  std::istringstream lines(read_file_bytes(fixture_dir() / "golden" / file));
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

std::string golden_row_input(const nlohmann::json& row) {
  if (row.contains("text")) return row["text"].get<std::string>();
  std::string bytes = read_file_bytes(fixture_dir() / row["file"].get<std::string>());
  if (sha256_hex(bytes) != row["sha256"].get<std::string>()) {
    throw std::runtime_error("sha256 mismatch for fixture " + row["file"].get<std::string>());
  }
  return bytes;
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::vector<std::int32_t> ids_of(const nlohmann::json& array) { return array.get<std::vector<std::int32_t>>(); }

nlohmann::json toy_tokenizer_json() {
  using nlohmann::json;
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[bytes_to_alphabet(std::string(1, static_cast<char>(b)))] = b;
  vocab["ab"] = 256;
  vocab["<|endoftext|>"] = 257;  // in the vocabulary too, as in GPT-2's
  return json{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", json::array({json{{"id", 257},
                                         {"content", "<|endoftext|>"},
                                         {"single_word", false},
                                         {"lstrip", false},
                                         {"rstrip", false},
                                         {"normalized", false},
                                         {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer", json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}},
      {"post_processor", json{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}}},
      {"decoder", json{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}}},
      {"model", json{{"type", "BPE"},
                     {"dropout", nullptr},
                     {"unk_token", nullptr},
                     {"continuing_subword_prefix", ""},
                     {"end_of_word_suffix", ""},
                     {"fuse_unk", false},
                     {"byte_fallback", false},
                     {"vocab", vocab},
                     {"merges", json::array({"a b"})}}},
  };
}

TempDir::TempDir() {
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() / ("es_tokenizer_test_" + std::to_string(random()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, std::string_view content) const {
  std::filesystem::path file = path_ / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
  return file;
}

}  // namespace entroscope::tokenizer::test
