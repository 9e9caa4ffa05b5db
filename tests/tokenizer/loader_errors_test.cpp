// Malformed or unsupported tokenizer files: a one-line error naming the file and the problem,
// never a tokenizer that silently encodes differently.
#include <gtest/gtest.h>

#include "common/error.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

using nlohmann::json;

// Message of the Error that loading `file_name` with `content` throws ("" if none is thrown).
std::string load_error(const test::TempDir& dir, const std::string& file_name, std::string_view content,
                       const std::string& load_name = "") {
  const std::filesystem::path path = dir.write(file_name, content);
  try {
    Tokenizer::load(load_name.empty() ? path : dir.path() / load_name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string tokenizer_json_error(const json& root) {
  test::TempDir dir;
  return load_error(dir, "tokenizer.json", root.dump());
}

#define EXPECT_ERROR_MENTIONS(message, ...)                                                       \
  do {                                                                                            \
    const std::string msg_ = (message);                                                           \
    EXPECT_FALSE(msg_.empty()) << "no error";                                                     \
    EXPECT_EQ(msg_.find('\n'), std::string::npos) << "error is not one line: " << msg_;           \
    for (const std::string& part_ : std::vector<std::string>{__VA_ARGS__}) {                      \
      EXPECT_NE(msg_.find(part_), std::string::npos) << "'" << part_ << "' missing in: " << msg_; \
    }                                                                                             \
  } while (0)

TEST(TokenizerJsonErrors, TheToyFileLoadsAndEncodes) {
  test::TempDir dir;
  const auto path = dir.write("tokenizer.json", test::toy_tokenizer_json().dump());
  const Tokenizer tok = Tokenizer::load(path);
  EXPECT_EQ(tok.encode("abc<|endoftext|>", true), (std::vector<std::int32_t>{256, 'c', 257}));
  EXPECT_EQ(tok.vocab_size(), 258u);
}

TEST(TokenizerJsonErrors, UnsupportedComponentsAreNamed) {
  json j = test::toy_tokenizer_json();
  j["model"]["type"] = "WordPiece";
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "tokenizer.json", "model type \"WordPiece\" is not supported");

  j = test::toy_tokenizer_json();
  j["normalizer"] = json{{"type", "BertNormalizer"}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "tokenizer.json", "normalizer \"BertNormalizer\"");

  j = test::toy_tokenizer_json();
  j["normalizer"] =
      json{{"type", "Sequence"}, {"normalizers", json::array({json{{"type", "NFC"}}, json{{"type", "Precompiled"}}})}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "normalizer.normalizers[1]", "normalizer \"Precompiled\"");

  j = test::toy_tokenizer_json();
  j["pre_tokenizer"] = json{{"type", "BertPreTokenizer"}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "pre_tokenizer \"BertPreTokenizer\"");

  j = test::toy_tokenizer_json();
  j["pre_tokenizer"] = json{{"type", "Sequence"},
                            {"pretokenizers", json::array({json{{"type", "ByteLevel"}, {"add_prefix_space", false}},
                                                           json{{"type", "Digits"}, {"individual_digits", true}}})}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "ByteLevel followed by other pre-tokenizers");

  j = test::toy_tokenizer_json();
  j["pre_tokenizer"] = json{{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "pre_tokenizer Split", "\"(a\"", "cannot be compiled");

  j = test::toy_tokenizer_json();
  j["pre_tokenizer"] = json{{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "behavior \"Sideways\"");

  j = test::toy_tokenizer_json();
  j["pre_tokenizer"] = json{{"type", "Metaspace"}, {"replacement", "_"}, {"add_prefix_space", false}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "add_prefix_space false does not match prepend_scheme");

  j = test::toy_tokenizer_json();
  j["decoder"] = json{{"type", "WordPiece"}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "decoder \"WordPiece\"");

  j = test::toy_tokenizer_json();
  j["post_processor"] = json{{"type", "TemplateProcessing"},
                             {"single", json::array({json{{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}},
                                                     json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "post_processor.single[0]",
                        "special token \"<|endoftext|>\" is not defined");

  j = test::toy_tokenizer_json();
  j["post_processor"] = json{{"type", "ClsSepProcessing"}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "post_processor \"ClsSepProcessing\"");

  j = test::toy_tokenizer_json();
  j["truncation"] = json{{"max_length", 512}};
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "truncation is set");
}

TEST(TokenizerJsonErrors, UnsupportedModelOptionsAreNamed) {
  json j = test::toy_tokenizer_json();
  j["model"]["dropout"] = 0.1;
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "model.dropout");

  j = test::toy_tokenizer_json();
  j["model"]["continuing_subword_prefix"] = "##";
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "continuing_subword_prefix", "ByteLevel");

  j = test::toy_tokenizer_json();
  j["model"]["byte_fallback"] = true;
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "byte_fallback", "ByteLevel");

  j = test::toy_tokenizer_json();
  j["added_tokens"][0]["lstrip"] = "yes";
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "added_tokens[0].lstrip must be true or false");

  j = test::toy_tokenizer_json();
  j["model"]["unk_token"] = "<unk>";
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "unk_token \"<unk>\" is not in the vocabulary");
}

TEST(TokenizerJsonErrors, InconsistentContentIsNamed) {
  json j = test::toy_tokenizer_json();
  j["model"]["merges"] = json::array({"a b", 7});
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "model.merges[1]");

  j = test::toy_tokenizer_json();
  j["model"]["merges"] = json::array({"a b c"});
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "model.merges[0]", "two tokens");

  j = test::toy_tokenizer_json();
  j["model"]["merges"] = json::array({json::array({"a", "b"}), json::array({"ab", "zz"})});
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "model.merges[1]", "token \"zz\" is not in the vocabulary");

  j = test::toy_tokenizer_json();
  j["model"]["merges"] = json::array({"a b", "b c"});
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "model.merges[1]", "merged token \"bc\"");

  j = test::toy_tokenizer_json();
  j["model"]["vocab"]["ab"] = 5;
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "both have id 5");

  j = test::toy_tokenizer_json();
  j["model"]["vocab"]["ab"] = -3;
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "out of range");

  j = test::toy_tokenizer_json();
  j["model"]["vocab"]["ab"] = "256";
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "the id of token \"ab\" is not an integer");

  j = test::toy_tokenizer_json();
  j["added_tokens"][0]["id"] = 256;
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "added_tokens[0] (\"<|endoftext|>\") has id 256",
                        "Hugging Face tokenizers gives it id 257");

  j = test::toy_tokenizer_json();
  j["added_tokens"].push_back(
      json{{"id", 300}, {"content", "\xC3\x85"}, {"special", false}});  // "Å" is byte 0xC5's token
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "added_tokens[1] (\"\u00c5\") has id 300",
                        "Hugging Face tokenizers gives it id 197");

  j = test::toy_tokenizer_json();
  j["added_tokens"][0]["content"] = "";
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "added_tokens[0]", "empty content");

  j = test::toy_tokenizer_json();
  j.erase("model");
  EXPECT_ERROR_MENTIONS(tokenizer_json_error(j), "tokenizer.json");
}

