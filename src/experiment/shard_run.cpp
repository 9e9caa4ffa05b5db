#include "experiment/shard_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "common/directory_lock.h"
#include "common/durable_file.h"
#include "common/error.h"
#include "common/fault_point.h"
#include "entroscope_version.h"
#include "experiment/run_log.h"
#include "experiment/spec_parser.h"
#include "experiment/unit_file.h"
#include "experiment/utc_time.h"
#include "io/file_digest.h"

namespace entroscope::experiment {

namespace fs = std::filesystem;

namespace {

std::string absolute_path(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

// The unit file of `unit` in `dir` when it holds a finished unit of this plan.
std::optional<fs::path> finished_unit_file(const fs::path& dir, const std::string& model, const WorkUnit& unit,
                                           const std::string& key) {
  const fs::path path = dir / unit_file_name(model, unit);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    const UnitResult u = read_unit_file(path);
    if (u.failure.empty() && u.unit_id == unit.id && u.resume_key == key) return path;
  } catch (const Error&) {  // unreadable: computed again and replaced
  }
  return std::nullopt;
}

}  // namespace

ShardOutcome run_shard(const fs::path& experiment_file, const RunSettings& settings, const ShardChoice& shard,
                       std::size_t unit_items_per_unit) {
  const ExperimentSpec spec = parse_experiment_file(experiment_file);
  const ItemSet items = load_items(spec.data_file, spec.id_field);
  check_items_for_spec(spec, items);
  const std::vector<PreparedModel> prepared = prepare_models(spec, settings.fetch);
  const UnitPlan plan =
      plan_units(spec, items, prepared, settings.device, unit_items_per_unit, shard.count, shard.index);

  const auto lock = lock_output_folder(
      settings, fmt::format("entroscope run {} --shard {}/{}", experiment_file.string(), shard.index, shard.count));
  const fs::path dir = units_dir(settings.out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the units folder: {}", dir.string(), ec.message());
  if (const std::size_t leftovers = remove_atomic_write_leftovers(dir); leftovers > 0)
    fmt::print(settings.console, "entroscope: removed {} unfinished temporary file(s) of an interrupted shard\n",
               leftovers);
  const std::string stamp = utc_compact(std::chrono::system_clock::now());
  RunLog log(settings.out_dir / fmt::format("shard_{}-of-{}_{}.log", shard.index, shard.count, stamp));
  const std::string spec_sha = io::file_sha256(spec.file);
  const bool keep_units = unit_file_format(spec, settings.report) != PerTokenFormat::kNone;

  ShardOutcome out;
  for (const WorkUnit& u : plan.units) out.units += u.shard == shard.index;
  fmt::print(settings.console, "entroscope run --shard {}/{}: '{}', {} of {} units ({} items each) -> {}\n",
             shard.index, shard.count, spec.name, out.units, plan.units.size(), plan.unit_items, dir.string());
  log.line(fmt::format("entroscope {} (git {}): experiment '{}' ({}), shard {}/{}: {} of {} units of {} items",
                       ENTROSCOPE_VERSION, ENTROSCOPE_GIT_HASH, spec.name, spec.file.string(), shard.index,
                       shard.count, out.units, plan.units.size(), plan.unit_items));

  for (std::size_t m = 0; m < prepared.size(); ++m) {
    const PreparedModel& p = prepared[m];
    const std::string& name = p.source.name;
    const std::string& key = plan.resume_keys[m];
    std::vector<const WorkUnit*> pending;
    for (const WorkUnit& u : plan.units) {
      if (u.model != m || u.shard != shard.index) continue;
      if (!settings.force && finished_unit_file(dir, name, u, key)) {
        ++out.reused;
        log.line(fmt::format("{} unit {} (items {}-{}): finished earlier, kept", name, u.id, u.first_item + 1,
                             u.first_item + u.item_count));
      } else {
        pending.push_back(&u);
      }
    }
    if (pending.empty()) continue;
    const std::string counter = fmt::format("[model {}/{}]", m + 1, prepared.size());
    std::size_t pending_items = 0;
    for (const WorkUnit* u : pending) pending_items += u->item_count;
    fmt::print(settings.console, "{} {}: {} unit(s), {} items x {} conditions\n", counter, name, pending.size(),
               pending_items, spec.conditions.size());

    // A unit's identity and provenance, before its scores or its failure.
    auto unit_result = [&](const WorkUnit& u) {
      UnitResult r;
      r.unit_id = u.id;
      r.model = name;
      r.resume_key = key;
      r.chunk = u.chunk;
      r.first_item = u.first_item;
      r.item_count = u.item_count;
      r.unit_items = plan.unit_items;
      r.shard = shard.index;
      r.shard_count = shard.count;
      r.experiment_file = absolute_path(spec.file);
      r.experiment_sha256 = spec_sha;
      r.run = this_run(spec, settings.device);
      return r;
    };
    auto write_failed = [&](const WorkUnit& u, const std::string& reason) {
      UnitResult r = unit_result(u);
      r.failure = reason.rfind(name + ":", 0) == 0 ? reason : name + ": " + reason;
      write_unit_file(dir / unit_file_name(name, u), r);
      ++out.failed;
      out.failures.push_back(r.failure);
      log.line("FAILED: " + r.failure);
      fmt::print(settings.console, "{} FAILED: {}\n", counter, r.failure);
    };

    std::unique_ptr<LoadedModel> loaded;
    try {
      loaded = std::make_unique<LoadedModel>(spec, p, settings, counter, log);
    } catch (const std::bad_alloc&) {
      for (const WorkUnit* u : pending) write_failed(*u, "out of memory");
      continue;
    } catch (const Error& e) {
      for (const WorkUnit* u : pending) write_failed(*u, e.what());
      continue;
    }
    Progress progress(name, pending_items, settings.progress, settings.console);
    std::size_t done_items = 0;
    for (const WorkUnit* u : pending) {
      const auto wall_start = std::chrono::system_clock::now();
      const auto steady_start = std::chrono::steady_clock::now();
      try {
        UnitResult r = unit_result(*u);
        r.unit_records = keep_units;
        r.scored = loaded->score(unit_items(items, *u), keep_units, nullptr);
        // Records name items of the whole data file.
        for (TokenRecord& t : r.scored.tokens) t.item += static_cast<std::uint32_t>(u->first_item);
        for (WordRecord& w : r.scored.words) w.item += static_cast<std::uint32_t>(u->first_item);
        r.run.started_utc = utc_iso(wall_start);
        r.run.finished_utc = utc_iso(std::chrono::system_clock::now());
        r.run.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - steady_start).count();
        write_unit_file(dir / unit_file_name(name, *u), r);
        ++out.computed;
        log.line(fmt::format("{} unit {} (items {}-{}): {:.2f} s", name, u->id, u->first_item + 1,
                             u->first_item + u->item_count, r.run.wall_seconds));
        fault_point("shard-unit-written");
      } catch (const std::bad_alloc&) {
        write_failed(*u, "out of memory");
      } catch (const Error& e) {  // NonFiniteError and NumericError included: the reason names the place
        write_failed(*u, e.what());
      }
      done_items += u->item_count;
      progress.update(done_items);
    }
    progress.finish();
  }
  log.line(fmt::format("shard {}/{}: {} units ({} reused, {} computed, {} failed)", shard.index, shard.count,
                       out.units, out.reused, out.computed, out.failed));
  return out;
}

}  // namespace entroscope::experiment

