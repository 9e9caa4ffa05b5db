#pragma once
// Rewrites a test copy of a safetensors file with edited floating tensors (read as f32, written
// back as F32); tensors of other dtypes (ids, U8/BOOL masks) are kept byte for byte.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors.h"

namespace entroscope::test_util {

using EditableTensors = std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>>;

inline void rewrite_safetensors(const std::filesystem::path& file, const std::function<void(EditableTensors&)>& edit) {
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
  for (const auto& [name, st] : tensors) out.push_back({name, io::DType::F32, st.first, io::as_bytes_span(st.second)});
  for (const auto& [name, raw] : others) out.push_back({name, raw.dtype, raw.shape, io::as_bytes_span(raw.bytes)});
  io::write_safetensors(file, out);
}

}  // namespace entroscope::test_util
