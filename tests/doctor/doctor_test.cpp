// doctor: misalignment reported per tensor, injected NaN located, fp16 overflow found where fp32
// is fine, a corrupted layer in a reference dump localized, exit codes.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sys/wait.h>

#include "common/checkpoint_edit.h"
#include "common/temp_dir.h"
#include "common/json_file.h"
#include "doctor/doctor.h"

namespace fs = std::filesystem;
using namespace entroscope;
using test_util::TempDir;

namespace {

const fs::path kModels = fs::path(ES_TEST_DATA_DIR) / "models";

bool has_finding(const doctor::Report& r, doctor::Severity s, const std::string& section, const std::string& text) {
  for (const auto& f : r.findings)
    if (f.severity == s && f.section == section && f.message.find(text) != std::string::npos) return true;
  return false;
}

std::string all_findings(const doctor::Report& r) {
  std::string s;
  for (const auto& f : r.findings) s += std::string(doctor::severity_name(f.severity)) + " " + f.section + ": " + f.message + "\n";
  return s;
}

doctor::Report run_on(const fs::path& dir) {
  doctor::DoctorOptions o;
  o.model_dir = dir;
  return doctor::run_doctor(o);
}

TEST(Doctor, ReportsMisalignmentPerTensorAndStaysExact) {
  doctor::Report r = run_on(kModels / "gpt2-tiny-unaligned");
  EXPECT_NE(r.worst(), doctor::Severity::kProblem) << all_findings(r);
  EXPECT_TRUE(has_finding(r, doctor::Severity::kWarning, "files", "43 of 43 tensors sit at file offsets not aligned"))
      << all_findings(r);
  const auto& tensors = r.sections["files"][0]["tensors"];
  ASSERT_EQ(tensors.size(), 43u);
  for (const auto& t : tensors) {
    EXPECT_EQ(t["offset_mod_4"].get<int>(), 2) << t["name"];
    EXPECT_FALSE(t["aligned_for_dtype"].get<bool>());
  }
  // entroscope's own fp32 forward agrees with float64 on this file.
  const auto& fp32 = r.sections["precision"]["paths"][0];
  EXPECT_LT(fp32["max_abs_dlogit_vs_f64"].get<double>(), 2e-4);

  doctor::Report aligned = run_on(kModels / "gpt2-tiny");
  EXPECT_EQ(aligned.worst(), doctor::Severity::kOk) << all_findings(aligned);
}

TEST(Doctor, NamesTheNaNTensorAndWhereTheForwardGoesNonFinite) {
  TempDir tmp;
  test_util::copy_model_dir(kModels / "neox-tiny", tmp.path());
  test_util::rewrite_safetensors(tmp / "model.safetensors", [](auto& t) {
    t["gpt_neox.layers.1.attention.dense.weight"].second[100] = INFINITY;
  });
  doctor::Report r = run_on(tmp.path());
  EXPECT_EQ(r.worst(), doctor::Severity::kProblem);
  EXPECT_TRUE(has_finding(r, doctor::Severity::kProblem, "weights",
                          "gpt_neox.layers.1.attention.dense.weight: 0 NaN and 1 Inf values"))
      << all_findings(r);
  // dense.weight [D, D] row 1 (output channel 1), column 4: attn.out of layer 1 channel 1.
  EXPECT_TRUE(has_finding(r, doctor::Severity::kProblem, "activations",
                          "first non-finite value: layer 1 attn.out, token position 0, channel 1"))
      << all_findings(r);
  const auto& first = r.sections["activations"]["first_non_finite"];
  EXPECT_EQ(first["layer"].get<int>(), 1);
  EXPECT_EQ(first["step"].get<std::string>(), "attn.out");
}

TEST(Doctor, Fp16EmulationFindsResidualOverflowThatFp32Survives) {
  TempDir tmp;
  test_util::copy_model_dir(kModels / "gpt2-tiny", tmp.path());
  // GPT-2's real residual stream carries activations in the thousands; push this one there.
  test_util::rewrite_safetensors(tmp / "model.safetensors", [](auto& t) {
    for (float& w : t["h.0.mlp.c_proj.weight"].second) w *= 20000.0f;
  });
  doctor::Report r = run_on(tmp.path());
  EXPECT_NE(r.worst(), doctor::Severity::kProblem) << all_findings(r);
  EXPECT_TRUE(has_finding(r, doctor::Severity::kOk, "activations", "all 33 steps finite")) << all_findings(r);
  EXPECT_TRUE(has_finding(r, doctor::Severity::kWarning, "precision", "fp16 (emulated) would overflow: first |x| beyond its range at layer 0 mlp.out"))
      << all_findings(r);
  EXPECT_FALSE(has_finding(r, doctor::Severity::kWarning, "precision", "bf16 (emulated) would overflow")) << all_findings(r);
}

TEST(Doctor, CompareLocalizesACorruptedLayer) {
  const fs::path fixture = kModels / "gpt2-tiny";
  doctor::DoctorOptions o;
  o.model_dir = fixture;
  o.compare = fixture / "expected.safetensors";  // the float64 goldens are an HF-layout dump
  doctor::Report good = doctor::run_doctor(o);
  EXPECT_TRUE(has_finding(good, doctor::Severity::kOk, "compare", "5 tensors agree")) << all_findings(good);

  TempDir tmp;
  fs::copy_file(fixture / "expected.safetensors", tmp / "ref.safetensors");
  test_util::rewrite_safetensors(tmp / "ref.safetensors", [](auto& t) {
    auto& h = t["hidden.2"].second;
    for (std::size_t i = 64 * 10; i < 64 * 11; ++i) h[i] += 0.5f;  // token 10 of row 0
  });
  o.compare = tmp / "ref.safetensors";
  doctor::Report bad = doctor::run_doctor(o);
  EXPECT_TRUE(has_finding(bad, doctor::Severity::kProblem, "compare",
                          "first divergence beyond tolerance: hidden.2 (max |Δ| 0.5"))
      << all_findings(bad);
  EXPECT_TRUE(has_finding(bad, doctor::Severity::kProblem, "compare", "token position 10")) << all_findings(bad);
}

int exit_code_of(const std::string& args) {
  std::string cmd = std::string(ES_BINARY) + " " + args + " > /dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(DoctorCli, ExitCodes) {
  EXPECT_EQ(exit_code_of("doctor " + (kModels / "gpt2-tiny-unaligned").string()), 0);
  TempDir tmp;
  test_util::copy_model_dir(kModels / "gpt2-tiny", tmp.path());
  test_util::rewrite_safetensors(tmp / "model.safetensors", [](auto& t) { t["wpe.weight"].second[0] = NAN; });
  EXPECT_EQ(exit_code_of("doctor " + tmp.path().string() + " --json"), 1);
  EXPECT_EQ(exit_code_of("doctor"), 2);
  EXPECT_EQ(exit_code_of("doctor " + tmp.path().string() + " --no-such-flag"), 2);
}

// Every family: healthy, fp32 within its fixture's logit tolerance of float64, the family's own
// steps in the activation trace, and every tensor's role from the architecture's table.
class DoctorFamily : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(DoctorFamily, TracesTheFamilysStepsAndLabelsEveryTensor) {
  const auto [fixture, step] = GetParam();
  doctor::Report r = run_on(kModels / fixture);
  EXPECT_EQ(r.worst(), doctor::Severity::kOk) << all_findings(r);
  const double tol = read_json_file(kModels / fixture / "expected.json")["tolerances"]["logits_atol"];
  EXPECT_LT(r.sections["precision"]["paths"][0]["max_abs_dlogit_vs_f64"].get<double>(), tol);
  bool seen = false;
  for (const auto& s : r.sections["activations"]["steps"]) seen |= s["step"] == step;
  EXPECT_TRUE(seen) << fixture << " lacks step " << step;
  for (const auto& t : r.sections["weights"]["tensors"]) {
    const std::string role = t["role"];
    EXPECT_EQ(role.find("not in the architecture"), std::string::npos) << t["name"];
  }
}

INSTANTIATE_TEST_SUITE_P(
    Families, DoctorFamily,
    ::testing::Values(std::pair{"gpt-neo-tiny", "attn.context"}, std::pair{"gptj-tiny", "residual"},
                      std::pair{"opt-350m-tiny", "project_out"}, std::pair{"opt-tiny", "residual.mlp"},
                      std::pair{"llama3-tiny", "mlp.gate"}, std::pair{"mistral-tiny", "attn.rotary"},
                      std::pair{"qwen2-tiny", "attn.qkv"}, std::pair{"qwen3-tiny", "attn.qk_norm"},
                      std::pair{"olmo2-tiny", "attn.post_norm"}),
    [](const auto& info) {
      std::string s = info.param.first;
      for (char& ch : s)
        if (ch == '-') ch = '_';
      return s;
    });

}  // namespace
