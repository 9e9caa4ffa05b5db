#pragma once
// safetensors dtypes and exact conversion of the floating ones to fp32.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "common/half_float.h"

namespace entroscope::io {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL };

std::optional<DType> parse_dtype(std::string_view name);  // "F32" -> DType::F32
std::string_view dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);                      // bytes per element
bool is_float_dtype(DType dtype);                         // F64/F32/F16/BF16

using entroscope::bf16_to_f32;  // common/half_float.h
using entroscope::f16_to_f32;

// Round-to-nearest-even fp32 -> fp16 / bf16 (used by precision emulation and synthetic
// checkpoints). Overflow gives +-inf, as a real fp16 cast does.
std::uint16_t f32_to_f16(float f);
std::uint16_t f32_to_bf16(float f);

}  // namespace entroscope::io
