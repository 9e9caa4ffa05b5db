#include "experiment/experiment_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/json_file.h"
#include "experiment/checked_output.h"
#include "experiment/report_page.h"
#include "experiment/scaling_plot.h"
#include "experiment/scaling_summary.h"
#include "common/directory_lock.h"
#include "common/durable_file.h"
#include "common/fault_point.h"
#include "experiment/sequence_builder.h"
#include "experiment/spec_parser.h"

namespace entroscope::experiment {

namespace fs = std::filesystem;

std::size_t ExperimentOutcome::failed_count() const {
  std::size_t n = 0;
  for (const auto& m : models) n += m.status == ModelStatus::kFailed;
  return n;
}

std::vector<PreparedModel> prepare_models(const ExperimentSpec& spec, bool fetch) {
  // First find every model, so that all the missing ones are named at once.
  std::vector<ModelSource> sources;
  std::vector<std::string> missing;
  for (const ModelEntry& entry : spec.models) {
    try {
      sources.push_back(resolve_model_entry(entry, spec.file.parent_path(), fetch));
    } catch (const Error& e) {
      missing.push_back(e.what());
    }
  }
  if (missing.size() == 1) fail("{}", missing.front());
  if (missing.size() > 1) {
    std::string joined;
    for (const std::string& m : missing) joined += (joined.empty() ? "" : " | ") + m;
    fail("{} of the {} models cannot be used: {}", missing.size(), spec.models.size(), joined);
  }
  std::vector<PreparedModel> prepared;
  std::set<std::string> names;
  for (std::size_t i = 0; i < spec.models.size(); ++i) {
    const ModelEntry& entry = spec.models[i];
    PreparedModel p;
    p.source = std::move(sources[i]);
    if (!names.insert(p.source.name).second)
      fail_at(entry.where, "two models are both named '{}'; give one a distinct `name:` (models: - {{model: {}, name: ...}})",
              p.source.name, entry.spec);
    try {
      p.tokenizer = tokenizer::Tokenizer::load(p.source.resolved.dir);
    } catch (const Error& e) {
      fail_at(entry.where, "model '{}': {}", entry.spec, e.what());
    }
    const model::ModelConfig& config = p.source.config;
    SequenceBuilder check_specials(spec, *p.tokenizer, config, p.source.name);  // throws on a missing token
    if (spec.window.length > config.max_positions)
      fail_at(entry.where, "window.length {} exceeds the context of model '{}' ({} positions)", spec.window.length,
              p.source.name, config.max_positions);
    p.window.length = static_cast<std::size_t>(spec.window.length > 0 ? spec.window.length : config.max_positions);
    p.window.stride = static_cast<std::size_t>(spec.window.stride);
    for (const Condition& c : spec.conditions) {
      try {
        effective_stride(p.window, c.window_prefix_segments);
      } catch (const Error& e) {
        fail_at(c.where, "condition '{}' with model '{}': {}", c.name, p.source.name, e.what());
      }
    }
    prepared.push_back(std::move(p));
  }
  return prepared;
}

std::vector<fs::path> write_summary_files(const ExperimentSpec& spec, const std::vector<ModelOutcome>& outcomes,
                                          const std::vector<SlopeFit>& fits, const fs::path& out_dir) {
  std::vector<fs::path> written;
  const fs::path csv = out_dir / "scaling_summary.csv";
  write_file_atomic(csv, scaling_csv(spec, outcomes));
  written.push_back(csv);
  fault_point("run-summary-csv-written");
  const fs::path long_csv = out_dir / "scaling_summary_long.csv";
  write_file_atomic(long_csv, scaling_long_csv(spec, outcomes));
  written.push_back(long_csv);
  const fs::path json = out_dir / "scaling_summary.json";
  write_json_checked(json, scaling_json(spec, outcomes, fits));
  written.push_back(json);
  bool any_finished = false;
  for (const auto& o : outcomes) any_finished = any_finished || o.result.has_value();
  if (!any_finished) return written;
  for (std::size_t k = 0; k < spec.contrasts.size(); ++k) {
    const fs::path svg = out_dir / fmt::format("scaling_{}.svg", contrast_slug(spec.contrasts[k].name));
    write_file_atomic(svg, scaling_plot_svg(spec, outcomes, fits, k));
    written.push_back(svg);
  }
  return written;
}

ExperimentOutcome run_experiment(const fs::path& experiment_file, const RunSettings& settings) {
  ExperimentOutcome out;
  out.spec = parse_experiment_file(experiment_file);
  const ExperimentSpec& spec = out.spec;
  const ItemSet items = load_items(spec.data_file, spec.id_field);
  check_items_for_spec(spec, items);
  std::vector<PreparedModel> prepared = prepare_models(spec, settings.fetch);

  const auto lock = lock_output_folder(settings, "entroscope run " + experiment_file.string());
  fmt::print(settings.console, "entroscope run: '{}', {} items x {} conditions, {} models -> {}\n", spec.name,
             items.items.size(), spec.conditions.size(), prepared.size(), settings.out_dir.string());

  for (std::size_t i = 0; i < prepared.size(); ++i) {
    const std::string counter = fmt::format("[{}/{}]", i + 1, prepared.size());
    out.models.push_back(run_model(spec, items, prepared[i], settings, counter));
    fault_point("run-model-done");
  }

  write_across_models(out, settings);
  return out;
}

void write_across_models(ExperimentOutcome& out, const RunSettings& settings) {
  std::vector<const ModelResult*> finished;
  for (const auto& o : out.models)
    if (o.result) finished.push_back(&*o.result);
  out.fits = fit_scaling(out.spec, finished);
  out.summary_files = write_summary_files(out.spec, out.models, out.fits, settings.out_dir);
  if (settings.report && fs::exists(settings.out_dir / "scaling_summary.json") &&
      std::any_of(out.models.begin(), out.models.end(), [](const ModelOutcome& o) { return o.result.has_value(); })) {
    out.summary_files.push_back(write_report(settings.out_dir));
  }
}

std::unique_ptr<DirectoryLock> lock_output_folder(const RunSettings& settings, const std::string& what) {
  std::error_code ec;
  fs::create_directories(settings.out_dir, ec);
  if (ec) fail("{}: cannot create the output folder: {}", settings.out_dir.string(), ec.message());
  // One run per folder: a second one would compute every model again and leave two results files
  // per model. The lock dies with its process, so a killed run's lock is taken over.
  auto lock = std::make_unique<DirectoryLock>(settings.out_dir, what);
  if (!lock->taken_over_from().empty())
    fmt::print(settings.console, "entroscope: taking over {} from a run that ended without releasing it ({})\n",
               (settings.out_dir / DirectoryLock::kFileName).string(), lock->taken_over_from());
  if (const std::size_t leftovers = remove_atomic_write_leftovers(settings.out_dir); leftovers > 0)
    fmt::print(settings.console, "entroscope: removed {} unfinished temporary file(s) of an interrupted run\n", leftovers);
  return lock;
}

}  // namespace entroscope::experiment
