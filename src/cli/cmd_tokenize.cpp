// `entroscope tokenize`: text -> ids (or ids -> text with --decode) as JSON Lines on stdin/stdout,
// so tokenization can be checked against other tools and scripted.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/json_file.h"
#include "cli/commands.h"
#include "kernels/threads.h"
#include "common/error.h"
#include "io/model_locator.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace entroscope::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer_path;
  bool allow_special = false;
  bool add_special_tokens = false;
  bool decode = false;
  bool skip_special = false;
  int threads = 1;
};

std::string_view trim_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return line;
}

nlohmann::json parse_input_line(std::string_view line, std::size_t line_number, const char* expected) {
  if (trim_line_end(line).empty()) fail("stdin line {}: empty line; expected {}", line_number, expected);
  try {
    return parse_json(line, fmt::format("stdin line {}", line_number));
  } catch (const nlohmann::json::parse_error& e) {
    fail("stdin line {}: not valid JSON ({}); expected {}", line_number, e.what(), expected);
  }
}

std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

void append_ids(std::string& out, const std::vector<std::int32_t>& ids) {
  out.push_back('[');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{}", ids[i]);
  }
  out.push_back(']');
}

std::string encode_line(const tokenizer::Tokenizer& tok, const TokenizeOptions& options, std::string_view line,
                        std::size_t line_number) {
  constexpr const char* kExpected = R"(an object like {"text": "Hello world"})";
  const nlohmann::json input = parse_input_line(line, line_number, kExpected);
  if (!input.is_object() || !input.contains("text") || !input["text"].is_string()) {
    fail("stdin line {}: no \"text\" string; expected {}", line_number, kExpected);
  }
  std::vector<std::int32_t> ids;
  try {
    tok.encode_into(input["text"].get_ref<const std::string&>(),
                    tokenizer::EncodeOptions{options.allow_special, options.add_special_tokens}, ids);
  } catch (const Error& e) {
    fail("stdin line {}: {}", line_number, e.what());
  }
  std::string out = R"({"ids":)";
  append_ids(out, ids);
  return out + "}";
}

// As Hugging Face's decode: ids that name no token are left out (and listed in "dropped_ids").
std::string decode_line(const tokenizer::Tokenizer& tok, const TokenizeOptions& options, std::string_view line,
                        std::size_t line_number) {
  constexpr const char* kExpected = R"(an object like {"ids": [15496, 995]})";
  const nlohmann::json input = parse_input_line(line, line_number, kExpected);
  if (!input.is_object() || !input.contains("ids") || !input["ids"].is_array()) {
    fail("stdin line {}: no \"ids\" array; expected {}", line_number, kExpected);
  }
  std::vector<std::int32_t> ids, dropped;
  const nlohmann::json& array = input["ids"];
  for (std::size_t i = 0; i < array.size(); ++i) {
    const nlohmann::json& value = array[i];
    const bool in_range =
        value.is_number_integer() &&
        (value.is_number_unsigned() ? value.get<std::uint64_t>() <= INT32_MAX
                                    : value.get<std::int64_t>() >= 0 && value.get<std::int64_t>() <= INT32_MAX);
    if (!in_range) {
      fail("stdin line {}: ids[{}] = {} is not a token id (a non-negative integer)", line_number, i, value.dump());
    }
    const auto id = static_cast<std::int32_t>(value.get<std::int64_t>());
    (tok.is_valid_id(id) ? ids : dropped).push_back(id);
  }
  const std::string text = tok.decode_text(ids, options.skip_special);
  const std::string bytes = tok.decode_bytes(ids, options.skip_special);
  std::string out = R"({"text":)" + json_string(text);
  // The text is always valid UTF-8 (repaired as the tokenizer's decoder does); when the ids' own
  // bytes are not (an id can be part of a character), they are given exactly in hex as well.
  if (bytes != text) out += R"(,"bytes_hex":")" + hex(bytes) + "\"";
  if (!dropped.empty()) {
    out += R"(,"dropped_ids":)";
    append_ids(out, dropped);
  }
  return out + "}";
}

