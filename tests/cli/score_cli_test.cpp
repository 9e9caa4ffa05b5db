// `entroscope score` end to end: the word goldens (tests/data/words, 41 texts x 4 demo models)
// through the binary, token rows, the long format of a multi-model run, NA for an unscored first
// token, quoting, carried-through fields, and errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/temp_dir.h"

namespace fs = std::filesystem;

namespace {

struct RunResult {
  int exit_code;
  std::string out;  // stdout (stderr goes to err)
  std::string err;
};

RunResult run(const std::string& args) {
  entroscope::test_util::TempDir tmp;
  const std::string err_path = (tmp / "err").string();
  std::string cmd = std::string(ES_BINARY) + " " + args + " 2> " + err_path;
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  int status = pclose(pipe);
  std::ifstream e(err_path);
  std::stringstream err;
  err << e.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, err.str()};
}

std::vector<nlohmann::json> golden_rows() {
  std::ifstream in(fs::path(ES_TEST_DATA_DIR) / "words" / "golden.jsonl");
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

std::vector<nlohmann::json> jsonl(const std::string& text) {
  std::vector<nlohmann::json> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

std::string model_dir(const std::string& name) { return (fs::path(ES_SOURCE_DIR) / "models" / name).string(); }

// Every golden word, through `score --unit word --format jsonl`, all texts of one model in one run.
TEST(ScoreCli, WordGoldensThroughTheBinary) {
  std::map<std::string, std::vector<nlohmann::json>> by_model;
  for (const nlohmann::json& g : golden_rows()) by_model[g["model"]].push_back(g);
  ASSERT_EQ(by_model.size(), 4u);
  double worst = 0;
  for (const auto& [name, goldens] : by_model) {
    entroscope::test_util::TempDir tmp;
    std::ofstream input(tmp / "texts.jsonl");
    for (const nlohmann::json& g : goldens) input << nlohmann::json{{"id", g["id"]}, {"text", g["text"]}}.dump() << "\n";
    input.close();
    const RunResult r = run("score --model " + model_dir(name) + " --input " + (tmp / "texts.jsonl").string() +
                            " --unit word --format jsonl --threads 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::vector<nlohmann::json>> rows_by_text;
    for (const nlohmann::json& row : jsonl(r.out)) rows_by_text[row["text_id"]].push_back(row);
    for (const nlohmann::json& g : goldens) {
      const std::vector<nlohmann::json>& rows = rows_by_text[g["id"]];
      ASSERT_EQ(rows.size(), g["words"].size()) << name << " " << g["id"];
      for (std::size_t k = 0; k < rows.size(); ++k) {
        const nlohmann::json& want = g["words"][k];
        const nlohmann::json& got = rows[k];
        EXPECT_EQ(got["model"], model_dir(name));
        EXPECT_EQ(got["unit_index"], k);
        EXPECT_EQ(got["unit"], want["word"]);
        EXPECT_EQ(got["char_start"], want["char_span"][0]);
        EXPECT_EQ(got["char_end"], want["char_span"][1]);
        EXPECT_EQ(got["byte_start"], want["byte_span"][0]);
        EXPECT_EQ(got["byte_end"], want["byte_span"][1]);
        EXPECT_EQ(got["token_start"], want["token_span"][0]);
        EXPECT_EQ(got["token_end"], want["token_span"][1]);
        EXPECT_EQ(got["unit_token_start"], want["unit_span"][0]);
        for (const char* field : {"surprisal_bits", "surprisal_bow_bits", "surprisal_bow_wordsprobability_bits",
                                  "surprisal_bow_minicons_bits", "first_subword_entropy_bits"}) {
          const double d = std::fabs(got[field].get<double>() - want[field].get<double>());
          worst = std::max(worst, d);
          EXPECT_LE(d, 2.5e-4) << name << " " << g["id"] << " word " << k << " " << field;
        }
      }
    }
  }
  std::cout << "[golden] words through `score`: largest difference " << worst << " bits\n";
}

TEST(ScoreCli, TokenRowsAndTheWorkedExample) {
  const nlohmann::json* golden = nullptr;
  const std::vector<nlohmann::json> goldens = golden_rows();
  for (const nlohmann::json& g : goldens) {
    if (g["model"] == "demo-gpt2-m" && g["text"] == "I was a mat in France.") golden = &g;
  }
  ASSERT_NE(golden, nullptr);
  const RunResult r = run("score --model " + model_dir("demo-gpt2-m") + " --text 'I was a mat in France.'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header,
            "model\trevision\tbos\ttext_id\tunit_index\tunit\tchar_start\tchar_end\tbyte_start\tbyte_end\ttoken_index\t"
            "token_id\tentropy_bits\tsurprisal_bits");
  std::size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    std::vector<std::string> f;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, '\t');) f.push_back(cell);
    ASSERT_EQ(f.size(), 14u) << line;
    EXPECT_EQ(f[1], "NA");  // a directory has no revision
    EXPECT_EQ(f[2], "auto: <|endoftext|> (2047)");
    EXPECT_EQ(std::stoi(f[11]), (*golden)["token_ids"][i].get<int>());
    EXPECT_NEAR(std::stod(f[12]), (*golden)["token_entropy_bits"][i].get<double>(), 2.5e-4);
    EXPECT_NEAR(std::stod(f[13]), (*golden)["token_surprisal_bits"][i].get<double>(), 2.5e-4);
  }
  EXPECT_EQ(i, (*golden)["token_ids"].size());
}

