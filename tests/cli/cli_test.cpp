// End-to-end: the entroscope binary's CLI contract (forward, info) and its error behaviour.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "common/golden.h"
#include "common/temp_dir.h"

namespace fs = std::filesystem;
using namespace entroscope;

namespace {

const fs::path kModels = fs::path(ES_TEST_DATA_DIR) / "models";

struct RunResult {
  int exit_code;
  std::string out;  // stdout and stderr together
};

RunResult run(const std::string& args) {
  std::string cmd = std::string(ES_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class ForwardCli : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardCli, WritesGoldenLayout) {
  const fs::path dir = kModels / GetParam();
  test_util::TempDir tmp;
  auto r = run("forward --model " + dir.string() + " --input " + (dir / "expected.safetensors").string() +
               " --output " + (tmp / "out.safetensors").string() + " --hidden-states --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  io::SafetensorsFile out(tmp / "out.safetensors");
  test_util::expect_matches_goldens(dir, out, /*hidden_states=*/true);
  // Same layout as expected.safetensors: same names, shapes and dtypes.
  io::SafetensorsFile expected(dir / "expected.safetensors");
  for (const auto& t : expected.header().tensors) {
    const io::TensorInfo* o = out.find(t.name);
    ASSERT_NE(o, nullptr) << t.name;
    EXPECT_EQ(o->shape, t.shape) << t.name;
    EXPECT_EQ(o->dtype, t.dtype) << t.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ForwardCli, ::testing::ValuesIn(test_util::golden_fixtures()),
                         test_util::fixture_test_name);

// --device: outputs record where the forward ran; a device that is not there is refused in one line
// before anything is loaded or written (the CUDA backend itself: tests/cuda, on a GPU machine).
TEST(DeviceCli, RecordsTheDeviceAndRefusesOneThatIsNotThere) {
  const fs::path dir = kModels / "gpt2-tiny";
  test_util::TempDir tmp;
  const std::string input = " --input " + (dir / "expected.safetensors").string();
  auto r = run("forward --model " + dir.string() + input + " --output " + (tmp / "cpu.safetensors").string() +
               " --device cpu");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(io::SafetensorsFile(tmp / "cpu.safetensors").header().metadata.at("device"), "cpu");

  auto bad = run("forward --model " + dir.string() + input + " --output " + (tmp / "x.safetensors").string() +
                 " --device gpu");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--device"), std::string::npos) << bad.out;
#if !ENTROSCOPE_CUDA
  for (const std::string& cmd :
       {"forward --model " + dir.string() + input + " --output " + (tmp / "x.safetensors").string(),
        "bench --model " + dir.string() + " --batch 1 --tokens 4 --reps 1",
        "score --model " + dir.string() + " --text hello", "run " + std::string(ES_SOURCE_DIR) + "/examples/demo.yaml --out " +
        (tmp / "run").string()}) {
    auto c = run(cmd + " --device cuda");
    EXPECT_EQ(c.exit_code, 1) << cmd << ": " << c.out;
    EXPECT_NE(c.out.find("this build has no CUDA backend (configure with -DENTROSCOPE_CUDA=ON"), std::string::npos)
        << cmd << ": " << c.out;
    EXPECT_EQ(std::count(c.out.begin(), c.out.end(), '\n'), 1) << c.out;
  }
  EXPECT_FALSE(fs::exists(tmp / "x.safetensors"));
  EXPECT_FALSE(fs::exists(tmp / "run"));
#endif
}

TEST(InfoCli, ReportsOffsetsAndCopiedTensors) {
  auto r = run("info --model " + (kModels / "gpt2-tiny-unaligned").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("data section at offset 3562 (mod 4 = 2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("40 copied (misaligned)"), std::string::npos) << r.out;
  auto a = run("info --model " + (kModels / "gpt2-tiny").string() + " --json");
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_NE(a.out.find("\"mapped\": 40"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("\"params_total\""), std::string::npos) << a.out;
}

// info shows each family's architecture as the fixture README describes it.
TEST(InfoCli, DescribesEveryFamily) {
  struct Want {
    const char* fixture;
    std::vector<std::string> text;
  };
  const Want wants[] = {
      {"gpt-neo-tiny", {"gpt_neo (GPT-Neo, GPTNeoForCausalLM)", "unscaled scores", "local window of 8 keys in 1 of 2 layers",
                        "learned table", "tied to the token embedding"}},
      {"gptj-tiny", {"GPTJForCausalLM", "parallel (one shared norm)", "interleaved pairs) on 8 of 12 dims",
                     "untied, with bias"}},
      {"opt-350m-tiny", {"OPTForCausalLM", "post-LN", "embeddings 32 wide (project_in/out)",
                         "learned table (row = position + 2)", "relu"}},
      {"llama3-tiny", {"llama (Llama", "4 heads x 24 (1 key/value heads)", "RMSNorm", "gated (SwiGLU)",
                       "llama3 scaling (factor 8, low 1, high 4, original context 64)"}},
      {"mistral-tiny", {"MistralForCausalLM", "local window of 12 keys in 2 of 2 layers"}},
      {"qwen2-tiny", {"Qwen2ForCausalLM", "biases on q/k/v", "base 1000000"}},
      {"qwen3-tiny", {"Qwen3ForCausalLM", "RMS QK-norm per head", "4 heads x 24 (2 key/value heads)"}},
      {"olmo2-tiny", {"Olmo2ForCausalLM", "norm inside the residual", "RMS QK-norm over the whole projection"}},
  };
  for (const auto& w : wants) {
    auto r = run("info --model " + (kModels / w.fixture).string());
    ASSERT_EQ(r.exit_code, 0) << r.out;
    for (const auto& t : w.text) EXPECT_NE(r.out.find(t), std::string::npos) << w.fixture << ": " << t << "\n" << r.out;
  }
  auto j = run("info --model " + (kModels / "llama3-tiny").string() + " --json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("\"family\": \"Llama\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"n_kv_head\": 1"), std::string::npos) << j.out;
  const auto neo = nlohmann::json::parse(run("info --model " + (kModels / "gpt-neo-tiny").string() + " --json").out);
  EXPECT_EQ(neo["attention_windows"], nlohmann::json::array({0, 8}));
  EXPECT_EQ(neo["params_total"], 71712) << neo.dump();
}

TEST(Cli, ErrorsAreOneLineAndExitNonZero) {
  test_util::TempDir tmp;
  const char bad[] = "\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ";
  test_util::write_file(tmp / "bad.safetensors", std::string(bad, sizeof bad - 1));
  auto r = run("forward --model " + (kModels / "gpt2-tiny").string() + " --input " + (tmp / "bad.safetensors").string() +
               " --output " + (tmp / "o.safetensors").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("entroscope: error: " + (tmp / "bad.safetensors").string() + ": header is not valid JSON", 0), 0u)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_FALSE(fs::exists(tmp / "o.safetensors"));

  auto m = run("info --model " + tmp.path().string());
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_NE(m.out.find("missing config.json"), std::string::npos) << m.out;

  EXPECT_EQ(run("forward --model x").exit_code, 2);  // usage error
  EXPECT_EQ(run("--help").exit_code, 0);
}

}  // namespace
