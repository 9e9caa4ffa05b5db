// Tokenizer throughput on the golden long text (tests/data/tokenizer/texts/bench_1mb.txt), single
// thread, compared with tiktoken's figures in the fixture README. Prints one JSON object:
// encode and decode MB/s (10^6 bytes of text per second; median of N warm runs; by wall time and by
// the thread's CPU time, which is steadier on a busy machine), load time, and
// the time of single pathological pieces (10k-character words) that a quadratic BPE would choke on.
//
//   tokenizer_bench [--tokenizer PATH] [--text FILE] [--runs N] [--allow-special]
//
// Defaults: the GPT-2 fixture vocabulary (vocab.json + merges.txt) and bench_1mb.txt, 9 runs.
// Decoding is decode_text (Hugging Face's decode: the text, UTF-8 repaired). "roundtrip_exact" is
// decode_text(encode(text)) == text; it is false for NFC tokenizers (GPT-NeoX, Qwen) when the text
// is not in NFC.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "tokenizer/tokenizer.h"

#ifndef ES_SOURCE_DIR
#define ES_SOURCE_DIR "."
#endif

namespace {

using Clock = std::chrono::steady_clock;
using entroscope::tokenizer::Tokenizer;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU time of this thread: on a shared, busy machine it is steadier than wall time.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) entroscope::fail("{}: cannot open file", path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string json_list(const std::vector<double>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += fmt::format("{}{:.2f}", i ? ", " : "", values[i]);
  return out + "]";
}

int run(int argc, char** argv) {
  const std::string data = std::string(ES_SOURCE_DIR) + "/tests/data/tokenizer";
  std::string tokenizer_path = data + "/gpt2/vocab.json";
  std::string text_path = data + "/texts/bench_1mb.txt";
  int runs = 9;
  bool allow_special = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) entroscope::fail("{} needs a value", arg);
      return argv[++i];
    };
    if (arg == "--tokenizer") {
      tokenizer_path = value();
    } else if (arg == "--text") {
      text_path = value();
    } else if (arg == "--runs") {
      runs = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--allow-special") {
      allow_special = true;
    } else {
      entroscope::fail("unknown argument {} (use --tokenizer PATH, --text FILE, --runs N, --allow-special)", arg);
    }
  }

  Clock::time_point start = Clock::now();
  const Tokenizer tok = Tokenizer::load(tokenizer_path);
  const double load_seconds = seconds_since(start);
  const std::string text = read_bytes(text_path);

  std::vector<std::int32_t> ids = tok.encode(text, allow_special);  // warm-up
  std::vector<double> encode_mbps, decode_mbps, encode_cpu_mbps, decode_cpu_mbps;
  std::size_t decoded_size = 0;
  const double megabytes = static_cast<double>(text.size()) / 1e6;
  for (int r = 0; r < runs; ++r) {
    start = Clock::now();
    const double cpu_start = thread_cpu_seconds();
    ids = tok.encode(text, allow_special);
    encode_cpu_mbps.push_back(megabytes / (thread_cpu_seconds() - cpu_start));
    encode_mbps.push_back(megabytes / seconds_since(start));
  }
  for (int r = 0; r < runs; ++r) {
    start = Clock::now();
    const double cpu_start = thread_cpu_seconds();
    const std::string bytes = tok.decode_text(ids);
    const double decoded_megabytes = static_cast<double>(bytes.size()) / 1e6;
    decode_cpu_mbps.push_back(decoded_megabytes / (thread_cpu_seconds() - cpu_start));
    decode_mbps.push_back(decoded_megabytes / seconds_since(start));
    decoded_size = bytes.size();
  }

  // Single long pieces: must stay far from quadratic (tiktoken: 85 ms for "a" x 10k).
  std::string pathological;
  for (const auto& [name, piece] : {std::pair<std::string, std::string>{"a_10k_ms", std::string(10000, 'a')},
                                    {"digits_10k_ms",
                                     [] {
                                       std::string s;
                                       for (int i = 0; i < 10000; ++i)
                                         s.push_back(static_cast<char>('0' + (i * 7) % 10));
                                       return s;
                                     }()},
                                    {"spaces_10k_ms", std::string(10000, ' ')}}) {
    start = Clock::now();
    const std::size_t count = tok.encode(piece).size();
    pathological += fmt::format(", \"{}\": {:.2f}, \"{}_tokens\": {}", name, seconds_since(start) * 1e3,
                                name.substr(0, name.size() - 3), count);
  }

  fmt::print(
      "{{\"tokenizer\": \"{}\", \"text\": \"{}\", \"text_bytes\": {}, \"tokens\": {}, \"roundtrip_exact\": {}, "
      "\"runs\": {}, \"threads\": 1, \"load_seconds\": {:.3f}, "
      "\"encode_mb_per_s_median\": {:.2f}, \"decode_mb_per_s_median\": {:.2f}, "
      "\"encode_mb_per_cpu_s_median\": {:.2f}, \"decode_mb_per_cpu_s_median\": {:.2f}, "
      "\"encode_mb_per_s_runs\": {}, \"decode_mb_per_s_runs\": {}{}, "
      "\"tiktoken_reference\": {{\"encode_mb_per_s\": \"6.3-6.6\", \"decode_mb_per_s\": \"100-180\"}}}}\n",
      tokenizer_path, text_path, text.size(), ids.size(), decoded_size == text.size() && tok.decode_text(ids) == text, runs,
      load_seconds, median(encode_mbps), median(decode_mbps), median(encode_cpu_mbps), median(decode_cpu_mbps),
      json_list(encode_mbps), json_list(decode_mbps), pathological);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenizer_bench: error: %s\n", e.what());
    return 1;
  }
}
