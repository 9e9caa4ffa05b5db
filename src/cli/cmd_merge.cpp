// entroscope merge SHARD_DIR... --out DIR: the results of a sharded run (docs/cluster.md).
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "experiment/shard_run.h"

namespace entroscope::cli {

namespace {

struct MergeArgs {
  std::vector<std::string> shard_dirs;
  std::string out;
  bool force = false;
  std::string progress = "auto";
  bool no_report = false;
};

void run_merge(const MergeArgs& args) {
  namespace ex = experiment;
  ex::RunSettings settings;
  settings.out_dir = args.out;
  settings.force = args.force;
  settings.fetch = false;  // the models were there when the shards ran; the merge only reads their tokenizers
  settings.report = !args.no_report;
  settings.progress = progress_style_option(args.progress);
  std::vector<std::filesystem::path> dirs(args.shard_dirs.begin(), args.shard_dirs.end());
  const ex::ExperimentOutcome outcome = ex::merge_shards(dirs, settings);
  print_experiment_outcome(outcome, settings);
}

}  // namespace

void add_merge_command(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "Merge the shard folders of a sharded run (`entroscope run SPEC --shard I/N`) into the results a single\n"
      "  `entroscope run SPEC` writes, with the same numbers bit for bit: per model results JSON, analysis,\n"
      "  items and per-token files; scaling summary, plots and report.html. Checks first that every unit of the\n"
      "  experiment is there exactly once, computed from the same spec, data, model files and entroscope version;\n"
      "  otherwise it names the missing or foreign units and writes nothing. A model whose units failed is\n"
      "  failed, as in a single run (exit status 1).\n"
      "  Example: entroscope merge results/demo/shards/* --out results/demo\n"
      "  (docs/cluster.md; `entroscope plan SPEC --slurm` writes a submit script that runs both steps)");
  cmd->add_option("shard_dirs", args->shard_dirs, "Shard output folders (each with a units/ folder)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", args->out, "Output folder for the merged results")->required();
  cmd->add_flag("--force", args->force, "Write the results again even when the folder holds them already");
  cmd->add_option("--progress", args->progress, "Progress on stderr: auto, bar, lines or none")
      ->default_val("auto")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
  cmd->add_flag("--no-report", args->no_report, "Do not write report.html");
  cmd->callback([args] { run_merge(*args); });
}

}  // namespace entroscope::cli
