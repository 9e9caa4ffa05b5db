#pragma once
// Exact widening of the two 16-bit float formats checkpoints use to binary32. One implementation
// for the file readers (io) and for the kernels, which widen 16-bit weights where they read them.
#include <cstdint>
#include <cstring>

namespace entroscope {

// IEEE binary16 -> binary32, exact for every input (subnormals, infinities, NaN payloads). No
// subnormal float is ever an operand, so the result does not depend on the FPU's DAZ/FTZ modes;
// no loops, so packing loops over 16-bit weights stay straight-line.
inline float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t magnitude = h & 0x7FFFu;
  std::uint32_t bits;
  if (magnitude >= 0x7C00u) {  // infinity or NaN: all-ones exponent, the payload kept
    bits = 0x7F800000u | ((magnitude & 0x3FFu) << 13);
  } else if (magnitude >= 0x0400u) {  // normal: rebias the exponent (15 -> 127)
    bits = (magnitude << 13) + ((127u - 15u) << 23);
  } else {  // zero or subnormal: m * 2^-24, exact (m < 2^10 and the product is a normal float)
    const float f = static_cast<float>(magnitude) * 0x1p-24f;
    std::memcpy(&bits, &f, sizeof bits);
  }
  bits |= sign;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// bfloat16 is the upper half of a binary32.
inline float bf16_to_f32(std::uint16_t b) {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace entroscope
