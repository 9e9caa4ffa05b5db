#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#include "common/error.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

// Every code point below U+0300 is NFC-stable, and UTF-8 bytes below 0xCC only ever encode such
// code points. ASCII characters are starters that never compose with what precedes them, so NFC
// works on each stretch between ASCII characters independently: only the stretches around bytes
// >= 0xCC (from the ASCII character before them, which may take a combining mark, to the next
// ASCII character) are handed to utf8proc; everything else is copied.
constexpr unsigned char kFirstUnstableLeadByte = 0xCC;

void append_nfc_of_valid_utf8(std::string_view valid, std::string& out) {
  if (valid.empty()) return;
  utf8proc_uint8_t* result = nullptr;
  utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid.data()), static_cast<utf8proc_ssize_t>(valid.size()),
                   &result, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(result, &std::free);
  if (length == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
  if (length < 0) fail("NFC normalization failed: {}", utf8proc_errmsg(length));
  out.append(reinterpret_cast<const char*>(result), static_cast<std::size_t>(length));
}

// NFC of a stretch that may hold bytes that are not valid UTF-8: those are kept as they are and
// split the stretch into separately normalized runs.
void append_nfc(std::string_view text, std::string& out) {
  std::size_t run_start = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    Utf8Char ch = decode_utf8(text, pos);
    if (ch.valid) {
      pos += ch.length;
      continue;
    }
    append_nfc_of_valid_utf8(text.substr(run_start, pos - run_start), out);
    out.push_back(text[pos]);
    run_start = ++pos;
  }
  append_nfc_of_valid_utf8(text.substr(run_start), out);
}

bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

}  // namespace

std::string_view nfc_normalize(std::string_view text, std::string& storage) {
  std::size_t copied = 0;      // text[0, copied) is already in storage
  std::size_t last_ascii = 0;  // start of the stretch that ends at the current position
  bool changed = false;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    if (byte < 0x80) {
      last_ascii = pos;
      continue;
    }
    if (byte < kFirstUnstableLeadByte) continue;
    if (!changed) {
      storage.clear();
      storage.reserve(text.size() + 16);
      changed = true;
    }
    std::size_t end = pos + 1;
    while (end < text.size() && !is_ascii(text[end])) ++end;
    const std::size_t begin = std::max(last_ascii, copied);
    storage.append(text.substr(copied, begin - copied));
    append_nfc(text.substr(begin, end - begin), storage);
    copied = end;
    last_ascii = end;
    pos = end - 1;
  }
  if (!changed) return text;
  storage.append(text.substr(copied));
  if (storage == text) return text;
  return storage;
}

}  // namespace entroscope::tokenizer
