// Sharded runs (docs/cluster.md): the work units and their assignment, `run --shard I/N` and
// `merge`. The merged folder must hold the single run's numbers bit for bit (items, per-token and
// per-word files, results files but for how and when they ran), a killed shard keeps its finished
// units, and a merge refuses missing, duplicated, foreign and other-version units, writing nothing.
// The same on a real Slurm cluster: tests/cluster/slurm_test.sh.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>

#include "common/error.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "experiment/sequence_builder.h"
#include "experiment/spec_parser.h"
#include "experiment/unit_file.h"
#include "experiment/work_units.h"
#include "experiment_test_support.h"

namespace entroscope::experiment {
namespace {

namespace fs = std::filesystem;
using experiment_test::CommandResult;
using experiment_test::files_starting_with;
using experiment_test::run_command;

const std::string kBinary = ES_BINARY;

CommandResult run_shard_cli(const fs::path& dir, std::size_t index, std::size_t count, const fs::path& out,
                            std::size_t unit_items, const std::string& env = "") {
  return run_command(fmt::format("{} {} run {} --shard {}/{} --unit-items {} --out {} --threads 1 --progress none", env,
                                 kBinary, (dir / "exp.yaml").string(), index, count, unit_items, out.string()));
}

CommandResult merge_cli(const std::vector<fs::path>& shards, const fs::path& out) {
  std::string dirs;
  for (const auto& s : shards) dirs += " " + s.string();
  return run_command(fmt::format("{} merge{} --out {} --progress none", kBinary, dirs, out.string()));
}

std::vector<fs::path> unit_files(const fs::path& shard) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(shard / "units"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

fs::path only_file(const fs::path& dir, const std::string& prefix) {
  const auto files = files_starting_with(dir, prefix);
  EXPECT_EQ(files.size(), 1u) << dir << " " << prefix;
  return files.empty() ? fs::path() : files.front();
}

// Everything a single run and a merge both write, compared: byte for byte where no time or file
// name enters, as JSON without the run's times and file names otherwise.
void expect_same_results(const fs::path& single, const fs::path& merged, const std::vector<std::string>& models,
                         const std::string& per_unit_prefix) {
  for (const std::string& m : models) {
    SCOPED_TRACE(m);
    EXPECT_EQ(test_util::read_file(single / ("items_" + m + ".csv")), test_util::read_file(merged / ("items_" + m + ".csv")));
    if (!per_unit_prefix.empty()) {
      EXPECT_EQ(test_util::read_file(only_file(single, per_unit_prefix + m + "_")),
                test_util::read_file(only_file(merged, per_unit_prefix + m + "_")));
    }
    nlohmann::json a = read_json_file(only_file(single, "experiment_results_" + m + "_"));
    nlohmann::json b = read_json_file(only_file(merged, "experiment_results_" + m + "_"));
    EXPECT_EQ(b["run"]["entroscope_version"], a["run"]["entroscope_version"]);
    for (auto* d : {&a, &b}) {
      d->erase("run");
      d->erase("per_token_file");
      d->erase("experiment_file");  // as given on the command line vs the absolute path the units hold
    }
    EXPECT_EQ(a, b);
  }
  // The long table names each model's results file, whose name holds the time it was written.
  const std::regex results_file("experiment_results_[^,]*\\.json");
  for (const char* csv : {"scaling_summary.csv", "scaling_summary_long.csv"})
    EXPECT_EQ(std::regex_replace(test_util::read_file(single / csv), results_file, "F"),
              std::regex_replace(test_util::read_file(merged / csv), results_file, "F"))
        << csv;
  nlohmann::json a = read_json_file(single / "scaling_summary.json"), b = read_json_file(merged / "scaling_summary.json");
  for (auto* d : {&a, &b}) {
    d->erase("experiment_file");
    for (auto& m : (*d)["models"]) m.erase("results_file");
  }
  EXPECT_EQ(a, b);
  EXPECT_TRUE(fs::exists(merged / "report.html"));
}

TEST(WorkUnits, ShardIsIOfNCountedFromOne) {
  EXPECT_EQ(parse_shard("2/8").index, 2u);
  EXPECT_EQ(parse_shard("8/8").count, 8u);
  for (const char* bad : {"0/4", "5/4", "1", "1/0", "a/4", "1/4x", "-1/4", ""}) {
    try {
      parse_shard(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected I/N with 1 <= I <= N"), std::string::npos) << e.what();
    }
  }
}

TEST(WorkUnits, PlanCoversEveryItemOnceWithStableIdsAndBalancedCost) {
  test_util::TempDir dir;
  experiment_test::write_two_model_experiment(dir.path(), 30);
  const ExperimentSpec spec = parse_experiment_file(dir / "exp.yaml");
  const ItemSet items = load_items(spec.data_file, spec.id_field);
  const std::vector<PreparedModel> prepared = prepare_models(spec);
  const UnitPlan plan = plan_units(spec, items, prepared, kernels::Device::kCpu, 4, 3);
  ASSERT_EQ(plan.units.size(), 2u * 8u);  // 30 items in chunks of 4: 7 full and one of 2, per model
  std::set<std::string> ids;
  double largest = 0;
  for (std::size_t m = 0; m < 2; ++m) {
    std::size_t next = 0;
    for (const WorkUnit& u : plan.units) {
      if (u.model != m) continue;
      EXPECT_EQ(u.first_item, next);
      next += u.item_count;
      EXPECT_GE(u.shard, 1u);
      EXPECT_LE(u.shard, 3u);
      EXPECT_GT(u.cost, 0.0);
      largest = std::max(largest, u.cost);
      ids.insert(u.id);
    }
    EXPECT_EQ(next, 30u);
  }
  EXPECT_EQ(ids.size(), plan.units.size());
  // Balanced: every shard within one unit's cost of the mean.
  const double mean = (plan.shard_cost(1) + plan.shard_cost(2) + plan.shard_cost(3)) / 3;
  for (std::size_t s = 1; s <= 3; ++s) EXPECT_LE(std::abs(plan.shard_cost(s) - mean), largest) << s;
  // Consecutive: shards take the units in model and item order, so each loads few models (at most
  // models + shards - 1 loads in all).
  std::set<std::pair<std::size_t, std::size_t>> loads;
  for (std::size_t k = 0; k < plan.units.size(); ++k) {
    loads.insert({plan.units[k].shard, plan.units[k].model});
    if (k > 0) EXPECT_GE(plan.units[k].shard, plan.units[k - 1].shard);
  }
  EXPECT_LE(loads.size(), 2u + 3u - 1u);
  // The same wherever it is planned; unit ids do not depend on the shard count.
  const UnitPlan again = plan_units(spec, items, prepared, kernels::Device::kCpu, 4, 3);
  const UnitPlan five = plan_units(spec, items, prepared, kernels::Device::kCpu, 4, 5);
  for (std::size_t k = 0; k < plan.units.size(); ++k) {
    EXPECT_EQ(again.units[k].id, plan.units[k].id);
    EXPECT_EQ(again.units[k].shard, plan.units[k].shard);
    EXPECT_EQ(five.units[k].id, plan.units[k].id);
  }
  // The larger model's units cost more per token: the cost is parameters x tokens.
  EXPECT_NE(plan.units[0].cost, plan.units[8].cost);
}

TEST(WorkUnits, CostsCountEachModelsOwnTokens) {
  // Token counts are shared between models with the same tokenizer files; a model with another
  // tokenizer (here the demo's with most merges removed: more tokens per item) counts its own.
  test_util::TempDir dir;
  test_util::copy_model_dir(experiment_test::kModelsDir / "demo-gpt2-s", dir / "fewer-merges");
  fs::remove(dir / "fewer-merges" / "tokenizer.json");  // vocab.json + merges.txt then
  {
    std::ifstream in(dir / "fewer-merges" / "merges.txt");
    std::string kept;
    std::string line;
    for (int n = 0; n < 200 && std::getline(in, line); ++n) kept += line + "\n";
    in.close();
    test_util::write_file(dir / "fewer-merges" / "merges.txt", kept);
  }
  const fs::path models = experiment_test::kModelsDir;
  experiment_test::write_experiment(dir.path(),
                                    "[" + (models / "demo-gpt2-s").string() + ", " + (dir / "fewer-merges").string() +
                                        ", " + (models / "demo-gpt2-m").string() + "]",
                                    9, "");
  const ExperimentSpec spec = parse_experiment_file(dir / "exp.yaml");
  const ItemSet items = load_items(spec.data_file, spec.id_field);
  const std::vector<PreparedModel> prepared = prepare_models(spec);
  const UnitPlan plan = plan_units(spec, items, prepared, kernels::Device::kCpu, 4, 2, 0);
  ASSERT_EQ(plan.units.size(), 3u * 3u);
  for (const WorkUnit& u : plan.units) {
    const PreparedModel& p = prepared[u.model];
    const SequenceBuilder builder(spec, *p.tokenizer, p.source.config, p.source.name);
    std::size_t tokens = 0;
    for (std::size_t i = u.first_item; i < u.first_item + u.item_count; ++i)
      for (const Condition& c : spec.conditions) tokens += builder.build(c, items.items[i]).ids.size();
    EXPECT_EQ(u.cost, static_cast<double>(p.source.config.parameter_count()) * static_cast<double>(tokens))
        << p.source.name << " chunk " << u.chunk;
  }
  // The altered tokenizer does make more tokens (else this test could not tell the models apart).
  EXPECT_GT(plan.units[3].cost / static_cast<double>(prepared[1].source.config.parameter_count()),
            plan.units[0].cost / static_cast<double>(prepared[0].source.config.parameter_count()));
}

TEST(WorkUnits, AShardHashesOnlyTheModelsItRuns) {
  // Hashing reads every weight file; a shard of a 154-checkpoint series must not read them all.
  // Two equal models over two shards: shard 1 runs the first only, so the second's weights, here
  // unreadable, are never touched by it; shard 2 needs them and says so.
  test_util::TempDir dir;
  test_util::copy_model_dir(experiment_test::kModelsDir / "demo-gpt2-s", dir / "twin");
  fs::remove(dir / "twin" / "model.safetensors");
  fs::create_directory(dir / "twin" / "model.safetensors");
  experiment_test::write_experiment(
      dir.path(), "[" + (experiment_test::kModelsDir / "demo-gpt2-s").string() + ", " + (dir / "twin").string() + "]",
      4, "");
  const CommandResult first = run_shard_cli(dir.path(), 1, 2, dir / "s1", 2);
  EXPECT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("shard 1/2: 2 units (0 reused, 2 computed, 0 failed)"), std::string::npos)
      << first.output;
  const CommandResult second = run_shard_cli(dir.path(), 2, 2, dir / "s2", 2);
  EXPECT_NE(second.status, 0);
  EXPECT_NE(second.output.find("model.safetensors: not a regular file"), std::string::npos) << second.output;
}

struct Case {
  const char* name;
  std::string options;
  std::string per_unit_prefix;
};

class ShardedRun : public ::testing::TestWithParam<Case> {};

TEST_P(ShardedRun, MergedResultsAreTheSingleRunsBitForBit) {
  const Case& c = GetParam();
  test_util::TempDir dir;
  experiment_test::write_two_model_experiment(dir.path(), 13, c.options);
  const CommandResult single = experiment_test::run_cli_experiment(dir.path(), dir / "single");
  ASSERT_EQ(single.status, 0) << single.output;
  std::vector<fs::path> shards;
  for (std::size_t i = 1; i <= 3; ++i) {
    shards.push_back(dir / fmt::format("shard{}", i));
    const CommandResult r = run_shard_cli(dir.path(), i, 3, shards.back(), 3);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(fmt::format("shard {}/3:", i)), std::string::npos) << r.output;
  }
  const CommandResult merged = merge_cli(shards, dir / "merged");
  ASSERT_EQ(merged.status, 0) << merged.output;
  expect_same_results(dir / "single", dir / "merged", {"demo-gpt2-s", "demo-neox-m"}, c.per_unit_prefix);
}

INSTANTIATE_TEST_SUITE_P(
    Units, ShardedRun,
    ::testing::Values(Case{"tokens", "per_token: jsonl\n", "per_token_"}, Case{"words", "unit: word\nper_token: csv\n", "per_word_"},
                      Case{"windows", "per_token: csv\nwindow: {length: 64}\n", "per_token_"},
                      Case{"no_per_token_file", "", "per_token_"}),  // the report's CSV
    [](const auto& info) { return std::string(info.param.name); });

TEST(ShardedRunKill, AKilledShardKeepsItsFinishedUnitsAndARerunComputesOnlyTheRest) {
  test_util::TempDir dir;
  experiment_test::write_two_model_experiment(dir.path(), 12);
  const fs::path shard = dir / "shard";
  const CommandResult killed =
      run_shard_cli(dir.path(), 1, 1, shard, 2, "ENTROSCOPE_FAULT_POINT=shard-unit-written#3");
  EXPECT_NE(killed.status, 0);
  const std::vector<fs::path> kept = unit_files(shard);
  ASSERT_EQ(kept.size(), 3u);
  const auto first_time = fs::last_write_time(kept[0]);
  const std::string first_bytes = test_util::read_file(kept[0]);

  const CommandResult rerun = run_shard_cli(dir.path(), 1, 1, shard, 2);
  ASSERT_EQ(rerun.status, 0) << rerun.output;
  EXPECT_NE(rerun.output.find("shard 1/1: 12 units (3 reused, 9 computed, 0 failed)"), std::string::npos)
      << rerun.output;
  EXPECT_EQ(unit_files(shard).size(), 12u);
  EXPECT_EQ(fs::last_write_time(kept[0]), first_time);
  EXPECT_EQ(test_util::read_file(kept[0]), first_bytes);

  const CommandResult again = run_shard_cli(dir.path(), 1, 1, shard, 2);
  EXPECT_NE(again.output.find("(12 reused, 0 computed, 0 failed)"), std::string::npos) << again.output;
  const CommandResult forced = run_command(fmt::format("{} run {} --shard 1/1 --unit-items 2 --out {} --threads 1 "
                                                       "--progress none --force",
                                                       kBinary, (dir / "exp.yaml").string(), shard.string()));
  EXPECT_NE(forced.output.find("(0 reused, 12 computed, 0 failed)"), std::string::npos) << forced.output;
  // Recomputed, with the same scores (only the unit's times differ).
  EXPECT_NE(fs::last_write_time(kept[0]), first_time);
  EXPECT_EQ(read_json_file(kept[0])["scores"], nlohmann::json::parse(first_bytes)["scores"]);
}

TEST(ShardedRunMerge, RefusesMissingDuplicatedForeignAndOtherVersionUnitsWritingNothing) {
  test_util::TempDir dir;
  experiment_test::write_two_model_experiment(dir.path(), 8);
  const fs::path a = dir / "a", b = dir / "b";
  ASSERT_EQ(run_shard_cli(dir.path(), 1, 2, a, 4).status, 0);
  ASSERT_EQ(run_shard_cli(dir.path(), 2, 2, b, 4).status, 0);
  auto expect_refusal = [&](const std::vector<fs::path>& shards, const std::string& message) {
    const fs::path out = dir / "out";
    fs::remove_all(out);
    const CommandResult r = merge_cli(shards, out);
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out / "scaling_summary.json"));
    EXPECT_TRUE(files_starting_with(out, "experiment_results_").empty());
  };
  // Missing: only one shard.
  expect_refusal({a}, "of 4 units are missing: ");
  expect_refusal({a}, "Rerun their shards");
  // The same shard twice.
  expect_refusal({a, b, a}, "give each shard folder once");
  const fs::path c = dir / "c";
  fs::create_directories(c / "units");
  {
    // A unit whose key no longer matches: the spec changed after the shard ran.
    UnitResult u = read_unit_file(unit_files(b).front());
    u.resume_key = std::string(64, '0');
    u.unit_id = "0123456789abcdef";
    write_unit_file(c / "units" / "x.json", u);
  }
  expect_refusal({a, b, c}, "not a unit of this experiment (its model's spec, data, weights, config, tokenizer or device");
  // Another entroscope version.
  fs::remove_all(c);
  fs::create_directories(c / "units");
  for (const fs::path& f : unit_files(b)) {
    UnitResult u = read_unit_file(f);
    u.run.git_hash = "0000000";
    write_unit_file(c / "units" / f.filename(), u);
  }
  expect_refusal({a, c}, "merge with the version the shards ran");
  // Not a shard folder.
  expect_refusal({a, dir.path()}, "no units/ folder");
  // And the complete set merges.
  const CommandResult ok = merge_cli({a, b}, dir / "out");
  EXPECT_EQ(ok.status, 0) << ok.output;
}

