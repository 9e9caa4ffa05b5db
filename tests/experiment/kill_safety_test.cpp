// `entroscope run` killed (SIGKILL, SIGINT) at many points of a run, then run again: finished
// models are reused, nothing partial is ever read as finished, and the final numbers equal an
// uninterrupted run's bit for bit. Two runs on one --out: the second refuses while the first holds
// the folder; a killed run's lock is taken over. The kill points are the named fault points of
// common/fault_point.h (ENTROSCOPE_FAULT_POINT).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "common/directory_lock.h"
#include "common/durable_file.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment_test;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Everything the numbers are: per model the summary and per-item values of its one results file
// and its per-token file; across models scaling_summary.json without file names.
nlohmann::json final_numbers(const fs::path& out) {
  nlohmann::json all;
  for (const char* model : {"demo-gpt2-s", "demo-neox-m"}) {
    const auto results = files_starting_with(out, std::string("experiment_results_") + model + "_");
    EXPECT_EQ(results.size(), 1u) << model;  // one current results file per model
    if (results.size() != 1) continue;
    const nlohmann::json doc = read_json_file(results[0]);
    all[model]["summary"] = doc["summary"];
    all[model]["items"] = doc["items"];
    all[model]["per_token"] = read(out / doc["per_token_file"].get<std::string>());
    all[model]["items_csv"] = read(out / (std::string("items_") + model + ".csv"));
  }
  nlohmann::json scaling = read_json_file(out / "scaling_summary.json");
  for (auto& m : scaling["models"]) {
    m.erase("results_file");
    m.erase("status");  // "reused" after a rerun, "computed" otherwise
  }
  scaling.erase("experiment_file");
  all["scaling"] = scaling;
  return all;
}

std::vector<std::string> leftovers(const fs::path& out) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(out))
    if (is_atomic_write_leftover(e.path().filename().string())) names.push_back(e.path().filename().string());
  return names;
}

}  // namespace

TEST(KillSafety, KilledAnywhereThenRerunEqualsAnUninterruptedRun) {
  test_util::TempDir dir;
  write_two_model_experiment(dir.path());
  const CommandResult clean = run_cli_experiment(dir.path(), dir / "clean");
  ASSERT_EQ(clean.status, 0) << clean.output;
  const nlohmann::json expected = final_numbers(dir / "clean");

  // Per model four atomic writes (per-token, results, analysis, items), then the summaries.
  const std::vector<std::string> points = {
      "run-model-scored#1",          "atomic-write-before-rename#1", "run-per-unit-written#1",
      "atomic-write-before-rename#2", "run-results-written#1",        "run-model-done#1",
      "run-model-scored#2",          "atomic-write-before-rename#6", "run-model-done#2",
      "atomic-write-before-rename#9", "run-summary-csv-written#1",    "atomic-write-before-rename#12"};
  int case_number = 0;
  for (const std::string& point : points) {
    for (const char* signal : {"KILL", "INT"}) {
      const fs::path out = dir / fmt::format("case{}", case_number++);
      const CommandResult killed =
          run_cli_experiment(dir.path(), out,
                             fmt::format("ENTROSCOPE_FAULT_POINT='{}' ENTROSCOPE_FAULT_SIGNAL={}", point, signal));
      ASSERT_NE(killed.status, 0) << point << " " << signal << ": the fault point was not reached\n" << killed.output;
      if (std::string(signal) == "INT") {
        EXPECT_NE(killed.output.find("Run the same command again to continue"), std::string::npos) << killed.output;
      }
      // Nothing a reader would take as finished is partial: every results file present parses.
      for (const auto& f : files_starting_with(out, "experiment_results_")) {
        if (!is_atomic_write_leftover(f.filename().string())) {
          EXPECT_NO_THROW(read_json_file(f)) << f;
        }
      }
      const CommandResult rerun = run_cli_experiment(dir.path(), out);
      ASSERT_EQ(rerun.status, 0) << point << " " << signal << "\n" << rerun.output;
      EXPECT_TRUE(leftovers(out).empty()) << point;
      const nlohmann::json got = final_numbers(out);
      EXPECT_TRUE(got == expected) << point << " " << signal << ": differs in "
                                   << nlohmann::json::diff(expected, got).dump().substr(0, 2000);
      // A model whose results file was written before the kill is reused, not recomputed.
      if (point == "run-model-done#1" || point == "run-results-written#1" || point == "run-model-scored#2") {
        EXPECT_NE(rerun.output.find("demo-gpt2-s: reusing"), std::string::npos) << point << "\n" << rerun.output;
      }
    }
  }
}

TEST(RunLock, ASecondRunOnTheSameFolderRefusesAndAKilledRunsLockIsTakenOver) {
  test_util::TempDir dir;
  write_two_model_experiment(dir.path());
  const fs::path out = dir / "out";
  fs::create_directories(out);
  {
    const DirectoryLock held(out, "a test holding the folder");
    const CommandResult second = run_cli_experiment(dir.path(), out);
    EXPECT_EQ(second.status, 1) << second.output;
    EXPECT_NE(second.output.find(out.string() + ": another entroscope process is writing to this folder (pid "),
              std::string::npos)
        << second.output;
    EXPECT_NE(second.output.find("a test holding the folder"), std::string::npos) << second.output;
    EXPECT_TRUE(files_starting_with(out, "experiment_results_").empty());
  }
  // A run killed while holding the lock: the kernel released it; the record it left is reported.
  const CommandResult killed = run_cli_experiment(dir.path(), out, "ENTROSCOPE_FAULT_POINT=run-model-scored");
  ASSERT_NE(killed.status, 0) << killed.output;
  const CommandResult next = run_cli_experiment(dir.path(), out);
  ASSERT_EQ(next.status, 0) << next.output;
  EXPECT_NE(next.output.find("taking over"), std::string::npos) << next.output;
  EXPECT_EQ(files_starting_with(out, "experiment_results_").size(), 2u);
}
