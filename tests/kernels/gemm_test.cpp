// The fp32 GEMM: its definition (one fma chain per output, ascending k, from the bias) is met
// bit for bit by every micro-kernel, for every shape, layout, prefix and thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half_float.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"

using namespace entroscope::kernels;

namespace {

struct Problem {
  int M, K, N;
  WeightLayout layout;
  std::vector<float> x, w, bias;
  std::size_t ld() const { return layout == WeightLayout::kInOut ? N : K; }
  float weight(int k, int n) const { return layout == WeightLayout::kInOut ? w[k * ld() + n] : w[n * ld() + k]; }
  WeightView view() const { return {w.data(), K, N, layout, ld()}; }
};

Problem make_problem(int M, int K, int N, WeightLayout layout, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Problem p{M, K, N, layout, std::vector<float>(std::size_t(M) * K), std::vector<float>(std::size_t(K) * N),
            std::vector<float>(N)};
  for (auto& v : p.x) v = normal(rng);
  for (auto& v : p.w) v = normal(rng) * 0.05f;
  for (auto& v : p.bias) v = normal(rng);
  return p;
}

// The definition, written as plainly as possible.
std::vector<float> reference(const Problem& p, bool with_bias) {
  std::vector<float> y(std::size_t(p.M) * p.N);
  for (int m = 0; m < p.M; ++m)
    for (int n = 0; n < p.N; ++n) {
      float acc = with_bias ? p.bias[n] : 0.0f;
      for (int k = 0; k < p.K; ++k) acc = std::fma(p.x[std::size_t(m) * p.K + k], p.weight(k, n), acc);
      y[std::size_t(m) * p.N + n] = acc;
    }
  return y;
}

std::vector<std::string> available_kernels() {
  std::vector<std::string> names;
  for (const char* k : {"avx512", "avx2", "portable"}) {
    try {
      force_gemm_kernel(k);
      names.push_back(k);
    } catch (const entroscope::Error&) {
    }
  }
  force_gemm_kernel("");
  return names;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST(Gemm, EveryKernelComputesTheDefinitionBitForBit) {
  const auto kernels = available_kernels();
  ASSERT_FALSE(kernels.empty());
  // Odd sizes: partial row blocks (M not a multiple of 14 / 6 / 4) and partial panels (N % 32).
  for (auto [M, K, N] : {std::tuple{1, 1, 1}, {3, 7, 5}, {15, 33, 31}, {29, 64, 65}, {14, 100, 96}, {40, 257, 70}}) {
    for (WeightLayout layout : {WeightLayout::kInOut, WeightLayout::kOutIn}) {
      const Problem p = make_problem(M, K, N, layout, unsigned(M * 1000 + K * 10 + N));
      const auto want = reference(p, true);
      for (const auto& name : kernels) {
        force_gemm_kernel(name);
        std::vector<float> y(want.size(), -1.0f);
        gemm(y.data(), N, p.x.data(), K, M, p.view(), p.bias.data());
        EXPECT_TRUE(same_bits(y, want)) << name << " M=" << M << " K=" << K << " N=" << N;
        PackedMatrix packed(p.view());
        std::vector<float> z(want.size(), -1.0f);
        gemm(z.data(), N, p.x.data(), K, M, packed, p.bias.data());
        EXPECT_TRUE(same_bits(z, want)) << name << " (prepacked) M=" << M << " K=" << K << " N=" << N;
      }
    }
  }
  force_gemm_kernel("");
}

TEST(Gemm, AccurateAgainstFloat64) {
  const Problem p = make_problem(37, 1024, 130, WeightLayout::kOutIn, 5);
  std::vector<float> y(std::size_t(p.M) * p.N);
  gemm(y.data(), p.N, p.x.data(), p.K, p.M, p.view(), p.bias.data());
  double worst = 0.0;
  for (int m = 0; m < p.M; ++m)
    for (int n = 0; n < p.N; ++n) {
      double exact = p.bias[n], scale = std::abs(p.bias[n]);
      for (int k = 0; k < p.K; ++k) {
        const double t = double(p.x[std::size_t(m) * p.K + k]) * p.weight(k, n);
        exact += t;
        scale += std::abs(t);
      }
      worst = std::max(worst, std::abs(y[std::size_t(m) * p.N + n] - exact) / scale);
    }
  // Sequential fp32 accumulation: error <= K * 2^-24 * sum|terms| in the worst case; typically far less.
  EXPECT_LT(worst, 1e-5);
}

TEST(Gemm, PrefixOfAPackedMatrixEqualsTheSmallerProblem) {
  // Attention packs all T keys / values once and each query block uses a prefix.
  const Problem big = make_problem(9, 80, 70, WeightLayout::kInOut, 11);
  PackedMatrix packed(big.view());
  const int K = 45, N = 37;
  Problem small{big.M, K, N, WeightLayout::kInOut, {}, {}, {}};
  for (int m = 0; m < big.M; ++m)
    for (int k = 0; k < K; ++k) small.x.push_back(big.x[std::size_t(m) * big.K + k]);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) small.w.push_back(big.weight(k, n));
  std::vector<float> y(std::size_t(big.M) * N);
  gemm_serial(y.data(), N, big.x.data(), big.K, big.M, packed, K, N);
  EXPECT_TRUE(same_bits(y, reference(small, false)));
}

TEST(Gemm, ThreadCountDoesNotChangeAnyBit) {
  const Problem p = make_problem(100, 300, 200, WeightLayout::kInOut, 3);
  std::vector<float> one(std::size_t(p.M) * p.N), two(one.size());
  set_thread_count(1);
  gemm(one.data(), p.N, p.x.data(), p.K, p.M, p.view(), p.bias.data());
  set_thread_count(2);
  gemm(two.data(), p.N, p.x.data(), p.K, p.M, p.view(), p.bias.data());
  set_thread_count(0);
  EXPECT_TRUE(same_bits(one, two));
}

TEST(Gemm, UnknownOrUnavailableKernelIsRefused) {
  EXPECT_THROW(force_gemm_kernel("sse9"), entroscope::Error);
  force_gemm_kernel("");
  EXPECT_FALSE(std::string(gemm_kernel_name()).empty());
}

namespace {

// 16-bit weights (issue 15) are packed into the float panels f16_to_f32 / bf16_to_f32 give: every
// one of the 65536 halves, in both layouts and at a ragged edge (N = 2050 columns, K = 32 inputs).
TEST(Gemm, SixteenBitWeightsPackIntoTheirExactFloatValues) {
  const int K = 32, N = 2050;
  std::vector<std::uint16_t> stored(static_cast<std::size_t>(K) * N);
  for (std::size_t i = 0; i < stored.size(); ++i) stored[i] = static_cast<std::uint16_t>(i * 40503u);  // odd: a permutation
  for (const WeightType type : {WeightType::kF16, WeightType::kBF16}) {
    std::vector<float> widened(stored.size());
    for (std::size_t i = 0; i < stored.size(); ++i)
      widened[i] = type == WeightType::kF16 ? entroscope::f16_to_f32(stored[i]) : entroscope::bf16_to_f32(stored[i]);
    for (const WeightLayout layout : {WeightLayout::kInOut, WeightLayout::kOutIn}) {
      const std::size_t ld = layout == WeightLayout::kInOut ? N : K;
      const PackedMatrix half(WeightView{stored.data(), K, N, layout, ld, type});
      const PackedMatrix wide(WeightView{widened.data(), K, N, layout, ld});
      ASSERT_EQ(half.bytes(), wide.bytes());
      for (int k = 0; k < K; ++k)
        for (int n = 0; n < N; ++n) {
          const float a = half.at(k, n), b = wide.at(k, n);
          if (std::isnan(b)) {
            ASSERT_TRUE(std::isnan(a)) << k << "," << n;  // NaNs may come out quieted
          } else {
            ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << weight_type_name(type) << " " << k << "," << n << ": " << a << " vs " << b;
          }
        }
    }
  }
}

}  // namespace
