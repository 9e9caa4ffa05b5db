// `entroscope run` end to end through the executable: the quick start prints the table and writes
// every file; a NaN model makes the command exit non-zero after the others finished; bad input
// is one line on stderr.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/temp_dir.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment_test;

namespace {

const std::string kBinary = ES_BINARY;

// Skipping would hide a missing command, so this fails loudly instead.
void require_run_command() {
  const CommandResult help = run_command(kBinary + " run --help");
  ASSERT_EQ(help.status, 0) << "the entroscope executable has no `run` subcommand (add_run_command not wired into "
                               "src/cli/app.cpp?):\n"
                            << help.output;
}

}  // namespace

TEST(CliRun, QuickStartPrintsTheTableAndWritesEveryFile) {
  require_run_command();
  // Seed the output folder with the demo results computed in-process, so the command reuses them
  // (and thereby exercises resume across processes) instead of scoring the demo a second time.
  const DemoRun& demo = demo_run();
  test_util::TempDir dir;
  const fs::path out = dir / "results" / "demo";
  fs::create_directories(out);
  for (const auto& f : files_starting_with(demo.out_dir, "experiment_results_")) fs::copy_file(f, out / f.filename());

  const CommandResult r =
      run_command(kBinary + " run " + kDemoExperiment.string() + " --out " + out.string() + " --threads 1");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* expected : {"Experiment 'demo': Δ = with_context - no_context", "demo-gpt2-s*", "demo-gpt2-m*",
                               "demo-gpt2-l*", "demo-neox-m*", "Δ entropy [95% CI]", "Δ surprisal [95% CI]",
                               "+0.078 [+0.04", "-0.502 [-0.5", "GPT-NeoX", "scaling_with_context-no_context.svg"})
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n" << r.output;
  for (const char* file : {"scaling_summary.csv", "scaling_summary_long.csv", "scaling_summary.json", "items_demo-gpt2-s.csv",
                           "scaling_with_context-no_context.svg", "report.html",
                           "entropy_analysis_demo-gpt2-s.txt", "entropy_analysis_demo-neox-m.txt"})
    EXPECT_TRUE(fs::exists(out / file)) << file;
  // Reused results from before the report existed have no per-token files: the page says so.
  EXPECT_NE(test_util::read_file(out / "report.html").find("demo-gpt2-s: no heat maps: no per-token file"),
            std::string::npos);
  EXPECT_EQ(files_starting_with(out, "experiment_demo-").size(), 4u);  // one log per model
}

TEST(CliRun, NanModelMakesTheCommandFailAfterTheOthersFinish) {
  require_run_command();
  test_util::TempDir dir;
  make_nan_model(dir / "broken");
  write_demo_items(dir / "items.jsonl", 3);
  test_util::write_file(dir / "exp.yaml", "models: [{model: broken, name: broken-gpt2}, " +
                                              (kModelsDir / "demo-gpt2-s").string() + R"(]
data: items.jsonl
conditions:
  with_context: ["{context}", {text: "{target}", measure: true}]
  no_context: ["<|endoftext|>", {text: "{target}", measure: true}]
contrasts: [with_context - no_context]
statistics: {bootstrap: {samples: 200}}
)");
  const CommandResult r = run_command(kBinary + " run " + (dir / "exp.yaml").string() + " --out " +
                                      (dir / "out").string() + " --threads 1 --progress none");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("entroscope: error: 1 of 2 models failed (broken-gpt2)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[1/2] FAILED: broken-gpt2: non-finite value (nan) in layer 0"), std::string::npos)
      << r.output;
  // The table marks it, and the reason follows the table.
  const std::size_t row = r.output.find("\nbroken-gpt2  GPT-2");
  ASSERT_NE(row, std::string::npos) << r.output;
  const std::string row_text = r.output.substr(row + 1, r.output.find('\n', row + 1) - row - 1);
  EXPECT_NE(row_text.find("FAILED (reason below)"), std::string::npos) << row_text;
  EXPECT_EQ(row_text.find("nan"), std::string::npos) << row_text;
  EXPECT_NE(r.output.find("Failed:\n  broken-gpt2: non-finite value (nan)"), std::string::npos) << r.output;
  EXPECT_TRUE(files_starting_with(dir / "out", "experiment_results_broken-gpt2").empty());
  EXPECT_FALSE(files_starting_with(dir / "out", "experiment_results_demo-gpt2-s").empty());
  EXPECT_TRUE(fs::exists(dir / "out" / "scaling_summary.csv"));
  // The page lists the failure; the model that finished has its per-token file for the heat maps.
  const std::string page = test_util::read_file(dir / "out" / "report.html");
  EXPECT_NE(page.find("Failed: broken-gpt2: non-finite value"), std::string::npos);
  EXPECT_NE(page.find("1 of 2 models failed and have no numbers: broken-gpt2 (see"), std::string::npos);
  // Its row in the models table: no run, so dashes (not 0 threads and an empty version).
  EXPECT_NE(page.find("<td class=\"text\">cpu</td><td>–</td><td class=\"text\">–</td><td class=\"text\">–</td>"
                      "<td class=\"text warn\">failed</td>"),
            std::string::npos);
  EXPECT_EQ(files_starting_with(dir / "out", "per_token_demo-gpt2-s_").size(), 1u);

  // --no-report: neither the page nor the per-token files it would need.
  const CommandResult quiet = run_command(kBinary + " run " + (dir / "exp.yaml").string() + " --out " +
                                          (dir / "quiet").string() + " --threads 1 --progress none --no-report");
  EXPECT_EQ(quiet.status, 1) << quiet.output;
  EXPECT_FALSE(fs::exists(dir / "quiet" / "report.html"));
  EXPECT_TRUE(files_starting_with(dir / "quiet", "per_token_").empty());

  // `report` rewrites the page from the folder alone; a folder that is not a run's says so in one line.
  const CommandResult again =
      run_command(kBinary + " report " + (dir / "out").string() + " --out " + (dir / "again.html").string());
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_TRUE(fs::exists(dir / "again.html"));
  const CommandResult wrong = run_command(kBinary + " report " + dir.path().string());
  EXPECT_EQ(wrong.status, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("no scaling_summary.json: not the output folder of `entroscope run`"), std::string::npos)
      << wrong.output;
}

