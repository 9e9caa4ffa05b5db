#pragma once
// report.html: one self-contained page per experiment output folder (inline CSS, SVG and a little
// plain JavaScript; no network, opens from file://), built from the folder's files alone and never
// recomputing a statistic: the header (experiment, spec hash, models with their provenance), the
// summary table (sortable), the scaling plots (scaling_<contrast>.svg inlined), a forest plot of
// every contrast per model, per-item distributions of the difference, per-token heat maps (from
// the per-token files: a bounded set of items, the largest |difference| first; a reader picks the
// two models to compare) and the warnings.
#include <cstddef>
#include <filesystem>
#include <string>

namespace entroscope::experiment {

// Which items the heat maps embed when a run has more than these (the rest stay in the per-token
// files): the largest |difference| first, then where models disagree most on one unit (in entropy
// and in surprisal), then a sample spread evenly over the rest in data order; fewer of each when
// many models would make the page large.
struct ReportLimits {
  std::size_t top_items = 100;           // the items with the largest |difference| ...
  std::size_t sample_items = 100;        // ... plus this many spread evenly over the rest ...
  std::size_t disagreement_items = 50;   // ... plus, per metric, the items where models disagree most;
  std::size_t max_unit_values = 150000;  // all four shrink alike when the items' unit values (one per
                                         // unit, model and condition) would pass this (many models)
};

// The page for the output folder of `entroscope run` (its scaling_summary.json and the files it
// names). Throws Error naming the file when one is missing or malformed.
std::string report_html(const std::filesystem::path& results_dir, const ReportLimits& limits = {});

// Writes report_html(results_dir) atomically to out_file (empty: results_dir/report.html, where
// `run` writes it) and returns the path written.
std::filesystem::path write_report(const std::filesystem::path& results_dir, const std::filesystem::path& out_file = {},
                                   const ReportLimits& limits = {});

}  // namespace entroscope::experiment