// Reads stdin in blocks of lines; each block is processed by `threads` threads (each line on its
// own) and written in input order. The first bad line stops everything after the lines before it.
void run_tokenize(const TokenizeOptions& options) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::exists(options.tokenizer_path, ec)
                                         ? std::filesystem::path(options.tokenizer_path)
                                         : io::resolve_model(options.tokenizer_path).dir;
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(path);
  const kernels::ThreadChoice choice = kernels::choose_thread_count(std::max(1, options.threads), kernels::available_cores(), 0);
  if (!choice.note.empty()) std::fprintf(stderr, "%s\n", choice.note.c_str());
  const int threads = choice.threads;
  std::ios::sync_with_stdio(false);

  const std::size_t block_lines = static_cast<std::size_t>(threads) * 256;
  std::vector<std::string> lines, outputs;
  std::vector<std::optional<std::string>> errors;
  std::size_t first_line_number = 1;
  std::string line;
  bool more = true, too_long = false;
  while (more) {
    lines.clear();
    while (lines.size() < block_lines && (more = read_line_bounded(std::cin, line, kMaxLineBytes, &too_long))) {
      if (too_long)
        fail("stdin line {}: more than the {} MiB a line may have (the limit)", first_line_number + lines.size(),
             kMaxLineBytes >> 20);
      lines.push_back(std::move(line));
    }
    if (std::cin.bad()) fail("error reading stdin after line {}", first_line_number + lines.size() - 1);
    outputs.assign(lines.size(), std::string());
    errors.assign(lines.size(), std::nullopt);
    auto work = [&](std::size_t worker) {
      for (std::size_t i = worker; i < lines.size(); i += static_cast<std::size_t>(threads)) {
        try {
          outputs[i] = options.decode ? decode_line(tok, options, lines[i], first_line_number + i)
                                      : encode_line(tok, options, lines[i], first_line_number + i);
        } catch (const Error& e) {
          errors[i] = e.what();
        }
      }
    };
    if (threads == 1 || lines.size() < 2) {
      work(0);
    } else {
      std::vector<std::thread> pool;
      for (int t = 1; t < threads; ++t) pool.emplace_back(work, static_cast<std::size_t>(t));
      work(0);
      for (std::thread& t : pool) t.join();
    }
    std::string buffer;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (errors[i]) {
        std::fwrite(buffer.data(), 1, buffer.size(), stdout);
        std::fflush(stdout);
        fail("{}", *errors[i]);
      }
      buffer += outputs[i];
      buffer.push_back('\n');
    }
    if (!buffer.empty() && std::fwrite(buffer.data(), 1, buffer.size(), stdout) != buffer.size()) {
      fail("cannot write to stdout");
    }
    std::fflush(stdout);
    first_line_number += lines.size();
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Turn text into token ids exactly as the model's tokenizer does (Hugging Face tokenizer.json pipelines:\n"
      "  GPT-2, GPT-NeoX/Pythia, Llama 3, Qwen2/3, OLMo-2 byte-level BPE, Llama 2 / Mistral SentencePiece BPE;\n"
      "  GPT-2's vocab.json + merges.txt), or ids back into text with --decode.\n"
      "  In: JSON Lines on stdin, {\"text\": \"...\"} per line. Out: one {\"ids\": [...]} per input line, in order.\n"
      "  --decode: in {\"ids\": [...]}, out {\"text\": \"...\"} as Hugging Face's decode gives it (always valid UTF-8),\n"
      "  plus \"bytes_hex\" with the exact bytes when they are not valid UTF-8 (an id can be part of a character),\n"
      "  and \"dropped_ids\" for ids that name no token (left out, as Hugging Face does).\n"
      "  A bad line stops with an error naming it.\n"
      "  Example: echo '{\"text\": \"Hello\"}' | entroscope tokenize --tokenizer models/demo-gpt2-s");
  cmd->add_option("--tokenizer", options->tokenizer_path,
                  "A tokenizer.json, a vocab.json (merges.txt beside it), or a model: directory, demo name or Hub id "
                  "in the local cache (its tokenizer.json, else vocab.json + merges.txt; tokenizer_config.json "
                  "beside it gives add_bos_token / add_eos_token)")
      ->required()
      ->type_name("PATH");
  cmd->add_flag("--allow-special", options->allow_special,
                "Recognize special tokens written in the text (\"<|endoftext|>\" -> its id, as HF does by default). "
                "Default: they are plain text, as tiktoken's encode_ordinary");
  cmd->add_flag("--add-special-tokens", options->add_special_tokens,
                "Add the tokens the tokenizer puts around a text (its post-processor: e.g. Llama's and Mistral's "
                "<s> at the start); as HF's add_special_tokens=True. Default: the text's tokens only");
  cmd->add_flag("--decode", options->decode, "Decode: read {\"ids\": [...]} lines, write the text");
  cmd->add_flag("--skip-special", options->skip_special, "With --decode: leave special tokens out of the text");
  cmd->add_option("--threads", options->threads, "Threads, each encoding whole lines (results do not depend on it)")
      ->default_val(1)
      ->check(CLI::Range(1, 256));
  cmd->footer(
      "Examples:\n"
      "  $ echo '{\"text\": \"ROMEO: But soft\"}' | entroscope tokenize --tokenizer models/demo-gpt2-s\n"
      "  {\"ids\":[813,25,1558,365,1063]}\n"
      "  $ echo '{\"ids\": [813, 25]}' | entroscope tokenize --tokenizer models/demo-gpt2-s --decode\n"
      "  {\"text\":\"ROMEO:\"}\n"
      "  $ echo '{\"text\": \"Hello\"}' | entroscope tokenize --tokenizer mistralai/Mistral-7B-v0.1 --add-special-tokens\n"
      "  {\"ids\":[1,22557]}\n"
      "  $ entroscope tokenize --tokenizer Qwen/Qwen3-0.6B --allow-special --threads 2 < corpus.jsonl > ids.jsonl\n");
  cmd->callback([options] {
    if (options->skip_special && !options->decode) fail("--skip-special needs --decode");
    if (options->add_special_tokens && options->decode) fail("--add-special-tokens is for encoding, not --decode");
    run_tokenize(*options);
  });
}

}  // namespace entroscope::cli
