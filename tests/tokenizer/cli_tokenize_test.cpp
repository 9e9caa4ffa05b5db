// `entroscope tokenize` end to end: JSON Lines in and out, --allow-special, --decode, errors that
// name the input line. Runs the built binary (ES_BINARY).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
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

TEST(CliTokenize, DecodeWritesTheTextAndExactBytesWhenTheyDiffer) {
  const CliResult r = run_tokenize({"--tokenizer", (test::fixture_dir() / "gpt2" / "vocab.json").string(), "--decode"},
                                   "{\"ids\": [15496, 995]}\n{\"ids\": [447]}\n{\"ids\": []}\n{\"ids\": [1, 198]}\n"
                                   "{\"ids\": [1, 50257, 198]}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"text\":\"Hello world\"}\n{\"text\":\"\xEF\xBF\xBD\",\"bytes_hex\":\"e280\"}\n{\"text\":\"\"}\n"
            "{\"text\":\"\\\"\\n\"}\n{\"text\":\"\\\"\\n\",\"dropped_ids\":[50257]}\n");
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

  r = run_tokenize({"--tokenizer", kGpt2, "--decode"}, "{\"ids\": [1]}\n{\"ids\": [1, -4]}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "{\"text\":\"\\\"\"}\n");
  EXPECT_NE(r.err.find("stdin line 2: ids[1] = -4 is not a token id"), std::string::npos) << r.err;

  r = run_tokenize({"--tokenizer", kGpt2, "--decode"}, "{\"ids\": [1.5]}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stdin line 1: ids[0] = 1.5"), std::string::npos) << r.err;
}

TEST(CliTokenize, UnloadableTokenizerIsAnError) {
  const CliResult r = run_tokenize({"--tokenizer", "/nonexistent/tokenizer"}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("entroscope: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/tokenizer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no such"), std::string::npos) << r.err;
}

// Every real-library golden row, through the binary: encode with and without the post-processor,
// decode with and without skipping special tokens.
void check_golden_file_through_cli(const std::string& name) {
  const std::string tokenizer = test::fixture_tokenizer_dir(name).string();
  for (const bool add_special : {false, true}) {
    std::string input, want;
    int rows = 0;
    for (const nlohmann::json& row : test::read_golden_rows(name + ".jsonl")) {
      if (row["add_special_tokens"].get<bool>() != add_special) continue;
      input += nlohmann::json{{"text", test::golden_row_input(row)}}.dump() + "\n";
      want += "{\"ids\":" + row["ids"].dump() + "}\n";
      ++rows;
    }
    std::vector<std::string> args{"--tokenizer", tokenizer, "--allow-special", "--threads", "2"};
    if (add_special) args.push_back("--add-special-tokens");
    const CliResult r = run_tokenize(args, input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out == want) << name << (add_special ? " with" : " without") << " --add-special-tokens: output differs";
    EXPECT_GT(rows, 90);
  }
  for (const bool skip : {false, true}) {
    std::string input, want;
    for (const nlohmann::json& row : test::read_golden_rows("decode_hf.jsonl")) {
      if (row["tokenizer"] != name || row["skip_special"].get<bool>() != skip) continue;
      input += nlohmann::json{{"ids", row["ids"]}}.dump() + "\n";
      want += row["hex"].get<std::string>() + "\n";
    }
    std::vector<std::string> args{"--tokenizer", tokenizer, "--decode"};
    if (skip) args.push_back("--skip-special");
    const CliResult r = run_tokenize(args, input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string got;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) got += test::to_hex(nlohmann::json::parse(line)["text"].get<std::string>()) + "\n";
    EXPECT_TRUE(got == want) << name << " decode_hf rows" << (skip ? " (skip_special)" : "") << " differ";
  }
}

TEST(CliTokenize, Qwen3GoldenRowsExact) { check_golden_file_through_cli("qwen3"); }
TEST(CliTokenize, MistralGoldenRowsExact) { check_golden_file_through_cli("mistral-sp"); }

TEST(CliTokenize, ThreadsDoNotChangeTheOutput) {
  std::string input;
  for (const nlohmann::json& row : test::read_golden_rows("gpt2.jsonl")) {
    if (row.contains("text")) input += nlohmann::json{{"text", row["text"]}}.dump() + "\n";
  }
  const CliResult one = run_tokenize({"--tokenizer", kGpt2}, input);
  const CliResult three = run_tokenize({"--tokenizer", kGpt2, "--threads", "3"}, input);
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(three.exit_code, 0) << three.err;
  EXPECT_TRUE(one.out == three.out);
  EXPECT_GT(std::count(one.out.begin(), one.out.end(), '\n'), 250);
}

TEST(CliTokenize, ModelNamesResolveToTheirTokenizer) {
  // A bundled demo model by name: its tokenizer beside the weights.
  const CliResult r = run_tokenize({"--tokenizer", "demo-gpt2-s"}, "{\"text\": \"ROMEO: But soft\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[813,25,1558,365,1063]}\n");
  const CliResult missing = run_tokenize({"--tokenizer", "no-such-org/no-such-model"}, "");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no-such-org/no-such-model"), std::string::npos) << missing.err;
}

TEST(CliTokenize, FlagsThatDoNotGoTogetherAreRefused) {
  CliResult r = run_tokenize({"--tokenizer", kGpt2, "--skip-special"}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--skip-special needs --decode"), std::string::npos) << r.err;
  r = run_tokenize({"--tokenizer", kGpt2, "--decode", "--add-special-tokens"}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--add-special-tokens is for encoding"), std::string::npos) << r.err;
}

TEST(CliTokenize, HelpTeachesInputOutputAndExample) {
  const CliResult r = run_tokenize({"--help"}, "");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* part : {"{\"text\": \"...\"}", "{\"ids\": [...]}", "bytes_hex", "dropped_ids", "--allow-special",
                           "--add-special-tokens", "--skip-special", "--threads", "--decode", "Example"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << "help lacks " << part << ":\n" << r.out;
  }
}

}  // namespace
}  // namespace entroscope::tokenizer
