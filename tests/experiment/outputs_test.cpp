// The output side: the results document round-trips exactly, a non-finite number is refused before
// anything is written, token bytes stay valid UTF-8, the scaling fit and axis ticks, and the
// number formats used in tables.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/temp_dir.h"
#include "experiment/checked_output.h"
#include "experiment/model_result.h"
#include "experiment/scaling_fit.h"
#include "experiment/scaling_plot.h"
#include "experiment/scaling_summary.h"
#include "experiment/text_format.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment;
using namespace entroscope::experiment_test;

TEST(ResultsDocument, RoundTripsExactly) {
  const ModelResult& original = *demo_run().outcome.models.at(0).result;
  const auto doc = result_to_json(original);
  const ModelResult back = result_from_json(nlohmann::json::parse(doc.dump()), "x.json");
  EXPECT_EQ(result_to_json(back).dump(), doc.dump());
  EXPECT_EQ(back.items.at(17).conditions.at(1).mean_bits, original.items.at(17).conditions.at(1).mean_bits);
  EXPECT_EQ(back.summary.contrasts.at(0).measures[0].test->p_value,
            original.summary.contrasts.at(0).measures[0].test->p_value);

  nlohmann::json foreign = nlohmann::json::parse(doc.dump());
  foreign["format"] = "something-else";
  EXPECT_THROW(result_from_json(foreign, "x.json"), Error);
  nlohmann::json truncated = nlohmann::json::parse(doc.dump());
  truncated.erase("summary");
  try {
    result_from_json(truncated, "x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("x.json: malformed results file", 0), 0u);
  }
}

TEST(CheckedOutput, RefusesNonFiniteNumbersAndWritesNothing) {
  test_util::TempDir dir;
  nlohmann::ordered_json doc = {{"summary", {{"values", {1.0, 2.0}}}}};
  write_json_checked(dir / "ok.json", doc);
  EXPECT_TRUE(fs::exists(dir / "ok.json"));
  doc["summary"]["values"][1] = std::numeric_limits<double>::quiet_NaN();
  try {
    write_json_checked(dir / "bad.json", doc);
    FAIL();
  } catch (const NumericError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite number at /summary/values/1"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "bad.json"));
  doc["summary"]["values"][1] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(require_finite(doc, "x"), NumericError);
  EXPECT_THROW(finite_number(std::nan(""), "cell"), NumericError);
  EXPECT_EQ(finite_number(0.25, "cell"), "0.25");
}

TEST(CheckedOutput, PrintableBytesKeepsUtf8AndEscapesTheRest) {
  EXPECT_EQ(printable_bytes("Hello é"), "Hello é");
  EXPECT_EQ(printable_bytes("\xC3"), "\\xC3");          // half of a character
  EXPECT_EQ(printable_bytes("a\x01" "b"), "a\\x01b");   // control byte
  EXPECT_EQ(printable_bytes("\xC0\xAF"), "\\xC0\\xAF");  // overlong '/'
  EXPECT_EQ(printable_bytes("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // surrogate
  EXPECT_EQ(printable_bytes(" \n"), " \n");
}

TEST(ScalingFit, LeastSquaresAndSlopeInterval) {
  const auto line = fit_line({1, 2, 3}, {1, 3, 5});
  ASSERT_TRUE(line);
  EXPECT_DOUBLE_EQ(line->slope, 2.0);
  EXPECT_DOUBLE_EQ(line->intercept, -1.0);
  EXPECT_FALSE(fit_line({1, 1}, {0, 1}));
  EXPECT_FALSE(fit_line({1}, {0}));

  const DemoRun& demo = demo_run();
  const auto& fits = demo.outcome.fits;
  ASSERT_EQ(fits.size(), 2u);  // GPT-2 entropy and surprisal; the NeoX series has a single size
  for (const SlopeFit& f : fits) {
    EXPECT_EQ(f.family, "GPT-2");
    EXPECT_EQ(f.models.size(), 3u);
    ASSERT_TRUE(f.slope_ci);
    EXPECT_LT(f.slope_ci->low, f.line.slope);
    EXPECT_GT(f.slope_ci->high, f.line.slope);
  }
  // The fit goes through the models' deltas as a least-squares line over log10(parameters).
  std::vector<double> x, y;
  for (const auto& m : demo.outcome.models)
    if (m.family == "GPT-2") {
      x.push_back(std::log10(static_cast<double>(m.parameters)));
      y.push_back(m.result->summary.contrasts[0].measures[0].item_weighted.mean);
    }
  EXPECT_NEAR(fits[0].line.slope, fit_line(x, y)->slope, 1e-12);
}

TEST(ScalingPlot, Ticks) {
  const auto y = linear_ticks(-0.07, 0.12, 6);
  const std::vector<double> expected_y = {-0.05, 0.0, 0.05, 0.1};
  ASSERT_EQ(y.size(), expected_y.size());
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expected_y[i], 1e-15);
  EXPECT_EQ(y[1], 0.0);
  const auto x = log_ticks(8.0, 9.3, false);  // 100M .. 2B: 1-2-3-5 labels
  ASSERT_EQ(x.size(), 5u);
  EXPECT_NEAR(x[0], 8.0, 1e-12);
  EXPECT_NEAR(x[2], std::log10(3e8), 1e-12);
  EXPECT_NEAR(x[4], 9.0, 1e-12);
  EXPECT_EQ(log_ticks(3.0, 9.0, false).size(), 7u);  // wide range: decades only
  EXPECT_EQ(log_ticks(3.0, 9.0, true).size(), 6u * 8u);
}

TEST(TextFormat, Numbers) {
  EXPECT_EQ(short_count(297536), "298K");
  EXPECT_EQ(short_count(124439808), "124M");
  EXPECT_EQ(short_count(1557611200), "1.56B");
  EXPECT_EQ(short_count(2e6), "2M");
  EXPECT_EQ(grouped(2667072), "2,667,072");
  EXPECT_EQ(signed_fixed(-0.0004, 3), "+0.000");
  EXPECT_EQ(signed_fixed(0.0784, 3), "+0.078");
  EXPECT_EQ(signed_interval(-0.5394, -0.466, 3), "[-0.539, -0.466]");
  EXPECT_EQ(contrast_slug("with_context - no_context"), "with_context-no_context");
  EXPECT_EQ(format_p(0.0342), "p = 0.034");
  EXPECT_EQ(format_p(2.1e-6), "p = 2.1e-06");
  EXPECT_EQ(text_table({{"a", "bb"}, {"ccc", "d"}}, 1), "a    bb\n───────\nccc   d\n");
}