TEST(CliRun, BadInputIsOneLineNamingTheFile) {
  require_run_command();
  test_util::TempDir dir;
  test_util::write_file(dir / "exp.yaml", "models: [demo-gpt2-s]\ndata: items.jsonl\nconditionz: {}\n");
  const CommandResult r = run_command(kBinary + " run " + (dir / "exp.yaml").string() + " --out " +
                                      (dir / "out").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "entroscope: error: " + (dir / "exp.yaml").string() +
                          ":3:1: unknown field 'conditionz' in the experiment file (expected: models, data, conditions, "
                          "contrasts, metrics, per_token, unit, statistics, window, scaling, batch_tokens, id_field, name, "
                          "description)\n");
  EXPECT_FALSE(fs::exists(dir / "out"));  // nothing is created for a run that never started
}

namespace entroscope::experiment_test {
namespace {

// Ctrl-C during a run says what was kept and how to continue, on stderr and in the log of the
// model in progress, and the process still ends by SIGINT (status 130 from the shell).
TEST(CliRun, InterruptionSaysWhatWasKept) {
  test_util::TempDir tmp;
  const fs::path out = tmp / "out";
  const std::string command =
      "sh -c '" + std::string(ES_BINARY) + " run " + kDemoExperiment.string() + " --out " + out.string() +
      " --progress none > /dev/null & pid=$!; i=0; while ! ls " + out.string() +
      "/experiment_results_* > /dev/null 2>&1 && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; kill -INT $pid; "
      "wait $pid; echo status=$?'";
  const CommandResult r = run_command(command);
  EXPECT_NE(r.output.find("entroscope: interrupted. Models that finished are kept in " + out.string()),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("status=130"), std::string::npos) << r.output;
  bool logged = false;
  for (const auto& entry : fs::directory_iterator(out)) {
    if (entry.path().extension() != ".log") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    logged = logged || text.str().find("entroscope: interrupted.") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

}  // namespace
}  // namespace entroscope::experiment_test

TEST(CliRun, AModelThatCannotFitIsRefusedBeforeLoadingWithTheFigures) {
  require_run_command();
  test_util::TempDir dir;
  write_demo_items(dir / "items.jsonl", 2);
  test_util::write_file(dir / "exp.yaml", "models: [" + (kModelsDir / "demo-gpt2-s").string() + R"(]
data: items.jsonl
conditions:
  a: ["<|endoftext|>", {text: "{target}", measure: true}]
statistics: {bootstrap: {samples: 100}}
)");
  const CommandResult r = run_command(kBinary + " run " + (dir / "exp.yaml").string() + " --out " +
                                      (dir / "out").string() + " --threads 1 --progress none --max-memory 64M");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED: demo-gpt2-s: needs about "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("but only 64 MB are allowed (--max-memory)"), std::string::npos) << r.output;
  EXPECT_TRUE(files_starting_with(dir / "out", "experiment_results_").empty());
  const CommandResult bad = run_command(kBinary + " run " + (dir / "exp.yaml").string() + " --out " +
                                        (dir / "out").string() + " --max-memory lots");
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_NE(bad.output.find("--max-memory lots: expected a size such as 8G"), std::string::npos) << bad.output;
}