TEST(ShardedRunMerge, AFailedUnitFailsItsModelAsASingleRunWould) {
  test_util::TempDir dir;
  const fs::path nan_model = experiment_test::make_nan_model(dir / "nan-model");
  experiment_test::write_experiment(
      dir.path(), "[" + (experiment_test::kModelsDir / "demo-gpt2-s").string() + ", " + nan_model.string() + "]", 6, "");
  const CommandResult shard = run_shard_cli(dir.path(), 1, 1, dir / "s", 3);
  EXPECT_NE(shard.status, 0);
  EXPECT_NE(shard.output.find("(0 reused, 2 computed, 2 failed)"), std::string::npos) << shard.output;
  EXPECT_NE(shard.output.find("non-finite value"), std::string::npos) << shard.output;
  const CommandResult merged = merge_cli({dir / "s"}, dir / "out");
  EXPECT_EQ(merged.status, 1) << merged.output;
  EXPECT_NE(merged.output.find("1 of 2 models failed (nan-model)"), std::string::npos) << merged.output;
  EXPECT_EQ(files_starting_with(dir / "out", "experiment_results_demo-gpt2-s_").size(), 1u);
  EXPECT_TRUE(files_starting_with(dir / "out", "experiment_results_nan-model_").empty());
  EXPECT_TRUE(fs::exists(dir / "out" / "scaling_summary.json"));
}

