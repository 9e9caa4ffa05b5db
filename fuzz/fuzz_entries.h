#pragma once
// The parsers' fuzz entries, shared by the libFuzzer targets (fuzz/*_fuzz.cpp) and the regression
// test that replays every crashing input found (tests/cli/fuzz_regressions_test.cpp).
//
// The contract of every entry: any byte string is either accepted or rejected with
// entroscope::Error (whose message is one line). Anything else (a crash, a sanitizer report,
// another exception type, a hang, a failed std::abort() check) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace entroscope::fuzz {

using Entry = void (*)(std::string_view input);

void safetensors_header(std::string_view input);
void tokenizer_json(std::string_view input);
void config_json(std::string_view input);
// vocab.json, merges.txt, then optionally tokenizer_config.json and special_tokens_map.json, the
// parts separated by NUL bytes.
void vocab_merges(std::string_view input);
void safetensors_index(std::string_view input);
void experiment_yaml(std::string_view input);
void items_jsonl(std::string_view input);
// Records separated by NUL bytes, each "<kind><path>\n<content>" building a Hub cache folder:
// kind 'r' refs/<path>, 'l' snapshots/<path> as a symlink to <content>, 'f' a plain snapshot file,
// 'b' blobs/<path>, 'd' a snapshot directory.
void hub_cache(std::string_view input);
// A raw HTTP answer: status line, header lines, blank line, body.
void hub_http(std::string_view input);
void doctor_compare(std::string_view input);
// A run's output folder for `entroscope report`: scaling_summary.json, results.json and units.csv
// (the names the seeds' files use for each other), separated by NUL bytes.
void report_folder(std::string_view input);
// One work-unit file of a sharded run (experiment/unit_file.h), as `merge` reads it.
void unit_file(std::string_view input);
// A results file (experiment/model_result.h), as `run` reads it back to reuse a finished model.
void results_file(std::string_view input);

struct Target {
  const char* name;  // fuzz_<name>, tests/data/fuzz_regressions/<name>/
  Entry entry;
};
const std::vector<Target>& all_targets();

// Runs `entry` on the bytes: returns normally when it accepts them or throws entroscope::Error with
// a one-line message; aborts otherwise.
void run_checked(Entry entry, const std::uint8_t* data, std::size_t size);

}  // namespace entroscope::fuzz
