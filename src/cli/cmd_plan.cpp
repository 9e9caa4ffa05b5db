// entroscope plan SPEC --slurm | --shell: the submit script of a sharded run (docs/cluster.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "common/error.h"
#include "entroscope_version.h"
#include "experiment/experiment_runner.h"
#include "experiment/spec_parser.h"
#include "experiment/work_units.h"
#include "io/checkpoint.h"
#include "kernels/threads.h"
#include "model/memory_plan.h"
#include "model/weights.h"

namespace entroscope::cli {

namespace {

namespace fs = std::filesystem;

struct PlanArgs {
  std::string experiment;
  bool slurm = false;
  bool shell = false;
  std::size_t shards = 4;
  std::string out;
  std::size_t unit_items = experiment::kDefaultUnitItems;
  std::string partition;
  std::string time;
  std::string mem;
  int cpus = 4;
  std::size_t jobs = 0;  // --shell: shards at once (0: all)
  bool offline = false;
};

// A word for a POSIX shell: single-quoted unless it needs no quoting.
std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:@,") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string this_executable() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("entroscope") : exe.string();
}

// Slurm's --mem in whole MiB.
std::string slurm_mem(std::uint64_t bytes) { return fmt::format("{}M", (bytes + (1u << 20) - 1) >> 20); }

std::string sci(double v) { return fmt::format("{:.2e}", v); }

void run_plan(const PlanArgs& args) {
  namespace ex = experiment;
  if (args.slurm == args.shell) fail("plan: choose one of --slurm (an sbatch array + merge) and --shell (one machine)");
  const ex::ExperimentSpec spec = ex::parse_experiment_file(args.experiment);
  const ex::ItemSet items = ex::load_items(spec.data_file, spec.id_field);
  ex::check_items_for_spec(spec, items);
  // Hub models go into the cache now (it must be one the tasks share); the script pulls again,
  // a no-op then, so that it also works when written on another machine.
  const std::vector<ex::PreparedModel> prepared = ex::prepare_models(spec, !args.offline);
  const ex::UnitPlan plan =
      ex::plan_units(spec, items, prepared, kernels::Device::kCpu, args.unit_items, args.shards, /*no keys*/ 0);

  // Memory per task: the largest model's estimate at `cpus` threads, with a quarter on top.
  std::uint64_t largest = 0;
  std::string largest_name;
  for (const ex::PreparedModel& p : prepared) {
    const model::WeightMemory weights = model::weight_memory(p.source.config, io::Checkpoint(p.source.resolved.dir));
    const std::uint64_t bytes =
        model::estimate_memory(p.source.config, weights, spec.batch_tokens, args.cpus).total();
    if (bytes > largest) largest = bytes, largest_name = p.source.name;
  }
  const std::string mem = args.mem.empty() ? slurm_mem(largest + largest / 4) : args.mem;

  const fs::path out = fs::absolute(args.out.empty() ? fs::path("results") / fs::path(args.experiment).stem()
                                                     : fs::path(args.out))
                           .lexically_normal();
  const std::string exe = shell_quote(this_executable());
  const std::string spec_path = shell_quote(fs::absolute(spec.file).lexically_normal().string());
  const std::string shards_dir = (out / "shards").string() + "/";
  const std::string logs_dir = (out / "logs").string() + "/";
  const std::size_t n = args.shards;
  std::vector<std::string> hub;
  for (const ex::PreparedModel& p : prepared)
    if (!p.source.resolved.repo_id.empty())
      hub.push_back(p.source.resolved.repo_id +
                    (p.source.resolved.pinned_revision().empty() ? "" : "@" + p.source.resolved.pinned_revision()));

  std::string s = "#!/usr/bin/env bash\n";
  s += fmt::format("# Sharded run of experiment '{}' ({}), written by entroscope {} (git {}):\n", spec.name,
                   spec.file.string(), ENTROSCOPE_VERSION, ENTROSCOPE_GIT_HASH);
  s += fmt::format("#   {} models x {} items = {} work units of up to {} items, in {} shards{}, then one merge.\n",
                   prepared.size(), items.items.size(), plan.units.size(), plan.unit_items, n,
                   args.slurm ? " (a Slurm array)" : " on this machine");
  s += "#   Estimated cost per shard (parameters x tokens; consecutive units of equal cost per shard):\n";
  for (std::size_t i = 1; i <= n; ++i) {
    std::size_t count = 0;
    std::vector<std::string> models;
    for (const auto& u : plan.units) {
      if (u.shard != i) continue;
      ++count;
      const std::string& name = prepared[u.model].source.name;
      if (models.empty() || models.back() != name) models.push_back(name);
    }
    std::string names;
    for (std::size_t k = 0; k < models.size() && k < 4; ++k) names += (k ? ", " : "") + models[k];
    if (models.size() > 4) names += fmt::format(" and {} more", models.size() - 4);
    s += fmt::format("#     shard {}: {} units, {} ({})\n", i, count, sci(plan.shard_cost(i)), names.empty() ? "none" : names);
  }
  s += fmt::format("#   Memory per task: {} ({}; the largest model, {}, estimated at {} thread(s), plus a quarter).\n",
                   mem, args.mem.empty() ? "estimated" : "as given", largest_name, args.cpus);
  s += "#   A shard that fails or is killed keeps its finished units: submit it again with the same command and\n"
       "#   only its unfinished units run; then run the merge line at the end (docs/cluster.md).\n";
  s += "# Submit: bash THIS_FILE\nset -euo pipefail\n";
  s += fmt::format("mkdir -p {} {}\n", shell_quote(shards_dir), shell_quote(logs_dir));
  if (!hub.empty()) {
    s += "# The models, once, into the shared Hugging Face cache (HF_HOME / HF_HUB_CACHE) before any task starts.\n";
    for (const std::string& h : hub) s += fmt::format("{} pull {}\n", exe, shell_quote(h));
  }
  // `index`: the shell's name for the shard number (digits only, so it needs no quotes).
  auto shard_command = [&](const std::string& index) {
    return fmt::format("{} run {} --shard {}/{} --unit-items {} --out {}{} --threads {} --progress lines --offline", exe,
                       spec_path, index, n, plan.unit_items, shell_quote(shards_dir), index, args.cpus);
  };
  const std::string merge_command =
      fmt::format("{} merge {}* --out {} --progress lines", exe, shell_quote(shards_dir), shell_quote(out.string()));
  if (args.slurm) {
    // The job scripts go into files with their #SBATCH options, so that one shard can be submitted
    // again by hand (sbatch --array=3 OUT/shard.sbatch) with the same settings.
    const std::string shard_job = (out / "shard.sbatch").string(), merge_job = (out / "merge.sbatch").string();
    std::string options;
    if (!args.partition.empty()) options += "#SBATCH --partition=" + args.partition + "\n";
    if (!args.time.empty()) options += "#SBATCH --time=" + args.time + "\n";
    s += "# One array task per shard; each writes its units into its own folder.\n";
    s += fmt::format(
        "cat > {} <<'JOB'\n#!/usr/bin/env bash\n#SBATCH --job-name=entroscope-{}\n#SBATCH --array=1-{}\n"
        "#SBATCH --cpus-per-task={}\n#SBATCH --mem={}\n{}#SBATCH --output={}shard_%a.log\n"
        "exec {}\nJOB\n",
        shell_quote(shard_job), spec.name, n, args.cpus, mem, options, logs_dir, shard_command("$SLURM_ARRAY_TASK_ID"));
    s += "# The merge, once every task has succeeded.\n";
    s += fmt::format(
        "cat > {} <<'JOB'\n#!/usr/bin/env bash\n#SBATCH --job-name=entroscope-{}-merge\n#SBATCH --cpus-per-task=1\n"
        "#SBATCH --mem={}\n{}#SBATCH --output={}merge.log\nexec {}\nJOB\n",
        shell_quote(merge_job), spec.name, mem, options, logs_dir, merge_command);
    s += fmt::format("array_job=$(sbatch --parsable {})\narray_job=${{array_job%%;*}}\n", shell_quote(shard_job));
    s += fmt::format("merge_job=$(sbatch --parsable --dependency=afterok:$array_job {})\nmerge_job=${{merge_job%%;*}}\n",
                     shell_quote(merge_job));
    s += "echo \"entroscope: submitted the shards as job $array_job and the merge as job $merge_job\"\n";
    s += fmt::format("echo \"entroscope: follow with: squeue -j $array_job,$merge_job; logs in {}; results in {}\"\n",
                     logs_dir, out.string());
    s += fmt::format("echo \"entroscope: to rerun shard I alone: sbatch --array=I {}; then: sbatch {}\"\n", shard_job,
                     merge_job);
  } else {
    const std::size_t jobs = args.jobs == 0 ? n : args.jobs;
    s += fmt::format("# {} shard(s) at a time with xargs (or: parallel -j {} run_shard ::: $(seq 1 {})).\n", jobs,
                     jobs, n);
    s += fmt::format("run_shard() {{\n  SHARD=$1\n  {} >{}\"shard_$SHARD.log\" 2>&1 || {{ echo \"entroscope: shard "
                     "$SHARD/{} failed; see {}shard_$SHARD.log\" >&2; return 1; }}\n}}\nexport -f run_shard\n",
                     shard_command("$SHARD"), shell_quote(logs_dir), n, logs_dir);
    s += fmt::format("seq 1 {} | xargs -P {} -I{{}} bash -c 'run_shard {{}}'\n", n, jobs);
    s += fmt::format("{} >{}merge.log 2>&1 || {{ cat {}merge.log >&2; exit 1; }}\n", merge_command,
                     shell_quote(logs_dir), shell_quote(logs_dir));
    s += fmt::format("echo \"entroscope: merged {} shards into {}\"\n", n, out.string());
  }
  fmt::print("{}", s);
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plan",
      "Print the script of a sharded run: with --slurm, an sbatch array (one task per shard, each\n"
      "  `entroscope run SPEC --shard I/N` into its own folder) and the merge job that waits for it\n"
      "  (--dependency=afterok); with --shell, the same on one machine with xargs. Hub models are pulled\n"
      "  into the shared cache first. Memory per task is estimated from the largest model (--mem overrides).\n"
      "  Example: entroscope plan examples/demo.yaml --slurm --shards 8 --partition cpu --time 2:00:00 > submit.sh\n"
      "           bash submit.sh\n"
      "  (docs/cluster.md)");
  cmd->add_option("experiment", args->experiment, "Experiment file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--slurm", args->slurm, "A Slurm submit script (sbatch array + merge)");
  cmd->add_flag("--shell", args->shell, "A plain bash script for one machine (xargs -P)");
  cmd->add_option("--shards", args->shards, "Number of shards (array tasks)")
      ->default_val(4)
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  cmd->add_option("--out", args->out,
                  "Results folder (default: results/<experiment file name>); shards go to OUT/shards/I, logs to OUT/logs");
  cmd->add_option("--unit-items", args->unit_items, "Items per work unit")
      ->default_val(experiment::kDefaultUnitItems)
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  cmd->add_option("--partition", args->partition, "Slurm partition (default: the cluster's)");
  cmd->add_option("--time", args->time, "Slurm time limit per task, e.g. 2:00:00 (default: the partition's)");
  cmd->add_option("--mem", args->mem, "Slurm memory per task, e.g. 16G (default: estimated)");
  cmd->add_option("--cpus", args->cpus, "CPUs (threads) per shard")->default_val(4)->check(CLI::Range(1, 1024));
  cmd->add_option("--jobs", args->jobs, "--shell: shards at once (default: all)");
  cmd->add_flag("--offline", args->offline, "Do not download models now (they must be in the cache)");
  cmd->callback([args] { run_plan(*args); });
}

}  // namespace entroscope::cli