namespace entroscope::experiment {

namespace {

struct FoundUnit {
  fs::path file;
  UnitResult unit;
};

std::string distinct_joined(const std::vector<FoundUnit*>& units, std::string RunInfo::*field) {
  std::vector<std::string> seen;
  for (const FoundUnit* f : units)
    if (std::find(seen.begin(), seen.end(), f->unit.run.*field) == seen.end()) seen.push_back(f->unit.run.*field);
  std::string joined;
  for (const auto& v : seen) joined += (joined.empty() ? "" : " + ") + v;
  return joined;
}

// How the merged model ran: the units' settings (distinct values joined), the earliest start, the
// latest finish and the seconds the units took together.
RunInfo merged_run_info(const std::vector<FoundUnit*>& units) {
  RunInfo run = units.front()->unit.run;
  run.blas = distinct_joined(units, &RunInfo::blas);
  run.gemm_kernel = distinct_joined(units, &RunInfo::gemm_kernel);
  run.device = distinct_joined(units, &RunInfo::device);
  run.device_name = distinct_joined(units, &RunInfo::device_name);
  run.wall_seconds = 0;
  for (const FoundUnit* f : units) {
    const RunInfo& r = f->unit.run;
    run.threads = std::max(run.threads, r.threads);
    run.started_utc = std::min(run.started_utc, r.started_utc);  // ISO times sort as text
    run.finished_utc = std::max(run.finished_utc, r.finished_utc);
    run.wall_seconds += r.wall_seconds;
  }
  return run;
}

// The unit files of every shard folder, in name order per folder.
std::vector<fs::path> list_unit_files(const std::vector<fs::path>& shard_dirs) {
  std::vector<fs::path> all;
  for (const fs::path& shard : shard_dirs) {
    const fs::path dir = units_dir(shard);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      fail("{}: no units/ folder: not the output folder of `entroscope run --shard`", shard.string());
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".json") files.push_back(e.path());
    if (ec) fail("{}: cannot list: {}", dir.string(), ec.message());
    std::sort(files.begin(), files.end());
    all.insert(all.end(), files.begin(), files.end());
  }
  if (all.empty()) fail("no unit files in the {} shard folder(s) given", shard_dirs.size());
  return all;
}

// A unit whose id is the plan's must also hold what the plan says: its items (by id, in order),
// one score per condition, records within the spec's conditions.
void check_unit_fits(const FoundUnit& f, const WorkUnit& expected, const ExperimentSpec& spec, const ItemSet& items) {
  const UnitResult& u = f.unit;
  const std::string label = f.file.string();
  if (u.first_item != expected.first_item || u.item_count != expected.item_count || u.chunk != expected.chunk)
    fail("{}: unit {} should hold items {}-{}, not {}-{}", label, u.unit_id, expected.first_item + 1,
         expected.first_item + expected.item_count, u.first_item + 1, u.first_item + u.item_count);
  if (!u.failure.empty()) return;
  const std::size_t n_cond = spec.conditions.size();
  for (std::size_t i = 0; i < u.scored.items.size(); ++i) {
    const ItemScores& s = u.scored.items[i];
    if (s.id != items.items[u.first_item + i].id || s.conditions.size() != n_cond)
      fail("{}: item {} of the unit is '{}' with {} conditions; the data file and spec have '{}' with {}", label, i + 1,
           s.id, s.conditions.size(), items.items[u.first_item + i].id, n_cond);
  }
  for (const TokenRecord& t : u.scored.tokens)
    if (t.condition >= n_cond) fail("{}: a token record names condition {} of {}", label, t.condition + 1, n_cond);
  for (const WordRecord& w : u.scored.words)
    if (w.condition >= n_cond) fail("{}: a word record names condition {} of {}", label, w.condition + 1, n_cond);
}

}  // namespace

