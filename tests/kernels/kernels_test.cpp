// Kernel accuracy against libm / double references.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/fast_exp.h"
#include "kernels/kernels.h"

using namespace entroscope::kernels;

TEST(FastExp, RelativeErrorBelow3e7OverTheWholeRange) {
  double worst = 0.0;
  float worst_x = 0.0f;
  for (float x = -87.0f; x <= 88.0f; x += 0.000731f) {
    double want = std::exp(static_cast<double>(x));
    double err = std::fabs(fast_exp(x) - want) / want;
    if (err > worst) {
      worst = err;
      worst_x = x;
    }
  }
  EXPECT_LT(worst, 3e-7) << "at x = " << worst_x;
  EXPECT_GT(fast_exp(-1000.0f), 0.0f);  // clamped, never 0 or NaN
  EXPECT_TRUE(std::isfinite(fast_exp(1000.0f)));
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
}

TEST(Gelu, TanhFormMatchesTheDoubleReference) {
  std::vector<float> x;
  for (float v = -20.0f; v <= 20.0f; v += 0.0013f) x.push_back(v);
  std::vector<float> y = x;
  gelu_tanh(y.data(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double v = x[i];
    double want = 0.5 * v * (1.0 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
    ASSERT_NEAR(y[i], want, 4e-7 * std::max(1.0, std::fabs(want))) << "x = " << v;
  }
}

TEST(FindNonFinite, LocatesTheFirstNaNOrInf) {
  std::vector<float> x(1000, 1.0f);
  EXPECT_EQ(find_non_finite(x.data(), x.size()), x.size());
  x[700] = INFINITY;
  x[900] = NAN;
  EXPECT_EQ(find_non_finite(x.data(), x.size()), 700u);
  std::vector<double> d(10, 0.0);
  d[3] = -INFINITY;
  EXPECT_EQ(find_non_finite(d.data(), d.size()), 3u);
}
