// libFuzzer entry point for tokenizer.json: any byte string must either load into a tokenizer
// that encodes and decodes a few texts, or be rejected with entroscope::Error. Anything else
// (crash, sanitizer report, other exception, a decode that is not valid UTF-8) is a bug.
// Seeds: the fixture tokenizer.json files (small ones; a 2-token vocabulary is enough to reach
// every pipeline stage).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  try {
    const auto tok = entroscope::tokenizer::Tokenizer::from_tokenizer_json(content, "fuzz");
    for (std::string_view text : {std::string_view("Hello  world's 123\n"), std::string_view("\xE2\x82\xAC\xFF a"),
                                  std::string_view("")}) {
      for (bool special : {false, true}) {
        const auto ids = tok.encode(text, entroscope::tokenizer::EncodeOptions{special, special});
        if (!entroscope::tokenizer::is_valid_utf8(tok.decode_text(ids, special))) std::abort();
        tok.decode_bytes(ids);
      }
    }
  } catch (const entroscope::Error&) {
  }
  return 0;
}