TEST(VocabFileErrors, MalformedFilesAreNamedWithTheLine) {
  const std::string vocab = R"({"a": 0, "b": 1, "ab": 2})";
  {
    test::TempDir dir;
    dir.write("vocab.json", vocab);
    EXPECT_ERROR_MENTIONS(load_error(dir, "merges.txt", "#version: 0.2\na b\nab\n", "vocab.json"), "merges.txt",
                          "line 3", "two tokens");
  }
  {
    test::TempDir dir;
    dir.write("vocab.json", vocab);
    EXPECT_ERROR_MENTIONS(load_error(dir, "merges.txt", "#version: 0.2\na c\n", "vocab.json"), "merges.txt", "line 2",
                          "token \"c\" is not in the vocabulary");
  }
  {
    test::TempDir dir;
    dir.write("vocab.json", vocab);
    EXPECT_ERROR_MENTIONS(load_error(dir, "merges.txt", "#version: 0.2\n\na b\n", "vocab.json"), "line 2",
                          "empty line");
  }
  {
    test::TempDir dir;
    dir.write("merges.txt", "a b\n");
    EXPECT_ERROR_MENTIONS(load_error(dir, "vocab.json", R"({"a": 0, "b": 1, "ab": 2)"), "vocab.json", "invalid JSON");
  }
  {
    test::TempDir dir;
    dir.write("merges.txt", "a b\n");
    EXPECT_ERROR_MENTIONS(load_error(dir, "vocab.json", R"(["a", "b"])"), "vocab.json", "must be a JSON object");
  }
  {
    test::TempDir dir;
    EXPECT_ERROR_MENTIONS(load_error(dir, "vocab.json", vocab), "vocab.json", "merges.txt does not exist");
  }
  {
    test::TempDir dir;
    dir.write("vocab.json", vocab);
    EXPECT_EQ(load_error(dir, "merges.txt", "a b\r\n", "vocab.json"), "");  // valid (CRLF, no #version line)
  }
}

TEST(VocabFileErrors, VocabWithATokenNamedModelIsStillAVocabulary) {
  test::TempDir dir;
  dir.write("merges.txt", "#version: 0.2\nmo del\n");
  const auto path = dir.write("vocab.json", R"({"mo": 0, "del": 1, "model": 2})");
  EXPECT_EQ(Tokenizer::load(path).vocab_size(), 3u);
}

// Inputs the tokenizer.json fuzzer (fuzz/tokenizer_json_fuzz.cpp) once crashed on: each loads or is
// refused with an Error (under ASan, as the fuzzer runs it, they also show any memory error).
TEST(TokenizerJsonErrors, FuzzRegressionsLoadOrAreRefused) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::fixture_dir() / "fuzz_regressions")) {
    ++files;
    const std::string content = test::read_file_bytes(entry.path());
    try {
      const Tokenizer tok = Tokenizer::from_tokenizer_json(content, entry.path().string());
      tok.decode_text(tok.encode("Hello  world's 123\n", EncodeOptions{true, true}));
    } catch (const Error&) {
    }
  }
  EXPECT_GT(files, 0);
}

TEST(PathErrors, MissingOrEmptyPathsAreNamed) {
  test::TempDir dir;
  EXPECT_ERROR_MENTIONS(load_error(dir, "unrelated.txt", "x", "nothing-here"), "nothing-here",
                        "no such file or directory");
  EXPECT_ERROR_MENTIONS(load_error(dir, "unrelated.txt", "x", "."), "neither tokenizer.json nor vocab.json");
}

}  // namespace
}  // namespace entroscope::tokenizer
