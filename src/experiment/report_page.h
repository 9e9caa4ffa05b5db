#pragma once
// report.html: one self-contained page per experiment output folder (inline CSS, SVG and a little
// plain JavaScript; no network, opens from file://), built from the folder's files alone and never
// recomputing a statistic: the header (experiment, spec hash, models with their provenance), the
// summary table (sortable), the scaling plots (scaling_<contrast>.svg inlined), a forest plot of
// every contrast per model, per-item distributions of the difference, per-token heat maps (from
// the per-token files: a bounded set of items, the largest |difference| first) and the warnings.
#include <cstddef>
#include <filesystem>
#include <string>

namespace entroscope::experiment {

struct ReportLimits {
  std::size_t top_items = 100;     // heat maps: the items with the largest |difference| ...
  std::size_t sample_items = 100;  // ... plus this many spread evenly over the rest
};

// The page for the output folder of `entroscope run` (its scaling_summary.json and the files it
// names). Throws Error naming the file when one is missing or malformed.
std::string report_html(const std::filesystem::path& results_dir, const ReportLimits& limits = {});

// Writes report_html(results_dir) atomically to out_file.
void write_report(const std::filesystem::path& results_dir, const std::filesystem::path& out_file,
                  const ReportLimits& limits = {});

}  // namespace entroscope::experiment
