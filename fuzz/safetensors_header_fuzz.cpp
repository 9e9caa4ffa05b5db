// libFuzzer entry point for the safetensors header parser: any byte string must either parse into
// spans inside the file or be rejected with entroscope::Error. Anything else (crash, sanitizer
// report, other exception) is a bug.
#include <cstdint>
#include <cstdlib>

#include "common/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto header = entroscope::io::parse_safetensors({data, size}, "fuzz");
    for (const auto& t : header.tensors)
      if (t.file_offset + t.num_bytes() > size) std::abort();
  } catch (const entroscope::Error&) {
  }
  return 0;
}
