// `entroscope tokenize`: text -> ids (or ids -> text with --decode) as JSON Lines on stdin/stdout,
// so tokenization can be checked against other tools and scripted.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace entroscope::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer_path;
  bool allow_special = false;
  bool decode = false;
};

// Output is collected in a buffer and written in large blocks; one line per input line.
class LineWriter {
 public:
  ~LineWriter() { flush(); }
  std::string& buffer() { return buffer_; }
  void end_line() {
    buffer_.push_back('\n');
    if (buffer_.size() >= (1u << 20)) flush();
  }
  void flush() {
    if (buffer_.empty()) return;
    const std::size_t written = std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
    std::fflush(stdout);
    if (written == 0) fail("cannot write to stdout");
  }

 private:
  std::string buffer_;
};

std::string_view trim_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return line;
}

nlohmann::json parse_input_line(std::string_view line, std::size_t line_number, const char* expected) {
  if (trim_line_end(line).empty()) fail("stdin line {}: empty line; expected {}", line_number, expected);
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    fail("stdin line {}: not valid JSON ({}); expected {}", line_number, e.what(), expected);
  }
}

std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

void encode_line(const tokenizer::Tokenizer& tok, const TokenizeOptions& options, std::string_view line,
                 std::size_t line_number, std::vector<std::int32_t>& ids, LineWriter& out) {
  constexpr const char* kExpected = R"(an object like {"text": "Hello world"})";
  const nlohmann::json input = parse_input_line(line, line_number, kExpected);
  if (!input.is_object() || !input.contains("text") || !input["text"].is_string()) {
    fail("stdin line {}: no \"text\" string; expected {}", line_number, kExpected);
  }
  ids.clear();
  try {
    tok.encode_into(input["text"].get_ref<const std::string&>(), options.allow_special, ids);
  } catch (const Error& e) {
    fail("stdin line {}: {}", line_number, e.what());
  }
  std::string& buffer = out.buffer();
  buffer += R"({"ids":[)";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) buffer.push_back(',');
    fmt::format_to(std::back_inserter(buffer), "{}", ids[i]);
  }
  buffer += "]}";
  out.end_line();
}

void decode_line(const tokenizer::Tokenizer& tok, std::string_view line, std::size_t line_number,
                 std::vector<std::int32_t>& ids, LineWriter& out) {
  constexpr const char* kExpected = R"(an object like {"ids": [15496, 995]})";
  const nlohmann::json input = parse_input_line(line, line_number, kExpected);
  if (!input.is_object() || !input.contains("ids") || !input["ids"].is_array()) {
    fail("stdin line {}: no \"ids\" array; expected {}", line_number, kExpected);
  }
  ids.clear();
  const nlohmann::json& array = input["ids"];
  for (std::size_t i = 0; i < array.size(); ++i) {
    const nlohmann::json& value = array[i];
    const bool in_range =
        value.is_number_integer() &&
        (value.is_number_unsigned() ? value.get<std::uint64_t>() <= INT32_MAX
                                    : value.get<std::int64_t>() >= 0 && value.get<std::int64_t>() <= INT32_MAX);
    if (!in_range || !tok.is_valid_id(static_cast<std::int32_t>(value.get<std::int64_t>()))) {
      fail("stdin line {}: ids[{}] = {} is not a token id of this tokenizer (ids 0..{})", line_number, i, value.dump(),
           tok.vocab_size() - 1);
    }
    ids.push_back(static_cast<std::int32_t>(value.get<std::int64_t>()));
  }
  const std::string bytes = tok.decode(ids);
  std::string& buffer = out.buffer();
  if (tokenizer::is_valid_utf8(bytes)) {
    buffer += R"({"text":)" + json_string(bytes) + "}";
  } else {
    // JSON strings cannot hold invalid UTF-8: give the exact bytes in hex instead.
    static const char* digits = "0123456789abcdef";
    buffer += R"({"bytes_hex":")";
    for (unsigned char b : bytes) {
      buffer.push_back(digits[b >> 4]);
      buffer.push_back(digits[b & 15]);
    }
    buffer += "\"}";
  }
  out.end_line();
}

void run_tokenize(const TokenizeOptions& options) {
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(options.tokenizer_path);
  std::ios::sync_with_stdio(false);
  LineWriter out;
  std::vector<std::int32_t> ids;
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (options.decode) {
      decode_line(tok, line, line_number, ids, out);
    } else {
      encode_line(tok, options, line, line_number, ids, out);
    }
  }
  if (std::cin.bad()) fail("error reading stdin after line {}", line_number);
  out.flush();
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Turn text into token ids exactly as the model's tokenizer does (GPT-2 / GPT-NeoX byte-level\n"
      "  BPE; no BOS/EOS added), or ids back into text with --decode.\n"
      "  In: JSON Lines on stdin, {\"text\": \"...\"} per line. Out: one {\"ids\": [...]} per input line, in order.\n"
      "  --decode: in {\"ids\": [...]}, out {\"text\": \"...\"}, or {\"bytes_hex\": \"...\"} when the bytes are not\n"
      "  valid UTF-8 (an id can be part of a character). A bad line stops with an error naming it.\n"
      "  Example: echo '{\"text\": \"Hello\"}' | entroscope tokenize --tokenizer models/demo-gpt2-s");
  cmd->add_option("--tokenizer", options->tokenizer_path,
                  "Model directory (tokenizer.json, else vocab.json + merges.txt), a tokenizer.json, or a vocab.json "
                  "with merges.txt beside it")
      ->required()
      ->type_name("PATH");
  cmd->add_flag("--allow-special", options->allow_special,
                "Recognize special tokens written in the text (\"<|endoftext|>\" -> its id, as HF does by default). "
                "Default: they are plain text, as tiktoken's encode_ordinary");
  cmd->add_flag("--decode", options->decode, "Decode: read {\"ids\": [...]} lines, write the text");
  cmd->footer(
      "Example:\n"
      "  $ echo '{\"text\": \"ROMEO: But soft\"}' | entroscope tokenize --tokenizer models/demo-gpt2-s\n"
      "  {\"ids\":[813,25,1558,365,1063]}\n"
      "  $ echo '{\"ids\": [813, 25]}' | entroscope tokenize --tokenizer models/demo-gpt2-s --decode\n"
      "  {\"text\":\"ROMEO:\"}\n");
  cmd->callback([options] { run_tokenize(*options); });
}

}  // namespace entroscope::cli