// A token that is part of a character shows its bytes as \xNN, as run's per-token files write it
// (the demo tokenizer has no merge for "€": three byte tokens).
TEST(ScoreCli, PartsOfACharacterShowTheirBytes) {
  const RunResult r = run("score --model " + model_dir("demo-gpt2-s") + " --text 'a \xe2\x82\xac b' --format jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> units;
  for (const nlohmann::json& row : jsonl(r.out)) units.push_back(row["unit"]);
  EXPECT_EQ(units, (std::vector<std::string>{"a", " ", "\\xE2", "\\x82", "\\xAC", " b"}));
}

TEST(ScoreCli, SeveralModelsMakeOneLongTable) {
  const RunResult r = run("score --model " + model_dir("demo-gpt2-s") + " --model " + model_dir("demo-neox-m") +
                          " --text 'a b' --text 'c' --unit word --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 7u);  // header + (2 + 1 words) x 2 models
  EXPECT_EQ(rows[0].substr(0, 38), "model,revision,bos,text_id,unit_index,");
  EXPECT_EQ(rows[1].find(model_dir("demo-gpt2-s") + ",NA,"), 0u) << rows[1];
  EXPECT_EQ(rows[4].find(model_dir("demo-neox-m") + ",NA,"), 0u) << rows[4];
}

TEST(ScoreCli, WithoutBosTheFirstTokenIsNotScored) {
  const RunResult r = run("score --model " + model_dir("demo-gpt2-s") + " --text 'Hello world' --bos never --format jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<nlohmann::json> rows = jsonl(r.out);
  const RunResult with_bos = run("score --model " + model_dir("demo-gpt2-s") + " --text 'Hello world' --format jsonl");
  ASSERT_EQ(rows.size(), jsonl(with_bos.out).size());
  ASSERT_GE(rows.size(), 2u);
  EXPECT_TRUE(rows[0]["surprisal_bits"].is_null());
  EXPECT_TRUE(rows[0]["entropy_bits"].is_null());
  EXPECT_TRUE(rows[1]["surprisal_bits"].is_number());
  EXPECT_EQ(rows[0]["bos"], "never");
}

TEST(ScoreCli, FieldsAreCarriedAndQuoted) {
  entroscope::test_util::TempDir tmp;
  std::ofstream(tmp / "in.jsonl") << R"({"id": "s1", "text": "He said, \"no\"\tthen", "condition": "a", "rt": 312})"
                                  << "\n";
  const RunResult r = run("score --model " + model_dir("demo-gpt2-s") + " --input " + (tmp / "in.jsonl").string() +
                          " --unit word --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header.substr(0, 49), "model,revision,bos,text_id,condition,rt,unit_inde");
  EXPECT_NE(first.find(",s1,a,312,0,He,"), std::string::npos) << first;
  EXPECT_NE(second.find(",s1,a,312,1,\"said,\","), std::string::npos) << second;
}

TEST(ScoreCli, BadInputIsOneLineNamingTheProblem) {
  RunResult r = run("score --model " + model_dir("demo-gpt2-s"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no text to score"), std::string::npos) << r.err;
  r = run("score --model " + model_dir("demo-gpt2-s") + " --text x --unit sentence");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--unit sentence"), std::string::npos) << r.err;
  r = run("score --model " + model_dir("demo-gpt2-s") + " --text x --bos '<nope>'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--bos <nope>: not a token"), std::string::npos) << r.err;
}

// A text longer than the context (256 positions) is scored in windows: every token and word once,
// and the first window's tokens exactly as when the text's beginning is scored alone.
TEST(ScoreCli, LongTextsGoThroughWindows) {
  std::string long_text, beginning;
  for (int i = 0; i < 300; ++i) long_text += (i % 3 ? "word " : "other ");
  beginning = long_text.substr(0, 200);
  const RunResult r = run("score --model " + model_dir("demo-gpt2-s") + " --text '" + long_text + "' --format jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<nlohmann::json> rows = jsonl(r.out);
  EXPECT_GT(rows.size(), 256u);
  for (const nlohmann::json& row : rows) EXPECT_TRUE(row["surprisal_bits"].is_number()) << row.dump();
  const std::vector<nlohmann::json> alone =
      jsonl(run("score --model " + model_dir("demo-gpt2-s") + " --text '" + beginning + "' --format jsonl").out);
  for (std::size_t i = 0; i + 1 < alone.size(); ++i) {
    EXPECT_EQ(rows[i]["surprisal_bits"], alone[i]["surprisal_bits"]) << i;
  }
  const RunResult words = run("score --model " + model_dir("demo-gpt2-s") + " --text '" + long_text +
                              "' --unit word --format jsonl");
  ASSERT_EQ(words.exit_code, 0) << words.err;
  EXPECT_EQ(jsonl(words.out).size(), 300u);
}

}  // namespace

namespace {

// Every model command takes the model positionally or as --model.
TEST(ModelArgument, PositionalOrOption) {
  for (const std::string& form : {std::string("demo-gpt2-s"), std::string("--model demo-gpt2-s")}) {
    EXPECT_EQ(run("info " + form).exit_code, 0) << form;
    EXPECT_EQ(run("doctor " + form).exit_code, 0) << form;
    EXPECT_EQ(run("bench " + form + " --batch 1 --tokens 8").exit_code, 0) << form;
  }
}

}  // namespace

namespace {

// --show prints the text with each token's value (plain when stdout is not a terminal, as here),
// and the table still goes to --out.
TEST(ScoreCli, ShowPrintsTheTextWithValues) {
  entroscope::test_util::TempDir tmp;
  const RunResult r = run("score --model " + model_dir("demo-gpt2-s") + " --text 'ROMEO: But soft!' --show surprisal --out " +
                          (tmp / "t.tsv").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("surprisal (bits): 0-2 2-4 4-6 6-8 8-10 10+", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("demo-gpt2-s [0]: ROMEO["), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);  // no colour codes on a pipe
  std::ifstream table(tmp / "t.tsv");
  std::string header;
  std::getline(table, header);
  EXPECT_EQ(header.rfind("model\trevision\t", 0), 0u);
  EXPECT_EQ(run("score --model " + model_dir("demo-gpt2-s") + " --text x --show loudness").exit_code, 1);
}

}  // namespace
