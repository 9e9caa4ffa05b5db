#pragma once
// A small, fully specified random number generator for resampling: xoshiro256** seeded through
// splitmix64, with unbiased bounded integers (Lemire's multiply-and-reject). Unlike the standard
// library's distributions, its output is the same on every platform and compiler, so a seed in an
// experiment file gives the same confidence intervals everywhere.
#include <cstdint>

namespace entroscope::experiment {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  // Uniform in [0, n); n >= 1.
  std::uint64_t below(std::uint64_t n);
  // Uniform in [0, 1) with 53 random bits.
  double uniform();

 private:
  std::uint64_t s_[4];
};

}  // namespace entroscope::experiment
