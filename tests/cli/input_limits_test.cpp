// The limits on inputs (docs/reliability.md "Limits on inputs"): each one is reached by a real
// input just past it, and refused with one line that names the file and the limit.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "common/error.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "experiment/items.h"
#include "experiment/spec_parser.h"
#include "io/safetensors.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using namespace entroscope;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  return "";
}

std::string nested(int depth, const std::string& inner = "1") {
  return std::string(static_cast<std::size_t>(depth), '[') + inner + std::string(static_cast<std::size_t>(depth), ']');
}

struct RunResult {
  int exit_code;
  std::string out;  // stdout and stderr together
};

// Runs the CLI with `input` on stdin (written to a file first: popen has one direction).
// `env` (NAME=value ...) is set for that run only.
RunResult run_with_stdin(const std::string& args, const std::string& input, const fs::path& dir,
                         const std::string& env = "") {
  test_util::write_file(dir / "stdin.txt", input);
  const std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(ES_BINARY) + " " + args + " < " +
                          (dir / "stdin.txt").string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(InputLimits, JsonNestingIsBoundedWhereverJsonIsRead) {
  // At the limit parses; one level deeper is refused naming the origin and the limit.
  EXPECT_NO_THROW(parse_json(nested(kMaxJsonDepth), "x.json"));
  EXPECT_EQ(error_of([] { parse_json(nested(kMaxJsonDepth + 1), "x.json"); }),
            "x.json: JSON nested deeper than 128 levels (the limit)");
  // Objects count as levels too, and the check does not wait for the document to end.
  std::string objects;
  for (int i = 0; i < 200; ++i) objects += "{\"a\":";
  EXPECT_EQ(error_of([&] { parse_json(objects, "o.json"); }), "o.json: JSON nested deeper than 128 levels (the limit)");

  test_util::TempDir dir;
  const fs::path config = dir / "config.json";
  test_util::write_file(config, "{\"model_type\": " + nested(500) + "}");
  EXPECT_EQ(error_of([&] { read_json_file(config); }),
            config.string() + ": JSON nested deeper than 128 levels (the limit)");

  // The tokenizer's own streaming reader has the same bound and message.
  const fs::path tokenizer = dir / "tokenizer.json";
  test_util::write_file(tokenizer, "{\"model\": {\"type\": \"BPE\", \"extra\": " + nested(300) + "}}");
  EXPECT_EQ(error_of([&] { tokenizer::Tokenizer::load(tokenizer); }),
            tokenizer.string() + ": JSON nested deeper than 128 levels (the limit)");

  // A safetensors header.
  const std::string header = "{\"t\": {\"dtype\": \"F32\", \"shape\": " + nested(200, "") + ", \"data_offsets\": [0, 0]}}";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  file += header;
  const fs::path weights = dir / "model.safetensors";
  test_util::write_file(weights, file);
  EXPECT_EQ(error_of([&] { io::SafetensorsFile opened(weights); }),
            weights.string() + ": JSON nested deeper than 128 levels (the limit)");
}

TEST(InputLimits, ItemsFilesAreBoundedInLinesAndLineLength) {
  test_util::TempDir dir;
  const fs::path items = dir / "items.jsonl";
  // One line just past 16 MiB.
  const std::string long_text(kMaxLineBytes, 'a');
  test_util::write_file(items, "{\"id\": \"a\", \"target\": \"x\"}\n{\"id\": \"b\", \"target\": \"" + long_text + "\"}\n");
  EXPECT_EQ(error_of([&] { experiment::load_items(items, "id"); }),
            items.string() + ":2: the line has " + std::to_string(kMaxLineBytes + 25) +
                " bytes, more than the 16 MiB a line may have (the limit)");
  // Nesting inside one item.
  test_util::write_file(items, "{\"id\": \"a\", \"x\": " + nested(129) + "}\n");
  EXPECT_EQ(error_of([&] { experiment::load_items(items, "id"); }),
            items.string() + ":1: JSON nested deeper than 128 levels (the limit)");
  // Ten million items and one: refused before any line is parsed.
  std::string many;
  many.reserve((experiment::kMaxItems + 1) * 3);
  for (std::size_t i = 0; i <= experiment::kMaxItems; ++i) many += "{}\n";
  test_util::write_file(items, many);
  EXPECT_EQ(error_of([&] { experiment::load_items(items, "id"); }),
            items.string() + ": 10000001 items, more than the 10000000 one data file may have (the limit)");
}

TEST(InputLimits, YamlNestingIsRefusedWithItsPosition) {
  // yaml-cpp's own depth guard (500 levels, the document's top mapping included) keeps its recursive
  // parser off the stack's end.
  const std::string yaml = "models: " + std::string(3000, '[') + std::string(3000, ']') + "\n";
  const std::string message = error_of([&] { experiment::parse_experiment_text(yaml, "/exp/deep.yaml"); });
  EXPECT_EQ(message, "/exp/deep.yaml:1: invalid YAML: nested deeper than 499 levels (the limit)");
}

TEST(InputLimits, LineBoundedReaderStopsHoldingBytesAtTheLimit) {
  std::istringstream in("ab\n\nabcdef\nxyz");
  std::string line;
  bool too_long = false;
  ASSERT_TRUE(read_line_bounded(in, line, 4, &too_long));
  EXPECT_EQ(line, "ab");
  EXPECT_FALSE(too_long);
  ASSERT_TRUE(read_line_bounded(in, line, 4, &too_long));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(read_line_bounded(in, line, 4, &too_long));
  EXPECT_TRUE(too_long);
  EXPECT_EQ(line, "abcd");
  ASSERT_TRUE(read_line_bounded(in, line, 4, &too_long));
  EXPECT_EQ(line, "xyz");
  EXPECT_FALSE(too_long);
  EXPECT_FALSE(read_line_bounded(in, line, 4, &too_long));
}

TEST(InputLimits, CommandLineInputsNameTheLineAndTheLimit) {
  test_util::TempDir dir;
  const std::string tokenizer = (fs::path(ES_TEST_DATA_DIR) / "tokenizer" / "gpt2" / "tokenizer.json").string();
  // tokenize: a stdin line past the limit.
  RunResult r = run_with_stdin("tokenize --tokenizer " + tokenizer,
                               "{\"text\": \"ok\"}\n\"" + std::string(kMaxLineBytes + 10, 'b') + "\"\n", dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("stdin line 2: more than the 16 MiB a line may have (the limit)"), std::string::npos) << r.out.substr(0, 300);
  // tokenize: nesting in a stdin line.
  r = run_with_stdin("tokenize --tokenizer " + tokenizer, "{\"text\": \"ok\", \"x\": " + nested(200) + "}\n", dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("stdin line 1: JSON nested deeper than 128 levels (the limit)"), std::string::npos) << r.out;
}

TEST(InputLimits, ABadSpinSettingIsRefusedAtTheStart) {
  // ENTROSCOPE_SPIN_US (kernels/parallel.h) is checked when the thread count is set, before any
  // model loads: a typo is an error, not a silent default.
  test_util::TempDir dir;
  for (const char* value : {"abc", "-5", "2000000", "10us"}) {
    const RunResult r = run_with_stdin(std::string("bench demo-gpt2-s --tokens 4 --reps 1"), "", dir.path(),
                                       std::string("ENTROSCOPE_SPIN_US=") + value);
    EXPECT_EQ(r.exit_code, 1) << value << ": " << r.out;
    EXPECT_EQ(r.out, std::string("entroscope: error: ENTROSCOPE_SPIN_US must be a whole number of microseconds from 0 "
                                 "to 1000000, got '") + value + "'\n");
  }
  const RunResult ok = run_with_stdin("bench demo-gpt2-s --tokens 4 --reps 1", "", dir.path(), "ENTROSCOPE_SPIN_US=0");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
}

}  // namespace
