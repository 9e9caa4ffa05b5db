#pragma once
// exp for float written so that loops over it vectorize (no branches, no libm call): range
// reduction x = n ln2 + r, |r| <= ln2/2, a degree-7 Taylor polynomial for exp(r), and 2^n built in
// the exponent bits. Input is clamped to [-87, 88] (results stay normal floats). Max relative
// error 3e-7 (a test sweeps it against std::exp). Pure IEEE float arithmetic with contraction
// off, so every build and every vector width gives the same bits.
#include <algorithm>
#include <bit>
#include <cstdint>

namespace entroscope::kernels {

inline float fast_exp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float n = (x * kLog2e + kRound) - kRound;
  float r = x - n * 0.693145751953125f;   // ln2, high part (exact product for |n| <= 128)
  r = r - n * 1.42860682030941723212e-6f;  // ln2, low part
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::int32_t exponent = (static_cast<std::int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(exponent);
}

}  // namespace entroscope::kernels
