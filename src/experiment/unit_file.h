#pragma once
// One finished work unit of a sharded run (work_units.h), as shard_<I>/units/<model>.<chunk>.<id>.json:
// the unit's identity, the resume key of its model (spec, data, weights, config, tokenizer, device),
// how it ran, and its scores: per item, and per token or word when kept, with item indices into
// the whole data file. JSON doubles round-trip exactly, so a merge sees the bits the shard had.
// A unit that failed (a non-finite value, out of memory) is written too, with its reason and no
// scores: the merge marks the model failed, as a single run would, and a rerun computes it again.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "experiment/item_scoring.h"
#include "experiment/model_result.h"
#include "experiment/work_units.h"

namespace entroscope::experiment {

inline constexpr const char* kUnitFormat = "entroscope-work-unit";
inline constexpr int kUnitFormatVersion = 1;

struct UnitResult {
  std::string unit_id;
  std::string model;       // the model's name in the spec
  std::string resume_key;  // of the whole model's run (model_run.h)
  std::size_t chunk = 0, first_item = 0, item_count = 0;
  std::size_t unit_items = 0;             // the plan's chunk size
  std::size_t shard = 0, shard_count = 0;  // where it ran (informational: units do not depend on it)
  std::string experiment_file;             // absolute path, as the shard read it
  std::string experiment_sha256;           // of the experiment file's bytes
  RunInfo run;                             // version, threads, kernel, device, times
  std::string failure;                     // non-empty: the unit failed; no scores
  bool unit_records = false;               // tokens / words kept for per-token files and the report
  ScoredItems scored;                      // item indices into the whole data file
};

// <model>.<chunk, 5 digits>.<id>.json
std::string unit_file_name(const std::string& model, const WorkUnit& unit);
// The folder of a shard's unit files.
std::filesystem::path units_dir(const std::filesystem::path& shard_dir);

nlohmann::ordered_json unit_to_json(const UnitResult& unit);
// Throws Error("<label>: ...") when the document is not a unit file this version reads.
UnitResult unit_from_json(const nlohmann::json& doc, const std::string& label);

// Atomic; refuses non-finite values (nothing is written then).
void write_unit_file(const std::filesystem::path& path, const UnitResult& unit);
UnitResult read_unit_file(const std::filesystem::path& path);

}  // namespace entroscope::experiment
