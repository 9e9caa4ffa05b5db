// Every row of the golden fixtures (tests/data/tokenizer/golden, produced by tiktoken and checked
// against HF tokenizers ports; see the fixture README) must match exactly: ids and decoded bytes.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "tokenizer/utf8.h"
#include "tokenizer_test_support.h"

namespace entroscope::tokenizer::test {
namespace {

struct Tally {
  explicit Tally(std::string tally_name) : name(std::move(tally_name)) {}
  std::string name;
  int rows = 0;
  int passed = 0;
  std::vector<std::string> failures;

  void record(bool ok, const std::string& what) {
    ++rows;
    if (ok) {
      ++passed;
    } else {
      failures.push_back(what);
    }
  }
  // Reports the count (visible in the test log) and fails with the first few mismatches.
  void report() const {
    std::cout << "[golden] " << name << ": " << passed << "/" << rows << " rows exact\n";
    std::string details;
    for (std::size_t i = 0; i < failures.size() && i < 12; ++i) details += "\n  " + failures[i];
    EXPECT_EQ(passed, rows) << name << ": " << failures.size() << " mismatching rows:" << details;
    EXPECT_GT(rows, 0) << name << ": no rows checked";
  }
};

std::string describe_ids(const std::vector<std::int32_t>& got, const std::vector<std::int32_t>& want) {
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  auto around = [&](const std::vector<std::int32_t>& v) {
    std::string s;
    for (std::size_t k = i; k < v.size() && k < i + 6; ++k) s += std::to_string(v[k]) + " ";
    return s;
  };
  return "first difference at index " + std::to_string(i) + " (got " + std::to_string(got.size()) +
         " ids: " + around(got) + "..., want " + std::to_string(want.size()) + ": " + around(want) + "...)";
}

// Encodes the row's input with `allow_special` and compares with `want`.
void check_encode(Tally& tally, const Tokenizer& tok, const nlohmann::json& row, bool allow_special,
                  const std::vector<std::int32_t>& want) {
  const std::string input = golden_row_input(row);
  const std::vector<std::int32_t> got = tok.encode(input, allow_special);
  const std::string label = row["id"].get<std::string>() + (allow_special ? " [special]" : " [plain]");
  tally.record(got == want, "encode " + label + ": " + (got == want ? "" : describe_ids(got, want)));
}

// Whether `decoded` is the row's "decoded" / "decoded_sha256", or else its input.
bool decoded_as_expected(const nlohmann::json& row, const std::string& decoded) {
  if (row.contains("decoded")) return decoded == row["decoded"].get<std::string>();
  if (row.contains("decoded_sha256")) return sha256_hex(decoded) == row["decoded_sha256"].get<std::string>();
  return decoded == golden_row_input(row);
}

// Decodes the row's ids and compares with "decoded" / "decoded_sha256" / the input.
void check_decode(Tally& tally, const Tokenizer& tok, const nlohmann::json& row) {
  const std::string bytes = tok.decode(ids_of(row["ids"]));
  const bool ok = decoded_as_expected(row, bytes);
  tally.record(ok, "decode " + row["id"].get<std::string>() + ": got " + to_hex(bytes.substr(0, 64)));
}

// Rows of an HF-semantics file (gpt2-prefix, neox-synth, neox20b): special:true is HF's default,
// special:false is split_special_tokens.
void check_tokenizer_json_file(const std::string& name) {
  const Tokenizer& tok = fixture_tokenizer_json(name);
  Tally encode(name + ".jsonl encode");
  Tally decode(name + ".jsonl decode");
  for (const nlohmann::json& row : read_golden_rows(name + ".jsonl")) {
    check_encode(encode, tok, row, row["special"].get<bool>(), ids_of(row["ids"]));
    check_decode(decode, tok, row);
  }
  encode.report();
  decode.report();
}

TEST(GoldenGpt2, VocabAndMergesMatchTiktoken) {
  const Tokenizer& tok = gpt2_from_vocab();
  Tally encode("gpt2.jsonl encode (vocab.json + merges.txt)");
  Tally decode("gpt2.jsonl decode (vocab.json + merges.txt)");
  for (const nlohmann::json& row : read_golden_rows("gpt2.jsonl")) {
    check_encode(encode, tok, row, row["special"].get<bool>(), ids_of(row["ids"]));
    check_decode(decode, tok, row);
  }
  encode.report();
  decode.report();
}

TEST(GoldenGpt2, TokenizerJsonMatchesHfDefaultAndPlainText) {
  const Tokenizer& tok = fixture_tokenizer_json("gpt2");
  // HF's default recognizes <|endoftext|>: the special:true row where there is one, else the
  // special:false row (they only differ for texts that contain the token).
  std::map<std::string, nlohmann::json> hf_rows;
  const std::vector<nlohmann::json> rows = read_golden_rows("gpt2.jsonl");
  for (const nlohmann::json& row : rows) {
    const std::string id = row["id"].get<std::string>();
    if (row["special"].get<bool>() || !hf_rows.count(id)) hf_rows[id] = row;
  }
  Tally hf("gpt2.jsonl encode (tokenizer.json, special tokens allowed)");
  for (const auto& [id, row] : hf_rows) check_encode(hf, tok, row, true, ids_of(row["ids"]));
  hf.report();

  Tally plain("gpt2.jsonl encode (tokenizer.json, special tokens as text)");
  for (const nlohmann::json& row : rows) {
    if (!row["special"].get<bool>()) check_encode(plain, tok, row, false, ids_of(row["ids"]));
  }
  plain.report();
}

TEST(GoldenGpt2Prefix, AllRowsExact) { check_tokenizer_json_file("gpt2-prefix"); }
TEST(GoldenNeoxSynth, AllRowsExact) { check_tokenizer_json_file("neox-synth"); }
TEST(GoldenNeox20b, AllRowsExact) { check_tokenizer_json_file("neox20b"); }

TEST(GoldenDecode, EveryIdSequenceGivesTheExactBytes) {
  Tally tally("decode.jsonl");
  for (const nlohmann::json& row : read_golden_rows("decode.jsonl")) {
    const std::string name = row["tokenizer"].get<std::string>();
    std::vector<const Tokenizer*> tokenizers{&fixture_tokenizer_json(name)};
    if (name == "gpt2") tokenizers.push_back(&gpt2_from_vocab());
    for (const Tokenizer* tok : tokenizers) {
      const std::vector<std::int32_t> ids = ids_of(row["ids"]);
      const std::string bytes = tok->decode(ids);
      const bool ok = to_hex(bytes) == row["hex"].get<std::string>() &&
                      is_valid_utf8(bytes) == row["valid_utf8"].get<bool>() && tok->decode_bytes(ids) == bytes &&
                      tok->decode_text(ids) == row["utf8_lossy"].get<std::string>();
      tally.record(ok, name + " " + row["ids"].dump() + ": got " + to_hex(bytes) + " / text " +
                           to_hex(tok->decode_text(ids)) + ", want " + row["hex"].get<std::string>());
    }
  }
  tally.report();
}

// Rows from the real Hugging Face tokenizers library (Rust 0.22.2): every added token matched
// (special is always true), the post-processor on when add_special_tokens is true, and decode
// without skipping special tokens.
void check_real_library_file(const std::string& name) {
  const Tokenizer& tok = fixture_tokenizer_json(name);
  Tally encode(name + ".jsonl encode");
  Tally decode(name + ".jsonl decode");
  int with_template = 0;
  for (const nlohmann::json& row : read_golden_rows(name + ".jsonl")) {
    const std::string input = golden_row_input(row);
    const bool add_special = row["add_special_tokens"].get<bool>();
    with_template += add_special;
    const std::vector<std::int32_t> want = ids_of(row["ids"]);
    const std::vector<std::int32_t> got = tok.encode(input, EncodeOptions{true, add_special});
    const std::string label = row["id"].get<std::string>() + (add_special ? " [add_special_tokens]" : "");
    encode.record(got == want, "encode " + label + ": " + (got == want ? "" : describe_ids(got, want)));

    const std::string text = tok.decode_text(want);
    decode.record(decoded_as_expected(row, text), "decode " + label + ": got " + to_hex(text.substr(0, 64)));
  }
  encode.report();
  decode.report();
  EXPECT_GT(with_template, 90) << "the add_special_tokens rows were not all read";
}

TEST(GoldenQwen3, RealLibraryRowsExact) { check_real_library_file("qwen3"); }
TEST(GoldenMistral, RealLibraryRowsExact) { check_real_library_file("mistral-sp"); }

TEST(GoldenDecodeHf, EveryRowGivesTheLibrarysString) {
  Tally tally("decode_hf.jsonl");
  std::map<std::string, int> rows_per_tokenizer;
  for (const nlohmann::json& row : read_golden_rows("decode_hf.jsonl")) {
    const std::string name = row["tokenizer"].get<std::string>();
    ++rows_per_tokenizer[name];
    const Tokenizer& tok = fixture_tokenizer_json(name);
    const std::vector<std::int32_t> ids = ids_of(row["ids"]);
    const bool skip = row["skip_special"].get<bool>();
    const std::string text = tok.decode_text(ids, skip);
    bool ok = to_hex(text) == row["hex"].get<std::string>();
    // The unrepaired bytes are the tokens' own bytes where the reference had to repair them.
    if (row.contains("raw_hex")) ok = ok && to_hex(tok.decode_bytes(ids, skip)) == row["raw_hex"].get<std::string>();
    tally.record(ok, name + " " + row["ids"].dump() + (skip ? " skip_special" : "") + " (" +
                         row.value("what", "") + "): got " + to_hex(text) + ", want " + row["hex"].get<std::string>());
  }
  tally.report();
  EXPECT_EQ(rows_per_tokenizer["qwen3"], 458);
  EXPECT_EQ(rows_per_tokenizer["mistral-sp"], 362);
}

}  // namespace
}  // namespace entroscope::tokenizer::test
