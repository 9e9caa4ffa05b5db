// entroscope run EXPERIMENT.yaml: an entropy experiment over a series of models (docs/experiments.md).
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "model/memory_plan.h"
#include "common/error.h"
#include "common/interrupt_notice.h"
#include "experiment/experiment_runner.h"
#include "experiment/shard_run.h"
#include "experiment/summary_table.h"

namespace entroscope::cli {


namespace {

struct RunArgs {
  std::string experiment;
  std::string out;
  bool force = false;
  int threads = 0;
  std::string progress = "auto";
  bool offline = false;
  std::string max_memory;
  std::string device = "cpu";
  bool no_report = false;
  std::string shard;
  std::size_t unit_items = experiment::kDefaultUnitItems;
};

// --shard I/N: only this shard's units, into DIR/units/ (docs/cluster.md).
void run_shard(const RunArgs& args, experiment::RunSettings settings) {
  namespace ex = experiment;
  const ex::ShardChoice shard = ex::parse_shard(args.shard);
  if (args.out.empty())
    settings.out_dir = std::filesystem::path("results") / std::filesystem::path(args.experiment).stem() / "shards" /
                       std::to_string(shard.index);
  install_interrupt_notice(fmt::format(
      "entroscope: interrupted. Finished units are kept in {}/units/; the unit in progress wrote nothing. Run the same "
      "command again to continue.",
      settings.out_dir.string()));
  const ex::ShardOutcome outcome = ex::run_shard(args.experiment, settings, shard, args.unit_items);
  std::fflush(stderr);
  fmt::print("shard {}/{}: {} units ({} reused, {} computed, {} failed) -> {}\n", shard.index, shard.count,
             outcome.units, outcome.reused, outcome.computed, outcome.failed, settings.out_dir.string());
  std::fflush(stdout);
  if (outcome.failed > 0)
    fail("{} of the shard's {} units failed (first: {}); their reasons are in the unit files and the shard's log in {}",
         outcome.failed, outcome.units, outcome.failures.front(), settings.out_dir.string());
}

void run_run(const RunArgs& args) {
  apply_thread_count(args.threads);
  namespace ex = experiment;
  ex::RunSettings settings;
  settings.out_dir = args.out.empty() ? std::filesystem::path("results") / std::filesystem::path(args.experiment).stem()
                                      : std::filesystem::path(args.out);
  settings.force = args.force;
  settings.fetch = !args.offline;
  settings.device = chosen_device(args.device, "run");
  settings.report = !args.no_report;
  if (!args.max_memory.empty()) settings.max_memory = model::parse_memory_size(args.max_memory, "--max-memory");
  settings.progress = progress_style_option(args.progress);
  if (!args.shard.empty()) return run_shard(args, settings);
  install_interrupt_notice(fmt::format(
      "entroscope: interrupted. Models that finished are kept in {}/ with their results files; the model in progress "
      "wrote nothing. Run the same command again to continue: finished models are reused, the others computed.",
      settings.out_dir.string()));
  const ex::ExperimentOutcome outcome = ex::run_experiment(args.experiment, settings);
  print_experiment_outcome(outcome, settings);
}

}  // namespace

experiment::ProgressStyle progress_style_option(const std::string& name) {
  namespace ex = experiment;
  return name == "bar"     ? ex::ProgressStyle::kBar
         : name == "lines" ? ex::ProgressStyle::kLines
         : name == "none"  ? ex::ProgressStyle::kNone
                           : ex::default_progress_style();
}

void print_experiment_outcome(const experiment::ExperimentOutcome& outcome, const experiment::RunSettings& settings) {
  namespace ex = experiment;

  std::fflush(stderr);
  fmt::print("{}", ex::summary_table(outcome.spec, outcome.models, outcome.fits));
  fmt::print("\nResults in {}/: per model experiment_results_<model>_<time>.json, entropy_analysis_<model>.txt, "
             "items_<model>.csv, experiment_<model>_<time>.log{}; across models",
             settings.out_dir.string(),
             outcome.spec.per_token == ex::PerTokenFormat::kNone && !settings.report
                 ? ""
                 : fmt::format(", per_{}_<model>_<time>.{}", ex::unit_name(outcome.spec.unit),
                               outcome.spec.per_token == ex::PerTokenFormat::kNone
                                   ? "csv"
                                   : ex::per_token_format_name(outcome.spec.per_token)));
  for (const auto& f : outcome.summary_files) fmt::print(" {}", f.filename().string());
  fmt::print("\n");
  std::fflush(stdout);

  if (const std::size_t failed = outcome.failed_count(); failed > 0) {
    std::string names;
    for (const auto& m : outcome.models)
      if (m.status == ex::ModelStatus::kFailed) names += (names.empty() ? "" : ", ") + m.name;
    fail("{} of {} models failed ({}); the others' results and the summary are in {} (reasons above and in the "
         "models' log files)",
         failed, outcome.models.size(), names, settings.out_dir.string());
  }
}

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run an entropy experiment (YAML, see docs/experiments.md) over a series of models: per model a results\n"
      "  JSON, a readable analysis and a log; across models scaling_summary.csv/.json, scaling_<contrast>.svg and\n"
      "  report.html, the experiment's page (--no-report skips it; `entroscope report` writes it again).\n"
      "  Finished models are reused on a rerun with the same spec, data and weights (--force recomputes).\n"
      "  A model that produces a non-finite value is marked failed with the place; the others still run and the\n"
      "  command exits with status 1.\n"
      "  Example: entroscope run examples/demo.yaml --out results/demo\n"
      "  Sharded (docs/cluster.md): entroscope run examples/demo.yaml --shard 2/4 --out results/demo/shards/2, then\n"
      "  entroscope merge results/demo/shards/* --out results/demo; `entroscope plan` writes a Slurm script for both");
  cmd->add_option("experiment", args->experiment, "Experiment file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output folder (default: results/<experiment file name>)");
  cmd->add_flag("--force", args->force,
                "Recompute models (with --shard: units) even when a finished run with the same inputs exists");
  cmd->add_flag("--offline", args->offline,
                "Never download: every Hub id must be in the local cache (default: models not cached yet are fetched "
                "before the run starts, unless HF_HUB_OFFLINE=1)");
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores); results do not depend on it")
      ->default_val(0);
  cmd->add_option("--max-memory", args->max_memory,
                  "Memory a model may use (8G, 512M): batches shrink to fit, a model that cannot fit is refused "
                  "before loading (default: what the machine has available); never changes a number")
      ->type_name("SIZE");
  cmd->add_option("--progress", args->progress, "Progress on stderr: auto (bar on a terminal, lines otherwise), bar, "
                                                "lines or none")
      ->default_val("auto")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
  add_device_option(cmd, args->device);
  cmd->add_flag("--no-report", args->no_report,
                "Do not write report.html (the experiment's page: `entroscope report`) nor the per-token files it needs");
  cmd->add_option("--shard", args->shard,
                  "Run only shard I of N of the experiment's work units (model x chunk of items), into OUT/units/; "
                  "`entroscope merge` then writes the results. E.g. --shard $SLURM_ARRAY_TASK_ID/8 "
                  "(docs/cluster.md; `entroscope plan` writes the submit script)")
      ->type_name("I/N");
  cmd->add_option("--unit-items", args->unit_items,
                  "With --shard: items per work unit (every shard and the merge must use the same)")
      ->default_val(experiment::kDefaultUnitItems)
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  cmd->callback([args] { run_run(*args); });
}

}  // namespace entroscope::cli
