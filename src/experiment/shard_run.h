#pragma once
// `entroscope run SPEC --shard I/N` and `entroscope merge` (docs/cluster.md).
//
// A shard runs the work units the plan assigns to it (work_units.h) and writes one unit file per
// unit (unit_file.h), atomically, into DIR/units/: a killed shard loses only the unit in progress,
// and a rerun skips the units already there (same id, same resume key). The merge reads the units
// of all shards, checks that each unit of the spec is there exactly once and was computed from
// the same spec, data, model files and entroscope version, and then writes exactly what a single
// `run` writes, through the same code (model_run.h): items concatenated in data-file order, the
// bootstrap over all of them with the spec's seed, so the numbers are the single run's bits.
#include <filesystem>
#include <string>
#include <vector>

#include "experiment/experiment_runner.h"
#include "experiment/model_run.h"
#include "experiment/work_units.h"

namespace entroscope::experiment {

struct ShardOutcome {
  std::size_t units = 0;  // assigned to this shard
  std::size_t reused = 0, computed = 0, failed = 0;
  std::vector<std::string> failures;  // one line each, starting with the model's name
};

// Throws Error for bad input (as run_experiment); unit failures are counted in the outcome.
ShardOutcome run_shard(const std::filesystem::path& experiment_file, const RunSettings& settings,
                       const ShardChoice& shard, std::size_t unit_items);

// Throws Error, writing nothing, when a unit is missing, duplicated, foreign or from another
// version. Models whose units failed are failed outcomes, as in a single run.
ExperimentOutcome merge_shards(const std::vector<std::filesystem::path>& shard_dirs, const RunSettings& settings);

}  // namespace entroscope::experiment
