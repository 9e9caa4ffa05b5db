#pragma once
// safetensors dtypes and exact conversion of the floating ones to fp32.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace entroscope::io {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL };

std::optional<DType> parse_dtype(std::string_view name);  // "F32" -> DType::F32
std::string_view dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);                      // bytes per element
bool is_float_dtype(DType dtype);                         // F64/F32/F16/BF16

// IEEE binary16 -> binary32, exact for every input (subnormals, infinities, NaN payload bit).
inline float f16_to_f32(std::uint16_t h) {
  std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int shift = 0;
      while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        ++shift;
      }
      mantissa &= 0x3FFu;
      bits = sign | (static_cast<std::uint32_t>(127 - 15 + 1 - shift) << 23) | (mantissa << 13);
    }
  } else if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
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

// Round-to-nearest-even fp32 -> fp16 / bf16 (used by precision emulation and synthetic
// checkpoints). Overflow gives +-inf, as a real fp16 cast does.
std::uint16_t f32_to_f16(float f);
std::uint16_t f32_to_bf16(float f);

}  // namespace entroscope::io
