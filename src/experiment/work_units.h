#pragma once
// Sharded runs (docs/cluster.md): an experiment split into work units, each one model x a chunk of
// consecutive items, with stable ids, and the units of shard I of N chosen by estimated cost.
// Every process that plans the same spec, data and model files gets the same units and the same
// assignment, so shards need not talk to each other.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "experiment/items.h"
#include "experiment/model_run.h"
#include "experiment/spec.h"

namespace entroscope::experiment {

// Items per unit unless --unit-items says otherwise: small enough to balance shards and to lose
// little to a kill, large enough that a unit's files and its model load stay cheap.
inline constexpr std::size_t kDefaultUnitItems = 100;

// --shard I/N, I counted from 1 (Slurm's array index when the array is 1-N).
struct ShardChoice {
  std::size_t index = 1;
  std::size_t count = 1;
};
// Throws Error naming `option` unless `text` is I/N with 1 <= I <= N.
ShardChoice parse_shard(std::string_view text, std::string_view option = "--shard");

struct WorkUnit {
  std::size_t model = 0;       // index in the spec's models (and the prepared models)
  std::size_t chunk = 0;       // 0-based, in item order within the model
  std::size_t first_item = 0;  // index into the items
  std::size_t item_count = 0;
  std::string id;              // 16 hex digits: sha256 of the model's resume key and the chunk's item ids
                               // (empty for models the plan did not key)
  double cost = 0;             // parameters x tokens of every condition's sequences
  std::size_t shard = 0;       // 1-based, for the plan's shard count
};

struct UnitPlan {
  std::size_t unit_items = kDefaultUnitItems;
  std::size_t shards = 1;
  std::vector<std::string> resume_keys;  // per model: what decides its numbers (model_run.h); empty: not keyed
  std::vector<WorkUnit> units;           // model by model, chunks in item order
  double shard_cost(std::size_t shard) const;
};

// Tokenizes every item under every condition for the costs (once per distinct tokenizer), and
// assigns the units: in model and item order, cut into consecutive stretches of equal cost, one per shard (so a shard loads few models), the
// same wherever the plan is made.
// keyed_shard: which models get their resume key and unit ids (hashing reads every weight file):
// all (nullopt; the merge), only those with units in that shard (a shard), none (0; `plan`).
UnitPlan plan_units(const ExperimentSpec& spec, const ItemSet& items, const std::vector<PreparedModel>& prepared,
                    kernels::Device device, std::size_t unit_items, std::size_t shards,
                    std::optional<std::size_t> keyed_shard = std::nullopt);

// The items of one unit, as an ItemSet of their own (same file and digest).
ItemSet unit_items(const ItemSet& items, const WorkUnit& unit);

}  // namespace entroscope::experiment
