// `entroscope tokenize` end to end: JSON Lines in and out, --allow-special, --decode, errors that
// name the input line. Runs the built binary (ES_BINARY).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tokenizer_test_support.h"

namespace entroscope::tokenizer {
namespace {

struct CliResult {
  int exit_code;
  std::string out;
  std::string err;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

CliResult run_tokenize(const std::vector<std::string>& args, const std::string& input) {
  if (!std::filesystem::exists(ES_BINARY)) {
    throw std::runtime_error(std::string("the entroscope binary is not built (") + ES_BINARY +
                             "); build the default target before running the CLI tests");
  }
  test::TempDir dir;
  const auto in = dir.write("in.jsonl", input);
  std::string command = shell_quote(ES_BINARY);
  command.append(" tokenize");
  for (const std::string& a : args) command.append(" ").append(shell_quote(a));
  command.append(" < ").append(shell_quote(in.string()));
  command.append(" > ").append(shell_quote((dir.path() / "out").string()));
  command.append(" 2> ").append(shell_quote((dir.path() / "err").string()));
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::read_file_bytes(dir.path() / "out"),
          test::read_file_bytes(dir.path() / "err")};
}

const std::string kGpt2 = (test::fixture_dir() / "gpt2").string();

TEST(CliTokenize, EncodesOneLinePerInputLineInOrder) {
  const CliResult r = run_tokenize({"--tokenizer", kGpt2},
                                   "{\"text\": \"Hello world\"}\n{\"text\": \"\"}\n{\"text\": \"a<|endoftext|>\", "
                                   "\"id\": 7}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[15496,995]}\n{\"ids\":[]}\n{\"ids\":[64,27,91,437,1659,5239,91,29]}\n");
}

TEST(CliTokenize, AllowSpecialRecognizesSpecialTokens) {
  const CliResult r = run_tokenize({"--tokenizer", kGpt2, "--allow-special"}, "{\"text\": \"a<|endoftext|>\"}");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[64,50256]}\n");
}

TEST(CliTokenize, DecodeWritesTextOrHexBytes) {
  const CliResult r = run_tokenize({"--tokenizer", (test::fixture_dir() / "gpt2" / "vocab.json").string(), "--decode"},
                                   "{\"ids\": [15496, 995]}\n{\"ids\": [447]}\n{\"ids\": []}\n{\"ids\": [1, 198]}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"text\":\"Hello world\"}\n{\"bytes_hex\":\"e280\"}\n{\"text\":\"\"}\n{\"text\":\"\\\"\\n\"}\n");
}

TEST(CliTokenize, BadLinesAreNamedByNumber) {
  CliResult r = run_tokenize({"--tokenizer", kGpt2}, "{\"text\": \"ok\"}\n{\"text\": 5}\n{\"text\": \"never\"}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "{\"ids\":[482]}\n");
  EXPECT_NE(r.err.find("entroscope: error: stdin line 2:"), std::string::npos) << r.err;

  r = run_tokenize({"--tokenizer", kGpt2}, "{\"text\": \"ok\"}\n\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stdin line 2: empty line"), std::string::npos) << r.err;

  r = run_tokenize({"--tokenizer", kGpt2}, "{\"text\": \"unterminated}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stdin line 1: not valid JSON"), std::string::npos) << r.err;

  r = run_tokenize({"--tokenizer", kGpt2, "--decode"}, "{\"ids\": [1]}\n{\"ids\": [1, 50257]}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stdin line 2: ids[1] = 50257 is not a token id"), std::string::npos) << r.err;

  r = run_tokenize({"--tokenizer", kGpt2, "--decode"}, "{\"ids\": [1.5]}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stdin line 1: ids[0] = 1.5"), std::string::npos) << r.err;
}

TEST(CliTokenize, UnloadableTokenizerIsAnError) {
  const CliResult r = run_tokenize({"--tokenizer", "/nonexistent/tokenizer"}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("entroscope: error: /nonexistent/tokenizer: no such file or directory"), std::string::npos)
      << r.err;
}

TEST(CliTokenize, HelpTeachesInputOutputAndExample) {
  const CliResult r = run_tokenize({"--help"}, "");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* part :
       {"{\"text\": \"...\"}", "{\"ids\": [...]}", "bytes_hex", "--allow-special", "--decode", "Example"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << "help lacks " << part << ":\n" << r.out;
  }
}

}  // namespace
}  // namespace entroscope::tokenizer
