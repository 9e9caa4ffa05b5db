// `entroscope synth` killed while writing (SIGKILL between tensors, and after the weights but
// before config.json): the directory never looks finished (no config.json), and running the same
// command again, without --force, writes the same bytes as an uninterrupted synth.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "common/durable_file.h"
#include "common/temp_dir.h"

namespace fs = std::filesystem;

namespace {

int run_status(const std::string& command) {
  const int status = std::system((command + " > /dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(SynthKill, KilledThenRerunWritesTheSameModel) {
  entroscope::test_util::TempDir dir;
  const std::string synth = std::string(ES_BINARY) + " synth --preset tiny-gpt2 --seed 3 --quiet --threads 1 --out ";
  ASSERT_EQ(run_status(synth + (dir / "clean").string()), 0);
  const std::string weights = read(dir / "clean" / "model.safetensors");
  const std::string config = read(dir / "clean" / "config.json");
  ASSERT_GT(weights.size(), 1000u);

  for (const char* point : {"synth-tensor-written#3", "synth-weights-committed"}) {
    const fs::path out = dir / (std::string("case-") + point).substr(0, 24);
    const int killed = run_status(std::string("ENTROSCOPE_FAULT_POINT='") + point + "' " + synth + out.string());
    ASSERT_NE(killed, 0) << point << ": the fault point was not reached";
    EXPECT_FALSE(fs::exists(out / "config.json")) << point;  // never looks finished
    ASSERT_EQ(run_status(synth + out.string()), 0) << point << ": the rerun (no --force) failed";
    EXPECT_EQ(read(out / "model.safetensors"), weights) << point;
    EXPECT_EQ(read(out / "config.json"), config) << point;
    for (const auto& e : fs::directory_iterator(out)) {
      const std::string name = e.path().filename().string();
      EXPECT_TRUE(name == "model.safetensors" || name == "config.json") << point << ": left " << name;
    }
  }
  // A finished model is still protected.
  EXPECT_NE(run_status(synth + (dir / "clean").string()), 0);
}