TEST(ShardedRunPlan, TheShellScriptRunsEveryShardAndTheMergeAndTheSlurmScriptChainsTheMerge) {
  test_util::TempDir dir;
  experiment_test::write_two_model_experiment(dir.path(), 10);
  ASSERT_EQ(experiment_test::run_cli_experiment(dir.path(), dir / "single").status, 0);
  const std::string spec = (dir / "exp.yaml").string();
  const CommandResult shell = run_command(fmt::format("{} plan {} --shell --shards 3 --jobs 2 --cpus 1 --unit-items 3 --out {}",
                                                      kBinary, spec, (dir / "sharded").string()));
  ASSERT_EQ(shell.status, 0) << shell.output;
  test_util::write_file(dir / "run.sh", shell.output);
  const CommandResult ran = run_command("bash " + (dir / "run.sh").string());
  ASSERT_EQ(ran.status, 0) << ran.output << shell.output;
  EXPECT_NE(ran.output.find("merged 3 shards"), std::string::npos) << ran.output;
  expect_same_results(dir / "single", dir / "sharded", {"demo-gpt2-s", "demo-neox-m"}, "per_token_");
  EXPECT_EQ(unit_files(dir / "sharded" / "shards" / "1").size() + unit_files(dir / "sharded" / "shards" / "2").size() +
                unit_files(dir / "sharded" / "shards" / "3").size(),
            8u);  // 2 models x 4 chunks of 3, 3, 3, 1 items

  const CommandResult slurm = run_command(fmt::format(
      "{} plan {} --slurm --shards 5 --cpus 2 --mem 3G --partition short --time 1:00:00 --out {}", kBinary, spec,
      (dir / "slurm").string()));
  ASSERT_EQ(slurm.status, 0) << slurm.output;
  for (const char* part : {"#SBATCH --array=1-5\n",
                           "#SBATCH --cpus-per-task=2\n#SBATCH --mem=3G\n#SBATCH --partition=short\n#SBATCH "
                           "--time=1:00:00\n",
                           "--shard $SLURM_ARRAY_TASK_ID/5 ", "/shards/$SLURM_ARRAY_TASK_ID ", "sbatch --parsable --dependency=afterok:$array_job ", "merge ",
                           "sbatch --array=I ",
                           "submitted the shards as job $array_job and the merge as job $merge_job"})
    EXPECT_NE(slurm.output.find(part), std::string::npos) << part << "\n" << slurm.output;
  const CommandResult neither = run_command(fmt::format("{} plan {}", kBinary, spec));
  EXPECT_NE(neither.status, 0);
  EXPECT_NE(neither.output.find("choose one of --slurm"), std::string::npos) << neither.output;
}

}  // namespace
}  // namespace entroscope::experiment