ExperimentOutcome merge_shards(const std::vector<fs::path>& shard_dirs, const RunSettings& settings) {
  // Units are read twice: all of them to check them (keeping only what identifies each), then one
  // model's at a time to merge, so memory holds one model's scores, not a whole series'.
  const std::vector<fs::path> files = list_unit_files(shard_dirs);
  const std::string first_file = files.front().string();
  const UnitResult first = read_unit_file(files.front());
  auto check_consistent = [&](const fs::path& file, const UnitResult& u) {
    if (u.run.entroscope_version != ENTROSCOPE_VERSION || u.run.git_hash != ENTROSCOPE_GIT_HASH)
      fail("{}: computed by entroscope {} (git {}), this is {} (git {}); merge with the version the shards ran",
           file.string(), u.run.entroscope_version, u.run.git_hash, ENTROSCOPE_VERSION, ENTROSCOPE_GIT_HASH);
    if (u.experiment_file != first.experiment_file || u.experiment_sha256 != first.experiment_sha256)
      fail("{}: a unit of experiment {} (sha256 {}), but {} is of {} (sha256 {}); merge the shards of one experiment",
           file.string(), u.experiment_file, u.experiment_sha256.substr(0, 12), first_file, first.experiment_file,
           first.experiment_sha256.substr(0, 12));
    if (u.run.device != first.run.device)
      fail("{}: computed on {}, but {} on {}; the devices' results agree within tolerance, not bit for bit, so one "
           "merge takes the units of one device",
           file.string(), u.run.device, first_file, first.run.device);
    if (u.unit_items != first.unit_items)
      fail("{}: units of {} items, but {} has units of {}; shards of one sharded run use one --unit-items",
           file.string(), u.unit_items, first_file, first.unit_items);
  };
  check_consistent(files.front(), first);

  ExperimentOutcome out;
  out.spec = parse_experiment_file(first.experiment_file);
  const ExperimentSpec& spec = out.spec;
  if (io::file_sha256(spec.file) != first.experiment_sha256)
    fail("{}: changed since the shards ran (its sha256 differs from the units'); rerun the shards or restore it",
         first.experiment_file);
  const ItemSet items = load_items(spec.data_file, spec.id_field);
  check_items_for_spec(spec, items);
  const std::vector<PreparedModel> prepared = prepare_models(spec, settings.fetch);
  const std::size_t shard_count = std::max<std::size_t>(first.shard_count, 1);
  // The units' device: it is part of each model's resume key.
  const kernels::Device device = kernels::parse_device(first.run.device, first_file);
  const UnitPlan plan = plan_units(spec, items, prepared, device, first.unit_items, shard_count);

  // Every unit of the plan exactly once; nothing from another plan.
  std::map<std::string, std::size_t> expected;  // unit id -> index in plan.units
  for (std::size_t k = 0; k < plan.units.size(); ++k) expected[plan.units[k].id] = k;
  std::vector<FoundUnit> found;
  found.reserve(files.size());
  std::vector<FoundUnit*> by_unit(plan.units.size(), nullptr);
  for (const fs::path& file : files) {
    found.push_back({file, file == files.front() ? first : read_unit_file(file)});
    FoundUnit& f = found.back();
    check_consistent(f.file, f.unit);
    const auto it = expected.find(f.unit.unit_id);
    if (it == expected.end()) {
      std::string why = "its model is not in the experiment";
      for (std::size_t m = 0; m < prepared.size(); ++m)
        if (prepared[m].source.name == f.unit.model)
          why = f.unit.resume_key != plan.resume_keys[m]
                    ? "its model's spec, data, weights, config, tokenizer or device differ from what is here now"
                    : "its items are not a unit of this data file";
      fail("{}: not a unit of this experiment ({}); merge only the shards of one run", f.file.string(), why);
    }
    check_unit_fits(f, plan.units[it->second], spec, items);
    if (FoundUnit* earlier = by_unit[it->second])
      fail("unit {} ({}, items {}-{}) is in both {} and {}; give each shard folder once", f.unit.unit_id, f.unit.model,
           f.unit.first_item + 1, f.unit.first_item + f.unit.item_count, earlier->file.string(), f.file.string());
    by_unit[it->second] = &f;
    // Kept: identity, failure, run info and window counts; the scores are read again when merging.
    f.unit.scored.items.clear();
    f.unit.scored.items.shrink_to_fit();
    f.unit.scored.tokens = {};
    f.unit.scored.words = {};
  }
  std::vector<std::string> missing;
  for (std::size_t k = 0; k < plan.units.size(); ++k) {
    if (by_unit[k]) continue;
    const WorkUnit& u = plan.units[k];
    missing.push_back(fmt::format("{} items {}-{} (unit {}, shard {}/{})", prepared[u.model].source.name,
                                  u.first_item + 1, u.first_item + u.item_count, u.id, u.shard, shard_count));
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t k = 0; k < missing.size() && k < 10; ++k) list += (k ? "; " : "") + missing[k];
    if (missing.size() > 10) list += fmt::format("; and {} more", missing.size() - 10);
    fail("{} of {} units are missing: {}. Rerun their shards (finished units are kept) and merge again",
         missing.size(), plan.units.size(), list);
  }

  const auto lock = lock_output_folder(settings, "entroscope merge");
  fmt::print(settings.console, "entroscope merge: '{}', {} items x {} conditions, {} models from {} units -> {}\n",
             spec.name, items.items.size(), spec.conditions.size(), prepared.size(), plan.units.size(),
             settings.out_dir.string());
  for (std::size_t m = 0; m < prepared.size(); ++m) {
    const std::string counter = fmt::format("[{}/{}]", m + 1, prepared.size());
    std::vector<FoundUnit*> units;
    for (std::size_t k = 0; k < plan.units.size(); ++k)
      if (plan.units[k].model == m) units.push_back(by_unit[k]);  // chunks in item order
    std::vector<std::string> failures;
    for (const FoundUnit* f : units)
      if (!f->unit.failure.empty()) failures.push_back(f->unit.failure);
    if (!failures.empty()) {
      ModelOutcome failed = outcome_of(prepared[m].source);
      failed.failure = failures.size() == 1
                           ? failures.front()
                           : fmt::format("{} ({} of {} units failed)", failures.front(), failures.size(), units.size());
      fmt::print(settings.console, "{} FAILED: {}\n", counter, failed.failure);
      out.models.push_back(std::move(failed));
      continue;
    }
    PrecomputedScores merged;
    merged.units = units.size();
    merged.run = merged_run_info(units);
    merged.scored.window = window_info(spec, prepared[m].window);
    const bool records = std::all_of(units.begin(), units.end(), [](const FoundUnit* f) { return f->unit.unit_records; });
    for (FoundUnit* f : units) {
      UnitResult full = read_unit_file(f->file);
      if (full.unit_id != f->unit.unit_id) fail("{}: changed during the merge", f->file.string());
      ScoredItems& s = full.scored;
      std::move(s.items.begin(), s.items.end(), std::back_inserter(merged.scored.items));
      if (records) {
        std::move(s.tokens.begin(), s.tokens.end(), std::back_inserter(merged.scored.tokens));
        std::move(s.words.begin(), s.words.end(), std::back_inserter(merged.scored.words));
      }
      merged.scored.window.sequences_windowed += s.window.sequences_windowed;
      merged.scored.window.max_windows = std::max(merged.scored.window.max_windows, s.window.max_windows);
    }
    RunSettings model_settings = settings;
    model_settings.device = device;  // the key and provenance of the device the units ran on
    out.models.push_back(run_model(spec, items, prepared[m], model_settings, counter, &merged));
  }
  write_across_models(out, settings);
  return out;
}

}  // namespace entroscope::experiment
