#include "experiment/model_run.h"

#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "common/error.h"
#include "common/fault_point.h"
#include "common/json_file.h"
#include "entroscope_version.h"
#include "experiment/analysis_report.h"
#include "experiment/checked_output.h"
#include "experiment/item_scoring.h"
#include "experiment/model_summary.h"
#include "experiment/results_files.h"
#include "experiment/run_log.h"
#include "experiment/sequence_builder.h"
#include "experiment/text_scoring.h"
#include "experiment/word_units.h"
#include "experiment/text_format.h"
#include "experiment/utc_time.h"
#include "io/hub_hash.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"
#include "metrics/scorer.h"
#include "model/memory_plan.h"
#include "model/weights.h"

namespace entroscope::experiment {

namespace fs = std::filesystem;

std::string resume_key(const ExperimentSpec& spec, const ItemSet& items, const ModelDigests& digests,
                       kernels::Device device) {
  nlohmann::json key = {{"results_format", kResultsFormatVersion},
                        {"spec", spec.canonical()},
                        {"data_sha256", items.sha256},
                        {"config_sha256", digests.config_file.sha256}};
  // CPU keys stay as they were (results of earlier versions remain reusable).
  if (device != kernels::Device::kCpu) key["device"] = kernels::device_name(device);
  for (const auto& d : digests.weight_files) key["weights"].push_back({d.file, d.sha256});
  for (const auto& d : digests.tokenizer_files) key["tokenizer"].push_back({d.file, d.sha256});
  return io::hub::sha256_hex(key.dump());
}

namespace {

ModelProvenance provenance(const PreparedModel& p, const ModelDigests& digests,
                           const std::map<std::string, std::int32_t>& special_ids) {
  const ModelSource& s = p.source;
  ModelProvenance m;
  m.name = s.name;
  m.spec = s.entry.spec;
  m.family = s.family;
  m.source = s.resolved.source;
  m.path = s.resolved.dir.string();
  m.repo_id = s.resolved.repo_id;
  m.revision = s.resolved.revision;
  m.commit = s.resolved.commit;
  m.arch = std::string(model::architecture_name(s.config.arch));
  m.parameters = s.config.parameter_count();
  m.non_embedding_parameters = s.config.non_embedding_parameter_count();
  m.context = s.config.max_positions;
  m.vocab_size = s.config.vocab_size;
  m.storage_dtype = s.config.torch_dtype;
  m.config = s.config_json;
  m.config_file = digests.config_file;
  m.weight_files = digests.weight_files;
  m.tokenizer_files = digests.tokenizer_files;
  m.special_tokens = special_ids;
  return m;
}

// The files that always show a model's latest results: the readable analysis and the per-item
// long table (rewritten on reuse too, so they never describe an older run).
void write_latest_views(const ExperimentSpec& spec, const ModelResult& result, const std::string& results_file,
                        const fs::path& out_dir) {
  write_file_atomic(out_dir / analysis_file_name(result.model.name), analysis_text(spec, result, results_file));
  write_file_atomic(out_dir / items_file_name(result.model.name), items_csv(spec, result));
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Everything the results file holds except the times.
ModelResult assemble_result(const ExperimentSpec& spec, const ItemSet& items, const PreparedModel& prepared,
                            const ModelDigests& digests, const std::string& key, const ScoredItems& scored,
                            const std::map<std::string, std::int32_t>& special_ids,
                            const std::function<void(std::size_t)>& on_bootstrap_progress, const RunInfo& run) {
  ModelResult result;
  result.experiment_name = spec.name;
  result.experiment_file = fs::absolute(spec.file).lexically_normal().string();
  result.spec = spec.canonical();
  std::error_code ec;
  const std::uintmax_t data_bytes = fs::file_size(items.file, ec);
  result.data = {fs::absolute(items.file).lexically_normal().string(), ec ? 0 : data_bytes, items.sha256};
  result.n_items = items.items.size();
  result.resume_key = key;
  result.model = provenance(prepared, digests, special_ids);
  result.window = scored.window;
  result.items = scored.items;
  result.summary = summarize(spec, result.items, on_bootstrap_progress);
  result.run = run;
  return result;
}

}  // namespace

RunInfo this_run(const ExperimentSpec& spec, kernels::Device device) {
  RunInfo run;
  run.entroscope_version = ENTROSCOPE_VERSION;
  run.git_hash = ENTROSCOPE_GIT_HASH;
  run.blas = kernels::blas_name();
  run.gemm_kernel = std::string(kernels::gemm_kernel_name());
  run.threads = kernels::thread_count();
  run.device = std::string(kernels::device_name(device));
  if (device == kernels::Device::kCuda) run.device_name = kernels::cuda_device_description();
  run.batch_tokens = spec.batch_tokens;
  return run;
}

ModelOutcome outcome_of(const ModelSource& src) {
  ModelOutcome outcome;
  outcome.name = src.name;
  outcome.family = src.family;
  outcome.arch = std::string(model::architecture_name(src.config.arch));
  outcome.parameters = src.config.parameter_count();
  outcome.non_embedding_parameters = src.config.non_embedding_parameter_count();
  return outcome;
}

PerTokenFormat unit_file_format(const ExperimentSpec& spec, bool report) {
  return spec.per_token != PerTokenFormat::kNone ? spec.per_token
         : report                                ? PerTokenFormat::kCsv
                                                 : PerTokenFormat::kNone;
}

struct LoadedModel::State {
  const ExperimentSpec& spec;
  const PreparedModel& prepared;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<metrics::Scorer> scorer;
  WordTokenClasses word_classes;
  std::unique_ptr<SequenceBuilder> builder;
};

LoadedModel::LoadedModel(const ExperimentSpec& spec, const PreparedModel& prepared, const RunSettings& settings,
                         const std::string& counter, RunLog& log)
    : state_(new State{spec, prepared}) {
  const ModelSource& src = prepared.source;
  const tokenizer::Tokenizer& tok = *prepared.tokenizer;
  // Refuse before loading what cannot fit; lower the batch (never a number) when that makes it fit.
  const model::MemoryPlan memory =
      model::plan_checkpoint_memory(src.resolved.dir, src.config, src.name, spec.batch_tokens, settings.max_memory);
  if (!memory.note.empty()) {
    fmt::print(settings.console, "{} {}\n", counter, memory.note);
    log.line(memory.note);
  }
  state_->model = std::make_unique<model::Model>(model::load_model(src.resolved.dir, src.name));
  const model::Model& model = *state_->model;
  log.line(fmt::format("loaded weights ({} threads, {} GEMM kernel; about {} estimated)", kernels::thread_count(),
                       kernels::gemm_kernel_name(), model::human_bytes(memory.estimate.total())));
  if (settings.device == kernels::Device::kCuda)
    log.line(fmt::format("forward on the GPU: {}", kernels::cuda_device_description()));
  state_->scorer = std::make_unique<metrics::Scorer>(model, memory.batch_tokens, settings.device);
  if (spec.unit == Unit::kWord) {
    state_->word_classes = word_token_classes(tok, model.config.vocab_size, resolve_eos(model, tok));
    state_->scorer->set_token_classes(state_->word_classes.masks, kWordClassCount);
  }
  state_->builder = std::make_unique<SequenceBuilder>(spec, tok, src.config, src.name);
}

LoadedModel::~LoadedModel() = default;

ScoredItems LoadedModel::score(const ItemSet& items, bool keep_units, Progress* progress) {
  State& s = *state_;
  return score_items(s.spec, items, *s.builder, *s.scorer, s.prepared.window, keep_units, progress,
                     s.spec.unit == Unit::kWord ? &s.word_classes : nullptr);
}

ModelOutcome run_model(const ExperimentSpec& spec, const ItemSet& items, const PreparedModel& prepared,
                       const RunSettings& settings, const std::string& counter, const PrecomputedScores* precomputed) {
  const ModelSource& src = prepared.source;
  const tokenizer::Tokenizer& tok = *prepared.tokenizer;
  ModelOutcome outcome = outcome_of(src);

  const auto wall_start = std::chrono::system_clock::now();
  const auto steady_start = std::chrono::steady_clock::now();
  // Two runs within the same millisecond (scripts, tests) must not overwrite each other's files.
  std::string stamp = utc_compact(wall_start);
  for (int n = 2; fs::exists(settings.out_dir / results_file_name(src.name, stamp)) ||
                  fs::exists(settings.out_dir / log_file_name(src.name, stamp));
       ++n)
    stamp = fmt::format("{}-{}", utc_compact(wall_start), n);
  outcome.log_file = log_file_name(src.name, stamp);
  RunLog log(settings.out_dir / outcome.log_file);
  std::FILE* console = settings.console;
  log.line(fmt::format("entroscope {} (git {}): experiment '{}' ({}), model {}", ENTROSCOPE_VERSION,
                       ENTROSCOPE_GIT_HASH, spec.name, spec.file.string(), src.name));
  log.line(fmt::format("model spec '{}' -> {} [{}], {} parameters, family {}", src.entry.spec,
                       src.resolved.dir.string(), src.resolved.source, grouped(outcome.parameters), src.family));

  fs::path per_token_path;  // removed again if the run fails after writing it
  try {
    const ModelDigests digests = digest_model_files(src.resolved.dir, tok.source_files());
    const std::string key = resume_key(spec, items, digests, settings.device);
    log.line(fmt::format("resume key {}", key));

    if (!settings.force) {
      if (auto reusable = find_reusable_result(settings.out_dir, src.name, key)) {
        outcome.status = ModelStatus::kReused;
        outcome.results_file = reusable->file.filename().string();
        outcome.result = std::move(reusable->result);
        write_latest_views(spec, *outcome.result, outcome.results_file, settings.out_dir);
        log.line(fmt::format("reused {} (same spec, data, weights and tokenizer; --force recomputes)",
                             outcome.results_file));
        fmt::print(console, "{} {}: reusing {} (finished earlier; --force recomputes)\n", counter, src.name,
                   outcome.results_file);
        retire_older_files(settings.out_dir, src.name,
                           {outcome.results_file, outcome.result->per_token_file, outcome.log_file});
        outcome.seconds = seconds_since(steady_start);
        return outcome;
      }
    }

    // The per-unit file: as the spec asks, else CSV when the report needs it for its heat maps (and,
    // merged, when the units kept their records).
    PerTokenFormat unit_format = unit_file_format(spec, settings.report);
    ScoredItems own_scores;
    RunInfo run;
    if (precomputed) {
      if (spec.per_token == PerTokenFormat::kNone && precomputed->scored.tokens.empty() &&
          precomputed->scored.words.empty())
        unit_format = PerTokenFormat::kNone;
      run = precomputed->run;
      log.line(fmt::format("merged {} unit(s) of a sharded run: {} items", precomputed->units, items.items.size()));
      fmt::print(console, "{} {}: merging {} unit(s), {} items x {} conditions\n", counter, src.name,
                 precomputed->units, items.items.size(), spec.conditions.size());
    } else {
      fmt::print(console, "{} {}: {} parameters, {} items x {} conditions\n", counter, src.name,
                 short_count(static_cast<double>(outcome.parameters)), items.items.size(), spec.conditions.size());
      std::fflush(console);
      LoadedModel loaded(spec, prepared, settings, counter, log);
      Progress progress(src.name, items.items.size(), settings.progress, console);
      own_scores = loaded.score(items, unit_format != PerTokenFormat::kNone, &progress);
      progress.finish();
      fault_point("run-model-scored");
      log.line(fmt::format("scored {} items in {:.2f} s; {} sequence(s) needed more than one window",
                           items.items.size(), seconds_since(steady_start), own_scores.window.sequences_windowed));
      run = this_run(spec, settings.device);
    }
    const ScoredItems& scored = precomputed ? precomputed->scored : own_scores;
    const SequenceBuilder builder(spec, tok, src.config, src.name);  // the special ids, for provenance

    Progress bootstrap_progress(src.name + " bootstrap", static_cast<std::size_t>(spec.bootstrap.samples),
                                settings.progress, console, "resamples");
    ModelResult result = assemble_result(spec, items, prepared, digests, key, scored, builder.special_ids(),
                                         [&](std::size_t done) { bootstrap_progress.update(done); }, run);
    bootstrap_progress.finish();
    if (!precomputed) {
      result.run.started_utc = utc_iso(wall_start);
      result.run.finished_utc = utc_iso(std::chrono::system_clock::now());
      result.run.wall_seconds = seconds_since(steady_start);
    }

    // Check every number before anything is written; then per-token values, and the results file
    // last: its presence means the run is complete.
    if (unit_format != PerTokenFormat::kNone)
      result.per_token_file = per_token_file_name(src.name, stamp, unit_format, spec.unit);
    outcome.results_file = results_file_name(src.name, stamp);
    const nlohmann::ordered_json doc = result_to_json(result);
    require_finite(doc, (settings.out_dir / outcome.results_file).string());
    if (unit_format != PerTokenFormat::kNone) {
      per_token_path = settings.out_dir / result.per_token_file;
      if (spec.unit == Unit::kWord)
        write_per_word_file(per_token_path, unit_format, src.name, spec, items, scored.words);
      else
        write_per_token_file(per_token_path, unit_format, src.name, spec, items, tok, scored.tokens);
    }
    fault_point("run-per-unit-written");
    write_json_checked(settings.out_dir / outcome.results_file, doc);
    fault_point("run-results-written");
    write_latest_views(spec, result, outcome.results_file, settings.out_dir);
    retire_older_files(settings.out_dir, src.name, {outcome.results_file, result.per_token_file, outcome.log_file});
    outcome.status = ModelStatus::kComputed;
    outcome.result = std::move(result);
    outcome.seconds = seconds_since(steady_start);
    log.line(fmt::format("wrote {} ({:.2f} s)", outcome.results_file, outcome.seconds));
    return outcome;
  } catch (const std::bad_alloc&) {
    outcome.failure = fmt::format("{}: out of memory", src.name);
  } catch (const Error& e) {  // NonFiniteError and NumericError included: the reason names the place
    outcome.failure = e.what();
  }
  // The reason always starts with the model's name (engine errors usually carry it already).
  if (outcome.failure.rfind(src.name + ":", 0) != 0) outcome.failure = src.name + ": " + outcome.failure;
  if (!per_token_path.empty()) {
    std::error_code ec;
    fs::remove(per_token_path, ec);
  }
  outcome.status = ModelStatus::kFailed;
  outcome.result.reset();
  outcome.results_file.clear();
  outcome.seconds = seconds_since(steady_start);
  try {
    log.line("FAILED: " + outcome.failure);
  } catch (const Error&) {  // a full disk fails the log too; the reason above is what matters
  }
  fmt::print(console, "{} FAILED: {}\n", counter, outcome.failure);
  return outcome;
}

}  // namespace entroscope::experiment
