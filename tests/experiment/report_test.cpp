// report.html and the plotting module behind its charts (the page in a real browser:
// tests/browser, ctest Browser.DemoReport).
#include <gtest/gtest.h>

#include <cmath>
#include <fmt/format.h>
#include <set>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "experiment/report_page.h"
#include "experiment/svg_plot.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment_test;
namespace plot = entroscope::experiment::plot;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The page's embedded data (the heat maps' items).
nlohmann::json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const std::size_t begin = html.find(open);
  EXPECT_NE(begin, std::string::npos);
  const std::size_t from = begin + open.size();
  return nlohmann::json::parse(html.substr(from, html.find("</script>", from) - from));
}

}  // namespace

TEST(Plot, HistogramBinsCountEveryValueAndKeepZeroInView) {
  const auto bins = plot::histogram_bins({0.1, 0.2, 0.5, 0.45, 0.3}, 4);
  ASSERT_EQ(bins.size(), 4u);
  std::size_t total = 0;
  for (std::size_t b = 0; b < bins.size(); ++b) {
    total += bins[b].count;
    if (b > 0) {
      EXPECT_DOUBLE_EQ(bins[b].low, bins[b - 1].high);
    }
  }
  EXPECT_EQ(total, 5u);
  EXPECT_DOUBLE_EQ(bins.front().low, 0.0);  // all positive: the range still starts at zero
  EXPECT_DOUBLE_EQ(bins.back().high, 0.5);
  EXPECT_EQ(bins.back().count, 2u);          // 0.45 and the maximum itself
  EXPECT_TRUE(plot::histogram_bins({}, 4).empty());
}

TEST(Plot, ValueAxisHoldsZeroAndItsTicks) {
  const plot::Axis a = plot::value_axis(0.04, 0.11, 100, 500, /*include_zero=*/true);
  EXPECT_LE(a.lo, 0.0);
  EXPECT_GE(a.hi, 0.11);
  EXPECT_DOUBLE_EQ(a.at(a.lo), 100);
  EXPECT_DOUBLE_EQ(a.at(a.hi), 500);
  EXPECT_NE(std::find(a.ticks.begin(), a.ticks.end(), 0.0), a.ticks.end());
  EXPECT_EQ(a.decimals, plot::decimals_for(a.ticks[1] - a.ticks[0]));
  EXPECT_EQ(plot::decimals_for(0.025), 3);
}

TEST(Plot, SlopeBandPivotsOnTheCentreAndHoldsTheFittedLine) {
  // Fit y = 0.4 - 0.06 x through the centre x = 6, slope interval [-0.095, -0.030], over [5.5, 6.4].
  const double xc = 6, yc = 0.4 - 0.06 * 6;
  const auto band = plot::slope_band(xc, yc, -0.095, -0.030, 5.5, 6.4);
  ASSERT_EQ(band.size(), 6u);
  EXPECT_DOUBLE_EQ(band[1].x, xc);
  EXPECT_DOUBLE_EQ(band[1].y, yc);
  for (double x : {5.5, 6.4}) {
    const double fit = 0.4 - 0.06 * x;
    double lo = 1e9, hi = -1e9;
    for (const auto& p : band)
      if (p.x == x) lo = std::min(lo, p.y), hi = std::max(hi, p.y);
    EXPECT_LT(lo, fit);
    EXPECT_GT(hi, fit);
    EXPECT_NEAR(hi - lo, std::fabs(x - xc) * (0.095 - 0.030), 1e-12);  // wider away from the centre
  }
}

TEST(Plot, ForestRowsCarryTheirNumbersAndTheZeroLine) {
  const std::string svg = plot::forest_svg("Δ entropy", "Δ entropy (bits)",
                                           {{"small", 0.078, 0.046, 0.111, 0, "small: +0.078 [+0.046, +0.111]"},
                                            {"large <&>", -0.004, -0.047, 0.037, 1, "large: -0.004"}});
  EXPECT_EQ(count(svg, "class=\"forest-row\""), 2u);
  EXPECT_NE(svg.find("<title>small: +0.078 [+0.046, +0.111]</title>"), std::string::npos);
  EXPECT_NE(svg.find("large &lt;&amp;&gt;"), std::string::npos);  // labels escaped
  EXPECT_NE(svg.find("stroke-dasharray=\"5,4\""), std::string::npos);  // the zero line
  EXPECT_NE(svg.find(plot::color(1)), std::string::npos);               // the second series' colour
}

