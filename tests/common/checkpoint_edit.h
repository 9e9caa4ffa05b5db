#pragma once
// Rewrites a test copy of a safetensors file with edited floating tensors (read as f32, written
// back as `float_dtype`: F32, or F16 / BF16 rounded to nearest even); tensors of other dtypes (ids,
// U8/BOOL masks) are kept byte for byte.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"

namespace entroscope::test_util {

using EditableTensors = std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>>;

inline void rewrite_safetensors(const std::filesystem::path& file, const std::function<void(EditableTensors&)>& edit,
                                io::DType float_dtype = io::DType::F32) {
  EditableTensors tensors;
  struct Raw {
    io::DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
  };
  std::map<std::string, Raw> others;
  {
    io::SafetensorsFile f(file);
    for (const auto& t : f.header().tensors) {
      if (io::is_float_dtype(t.dtype)) {
        tensors[t.name] = {t.shape, io::read_as_f32(f, t)};
      } else {
        auto raw = f.raw(t);
        others[t.name] = {t.dtype, t.shape, {raw.begin(), raw.end()}};
      }
    }
  }
  edit(tensors);
  std::vector<io::TensorToWrite> out;
  std::map<std::string, std::vector<std::uint16_t>> halves;
  for (const auto& [name, st] : tensors) {
    if (float_dtype == io::DType::F32) {
      out.push_back({name, io::DType::F32, st.first, io::as_bytes_span(st.second)});
      continue;
    }
    std::vector<std::uint16_t>& h = halves[name];
    for (float v : st.second) h.push_back(float_dtype == io::DType::F16 ? io::f32_to_f16(v) : io::f32_to_bf16(v));
    out.push_back({name, float_dtype, st.first, io::as_bytes_span(h)});
  }
  for (const auto& [name, raw] : others) out.push_back({name, raw.dtype, raw.shape, io::as_bytes_span(raw.bytes)});
  io::write_safetensors(file, out);
}

}  // namespace entroscope::test_util
