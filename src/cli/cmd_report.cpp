// `entroscope report RESULTS_DIR [--out FILE.html]`: the experiment's page (experiment/report_page.h).
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "experiment/report_page.h"

namespace entroscope::cli {

namespace {
struct ReportArgs {
  std::string dir;
  std::string out;
};
}  // namespace

void add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page for a `run` output folder: the models and their provenance, the summary\n"
      "  table (sortable), the scaling plots, every contrast per model, per-item distributions and per-token heat maps\n"
      "  (entropy or surprisal, one row per model and condition, the items with the largest difference first, or\n"
      "  where two models you pick disagree most, with that token outlined). It reads the folder's files and\n"
      "  recomputes nothing; it opens from file:// with no network. `run` writes it as report.html unless given\n"
      "  --no-report.\n"
      "  Example: entroscope report results/demo --out /tmp/demo.html");
  cmd->add_option("results", args->dir, "Output folder of `entroscope run`")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", args->out, "The page to write (default: RESULTS/report.html)")->type_name("FILE.html");
  cmd->callback([args] {
    fmt::print("{}\n", experiment::write_report(args->dir, args->out).string());
  });
}

}  // namespace entroscope::cli