TEST(Report, HeatMapsHoldTheLargestDifferencesFirstAndABoundedSample) {
  test_util::TempDir dir;
  write_two_model_experiment(dir.path(), 12, "");
  const CommandResult r = run_cli_experiment(dir.path(), dir / "out");
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(fs::exists(dir / "out" / "report.html"));
  ASSERT_EQ(files_starting_with(dir / "out", "per_token_").size(), 2u);  // kept for the page, as CSV

  // Where the two models (one tokenizer) disagree most on one unit, per metric, from a page of all items.
  const nlohmann::json all = page_data(experiment::report_html(dir / "out", {12, 0, 0}));
  ASSERT_EQ(all["items"].size(), 12u);
  std::string most_apart[2];
  double widest[2] = {-1, -1};
  for (const auto& item : all["items"]) {
    const auto& rows = item["rows"];  // conditions first: [with s, with neox, no s, no neox]
    ASSERT_EQ(rows.size(), 4u);
    for (int c = 0; c < 2; ++c)
      for (int metric = 0; metric < 2; ++metric)
        for (std::size_t k = 0; k < rows[2 * c]["tokens"].size(); ++k) {
          EXPECT_EQ(rows[2 * c]["condition"], rows[2 * c + 1]["condition"]);
          const double gap = std::fabs(rows[2 * c]["tokens"][k][2 + metric].get<double>() -
                                       rows[2 * c + 1]["tokens"][k][2 + metric].get<double>());
          if (gap > widest[metric]) widest[metric] = gap, most_apart[metric] = item["id"];
        }
  }
  const std::string html = experiment::report_html(dir / "out", {3, 2, 1});
  const nlohmann::json data = page_data(html);
  std::set<std::string> ids;
  for (const auto& item : data["items"]) ids.insert(item["id"].get<std::string>());
  EXPECT_TRUE(ids.count(most_apart[0]) && ids.count(most_apart[1])) << most_apart[0] << " " << most_apart[1];
  const std::size_t added = data["items"].size() - 5;  // 3 by |Δ|, 2 sampled, the rest for disagreement
  EXPECT_LE(added, 2u);
  EXPECT_NE(html.find(fmt::format("the page holds {} of the 12 items: the 3 with the largest |Δ|, {} more among the 1 "
                                  "where models disagree most in entropy and the 1 in surprisal, and 2 spread evenly",
                                  5 + added, added)),
            std::string::npos);
  EXPECT_EQ(data["models"], nlohmann::json::array({"demo-gpt2-s", "demo-neox-m"}));

  // Many models: the unit values on the page stay near the budget, every category shrinking alike.
  std::size_t values = 0;
  for (const auto& item : all["items"])
    for (const auto& row : item["rows"]) values += row["tokens"].size();
  const std::size_t budget = values / 4;  // about 3 of the 12 items
  const std::string small = experiment::report_html(dir / "out", {4, 4, 0, budget});
  const nlohmann::json kept = page_data(small);
  std::size_t kept_values = 0;
  for (const auto& item : kept["items"])
    for (const auto& row : item["rows"]) kept_values += row["tokens"].size();
  // 3 items' worth over 8 planned (4 by |Δ|, 4 sampled): each category 4 x 3/8, rounded down.
  EXPECT_EQ(kept["items"].size(), 2u);
  EXPECT_LE(kept_values, budget * 2);  // the budget is met on the mean item's size
  EXPECT_NE(small.find("the page holds 2 of the 12 items: the 1 with the largest |Δ|"), std::string::npos);
  EXPECT_NE(small.find("with 2 models, fewer items keep the page near "), std::string::npos);
  // The first item is the one with the largest |Δ entropy| over the two models, from their results files.
  std::string top_item;
  double top = -1;
  for (const fs::path& f : files_starting_with(dir / "out", "experiment_results_")) {
    const nlohmann::json results = read_json_file(f);
    for (const auto& item : results["items"]) {
      const double d = std::fabs(item["with_context"]["entropy_bits"].get<double>() -
                                 item["no_context"]["entropy_bits"].get<double>());
      if (d > top) top = d, top_item = item["id"].get<std::string>();
    }
  }
  EXPECT_EQ(data["items"][0]["id"], top_item);
  for (const auto& item : data["items"]) {
    ASSERT_EQ(item["rows"].size(), 4u);  // 2 models x 2 conditions
    for (const auto& row : item["rows"]) {
      ASSERT_FALSE(row["tokens"].empty());
      for (const auto& t : row["tokens"]) EXPECT_TRUE(t[2].is_number() && t[3].is_number()) << t.dump();
    }
  }
  for (const char* id : {"report-header", "summary-table", "scaling", "forest", "distributions", "heatmaps",
                         "item-select", "metric-entropy", "metric-surprisal", "provenance", "warnings"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  for (const char* link : {"src=\"http", "href=\"http", "url(http", "@import"})  // self-contained (the SVG
    EXPECT_EQ(html.find(link), std::string::npos) << link;                      // namespace is no request)

  // A broken per-token file is named in the error.
  const fs::path per_token = files_starting_with(dir / "out", "per_token_demo-gpt2-s").front();
  test_util::write_file(per_token, "model,item_id\nx,y\n");
  try {
    experiment::report_html(dir / "out");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(per_token.filename().string() + ": no column 'condition'"), std::string::npos)
        << e.what();
  }
}
