// Presets and synthetic checkpoints: published dimensions and parameter counts, the Hub layout the
// loader expects, deterministic values, atomic writing, and (through the CLI) synth + bench.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "common/json_file.h"
#include "common/temp_dir.h"
#include "io/safetensors.h"
#include "metrics/scorer.h"
#include "model/forward.h"
#include "model/presets.h"
#include "model/synth.h"

namespace fs = std::filesystem;
using namespace entroscope;
using entroscope::test_util::TempDir;

namespace {

model::ModelConfig preset_config(const std::string& name) {
  const model::Preset* p = model::find_preset(name);
  if (!p) throw std::runtime_error("no preset " + name);
  return model::parse_config(p->config, name);
}

model::SynthResult synth(const std::string& preset, const fs::path& out, std::uint64_t seed = 0,
                         io::DType dtype = io::DType::F32, bool force = false) {
  model::SynthOptions o;
  o.preset = preset;
  o.out = out;
  o.seed = seed;
  o.dtype = dtype;
  o.force = force;
  return model::synthesize(o);
}

std::string synth_error(const model::SynthOptions& o) {
  try {
    model::synthesize(o);
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }
  ADD_FAILURE() << "no error";
  return "";
}

// Runs a shell command, returns (exit code, stdout).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::vector<std::vector<std::int32_t>> random_ids(int B, int T, int V, std::uint32_t seed) {
  std::vector<std::vector<std::int32_t>> seqs(B, std::vector<std::int32_t>(T));
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& s : seqs)
    for (auto& id : s) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      id = static_cast<std::int32_t>(x % static_cast<std::uint32_t>(V));
    }
  return seqs;
}

}  // namespace

// ---- presets ----

// The published dimensions of a preset (config.json of its Hub repository).
struct PublishedShape {
  const char* name;
  model::Architecture arch;
  int d, heads, kv_heads, head_dim, layers, ff, vocab, ctx;
};

void expect_published_shape(const PublishedShape& w) {
  SCOPED_TRACE(w.name);
  model::ModelConfig c = preset_config(w.name);
  EXPECT_EQ(c.arch, w.arch);
  EXPECT_EQ(c.d_model, w.d);
  EXPECT_EQ(c.n_head, w.heads);
  EXPECT_EQ(c.n_kv_head, w.kv_heads);
  EXPECT_EQ(c.head_dim, w.head_dim);
  EXPECT_EQ(c.n_layer, w.layers);
  EXPECT_EQ(c.d_ff, w.ff);
  EXPECT_EQ(c.vocab_size, w.vocab);
  EXPECT_EQ(c.max_positions, w.ctx);
}

TEST(Presets, PublishedDimensions) {
  const PublishedShape wants[] = {
      {"gpt2", model::Architecture::kGpt2, 768, 12, 12, 64, 12, 3072, 50257, 1024},
      {"gpt2-medium", model::Architecture::kGpt2, 1024, 16, 16, 64, 24, 4096, 50257, 1024},
      {"gpt2-large", model::Architecture::kGpt2, 1280, 20, 20, 64, 36, 5120, 50257, 1024},
      {"gpt2-xl", model::Architecture::kGpt2, 1600, 25, 25, 64, 48, 6400, 50257, 1024},
      {"distilgpt2", model::Architecture::kGpt2, 768, 12, 12, 64, 6, 3072, 50257, 1024},
      {"pythia-160m", model::Architecture::kGptNeoX, 768, 12, 12, 64, 12, 3072, 50304, 2048},
      {"pythia-410m", model::Architecture::kGptNeoX, 1024, 16, 16, 64, 24, 4096, 50304, 2048},
      {"pythia-1b", model::Architecture::kGptNeoX, 2048, 8, 8, 256, 16, 8192, 50304, 2048},
  };
  for (const auto& w : wants) {
    expect_published_shape(w);
    model::ModelConfig c = preset_config(w.name);
    EXPECT_EQ(c.norm_eps, 1e-5);
    if (w.arch == model::Architecture::kGpt2) {
      EXPECT_EQ(c.activation, model::Activation::kGeluTanh);
      EXPECT_TRUE(c.tie_word_embeddings);
    } else {  // Pythia
      EXPECT_EQ(c.activation, model::Activation::kGeluErf);
      EXPECT_EQ(c.rotary_ndims, c.head_dim / 4);
      EXPECT_EQ(c.residual, model::ResidualWiring::kParallel);
      EXPECT_FALSE(c.tie_word_embeddings);
      EXPECT_EQ(c.rotary_base, 10000.0);
    }
  }
}

TEST(Presets, ParameterCountsMatchThePublishedModels) {
  // gpt2 124,439,808 ... pythia-1b 1,011,781,632 (GPT-2: tied head counted once; Pythia: embed_in
  // and embed_out both counted, as in the Pythia paper).
  int listed = 0;
  for (const auto& p : model::all_presets()) {
    if (p.hidden) continue;
    ++listed;
    SCOPED_TRACE(p.name);
    model::ModelConfig c = model::parse_config(p.config, p.name);
    EXPECT_EQ(c.parameter_count(), p.published_parameters);
    EXPECT_EQ(model::synth_parameter_count(model::synth_plan(c)), p.published_parameters);
  }
  EXPECT_EQ(listed, 21);
  EXPECT_EQ(model::find_preset("gpt2")->published_parameters, 124439808LL);
  EXPECT_EQ(model::find_preset("gpt2-medium")->published_parameters, 354823168LL);
  EXPECT_EQ(model::find_preset("pythia-160m")->published_parameters, 162322944LL);
  // The other families (transformers' num_parameters(): tied heads once).
  EXPECT_EQ(model::find_preset("gpt-j-6b")->published_parameters, 6050882784LL);
  EXPECT_EQ(model::find_preset("opt-350m")->published_parameters, 331196416LL);
  EXPECT_EQ(model::find_preset("llama-3.2-1b")->published_parameters, 1235814400LL);
  EXPECT_EQ(model::find_preset("smollm2-135m")->published_parameters, 134515008LL);
  EXPECT_EQ(model::find_preset("qwen2.5-0.5b")->published_parameters, 494032768LL);
  EXPECT_EQ(model::find_preset("mistral-7b")->published_parameters, 7241732096LL);
}

TEST(Presets, PublishedShapesOfTheOtherFamilies) {
  const PublishedShape wants[] = {
      {"gpt-neo-125m", model::Architecture::kGptNeo, 768, 12, 12, 64, 12, 3072, 50257, 2048},
      {"gpt-neo-1.3b", model::Architecture::kGptNeo, 2048, 16, 16, 128, 24, 8192, 50257, 2048},
      {"gpt-j-6b", model::Architecture::kGptJ, 4096, 16, 16, 256, 28, 16384, 50400, 2048},
      {"opt-125m", model::Architecture::kOpt, 768, 12, 12, 64, 12, 3072, 50272, 2048},
      {"opt-350m", model::Architecture::kOpt, 1024, 16, 16, 64, 24, 4096, 50272, 2048},
      {"opt-1.3b", model::Architecture::kOpt, 2048, 32, 32, 64, 24, 8192, 50272, 2048},
      {"llama-3.2-1b", model::Architecture::kLlama, 2048, 32, 8, 64, 16, 8192, 128256, 131072},
      {"smollm2-135m", model::Architecture::kLlama, 576, 9, 3, 64, 30, 1536, 49152, 8192},
      {"smollm2-360m", model::Architecture::kLlama, 960, 15, 5, 64, 32, 2560, 49152, 8192},
      {"qwen2.5-0.5b", model::Architecture::kQwen2, 896, 14, 2, 64, 24, 4864, 151936, 32768},
      {"qwen3-0.6b", model::Architecture::kQwen3, 1024, 16, 8, 128, 28, 3072, 151936, 40960},
      {"olmo-2-1b", model::Architecture::kOlmo2, 2048, 16, 16, 128, 16, 8192, 100352, 4096},
      {"mistral-7b", model::Architecture::kMistral, 4096, 32, 8, 128, 32, 14336, 32000, 32768},
  };
  for (const auto& w : wants) expect_published_shape(w);
  // The distinctive options.
  EXPECT_EQ(preset_config("gpt-neo-125m").layer_window[1], 256);
  EXPECT_EQ(preset_config("gpt-neo-125m").layer_window[0], 0);
  EXPECT_FALSE(preset_config("gpt-neo-125m").scale_attn_weights);
  EXPECT_EQ(preset_config("gpt-j-6b").rotary_ndims, 64);
  EXPECT_EQ(preset_config("gpt-j-6b").rotary_style, model::RotaryStyle::kInterleaved);
  EXPECT_TRUE(preset_config("gpt-j-6b").lm_head_bias);
  EXPECT_EQ(preset_config("opt-350m").embed_dim, 512);
  EXPECT_EQ(preset_config("opt-350m").residual, model::ResidualWiring::kPostLayerNorm);
  EXPECT_FALSE(preset_config("opt-350m").final_norm);
  EXPECT_EQ(preset_config("llama-3.2-1b").rope_scaling.type, model::RopeScaling::Type::kLlama3);
  EXPECT_EQ(preset_config("llama-3.2-1b").rope_scaling.factor, 32.0);
  EXPECT_TRUE(preset_config("qwen2.5-0.5b").q_bias);
  EXPECT_EQ(preset_config("qwen2.5-0.5b").layer_window, std::vector<int>(24, 0));  // use_sliding_window false
  EXPECT_EQ(preset_config("qwen3-0.6b").qk_norm, model::QkNorm::kPerHead);
  EXPECT_EQ(preset_config("olmo-2-1b").qk_norm, model::QkNorm::kFullProjection);
  EXPECT_EQ(preset_config("olmo-2-1b").residual, model::ResidualWiring::kPostNormInside);
  EXPECT_EQ(preset_config("mistral-7b").layer_window, std::vector<int>(32, 4096));
}

TEST(Presets, Gpt2FileHasTheHubFilesDataSize) {
  // The Hub's gpt2 model.safetensors: 124,439,808 F32 parameters + 12 F32 [1, 1, 1024, 1024] masks.
  std::uint64_t bytes = 0;
  for (const auto& t : model::synth_plan(preset_config("gpt2"))) bytes += t.num_elements() * 4;
  EXPECT_EQ(bytes, 124439808ull * 4 + 12ull * 1024 * 1024 * 4);
}

TEST(Presets, ListingAndLookup) {
  EXPECT_EQ(model::preset_names(),
            "gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, pythia-160m, pythia-410m, pythia-1b, gpt-neo-125m, "
            "gpt-neo-1.3b, gpt-j-6b, opt-125m, opt-350m, opt-1.3b, llama-3.2-1b, smollm2-135m, smollm2-360m, "
            "qwen2.5-0.5b, qwen3-0.6b, olmo-2-1b, mistral-7b");
  EXPECT_NE(model::preset_names(true).find("tiny-gpt2"), std::string::npos);
  EXPECT_EQ(model::find_preset("gpt-5"), nullptr);
  ASSERT_NE(model::find_preset("tiny-neox"), nullptr);
  EXPECT_TRUE(model::find_preset("tiny-neox")->hidden);
}

TEST(Presets, ConfigTextIsSortedIndentedJson) {
  std::string text = model::config_json_text(model::find_preset("gpt2")->config);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.rfind("{\n  \"activation_function\": \"gelu_new\",\n  \"architectures\": [\n    \"GPT2LMHeadModel\"\n  ],", 0),
            0u)
      << text;
  EXPECT_NE(text.find("\"layer_norm_epsilon\": 1e-05,"), std::string::npos) << text;
  EXPECT_NE(text.find("\"n_inner\": null,"), std::string::npos) << text;
}

// ---- values ----

TEST(Synth, NormalValuesDoNotDependOnChunking) {
  const std::uint64_t n = 1001;
  std::vector<float> whole(n), pieces(n);
  model::synth_normal(7, "h.0.mlp.c_fc.weight", 0.02, 0, n, whole.data());
  const std::uint64_t cuts[] = {0, 1, 2, 5, 100, 333, 334, 1000, 1001};
  for (std::size_t i = 0; i + 1 < std::size(cuts); ++i)
    model::synth_normal(7, "h.0.mlp.c_fc.weight", 0.02, cuts[i], cuts[i + 1] - cuts[i], pieces.data() + cuts[i]);
  EXPECT_EQ(std::memcmp(whole.data(), pieces.data(), n * sizeof(float)), 0);

  std::vector<float> other_seed(n), other_name(n);
  model::synth_normal(8, "h.0.mlp.c_fc.weight", 0.02, 0, n, other_seed.data());
  model::synth_normal(7, "h.1.mlp.c_fc.weight", 0.02, 0, n, other_name.data());
  EXPECT_NE(whole, other_seed);
  EXPECT_NE(whole, other_name);
}

TEST(Synth, NormalValuesHaveTheRequestedDistribution) {
  const std::size_t n = 1 << 20;
  std::vector<float> v(n);
  model::synth_normal(1, "wte.weight", 0.02, 0, n, v.data());
  double sum = 0, sq = 0, quartic = 0;
  for (float x : v) {
    sum += x;
    sq += double(x) * x;
    quartic += double(x) * x * x * x;
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.02 * 5 / std::sqrt(double(n)));
  EXPECT_NEAR(std::sqrt(var), 0.02, 0.02 * 0.005);
  EXPECT_NEAR(quartic / n / (var * var), 3.0, 0.05);  // kurtosis of a normal
}

// ---- writing and loading ----

class SynthTiny : public ::testing::TestWithParam<const char*> {};

TEST_P(SynthTiny, WritesACheckpointTheLoaderAcceptsWithRealisticEntropies) {
  TempDir tmp;
  const fs::path dir = tmp / "m";
  model::SynthResult r = synth(GetParam(), dir, 3);
  EXPECT_EQ(r.parameters, preset_config(GetParam()).parameter_count());
  EXPECT_EQ(fs::file_size(dir / "model.safetensors"), r.file_bytes);
  for (const auto& e : fs::directory_iterator(dir))  // no temporary files left
    EXPECT_TRUE(e.path().filename() == "config.json" || e.path().filename() == "model.safetensors") << e.path();

  // Hub layout: every tensor aligned, metadata names the preset.
  io::SafetensorsFile f(dir / "model.safetensors");
  for (const auto& t : f.header().tensors) EXPECT_EQ(t.file_offset % 4, 0u) << t.name;
  EXPECT_EQ(f.header().metadata.at("format"), "pt");
  EXPECT_EQ(f.header().metadata.at("entroscope_synth"), GetParam());
  const model::ModelConfig config = preset_config(GetParam());
  if (config.arch == model::Architecture::kGpt2) {
    EXPECT_NE(f.find("h.0.attn.bias"), nullptr);  // mask buffer, as in the Hub's file
    EXPECT_EQ(f.find("lm_head.weight"), nullptr);
    EXPECT_EQ(f.find("transformer.wte.weight"), nullptr);
    auto mask = io::read_as_f32(f, *f.find("h.1.attn.bias"));
    EXPECT_EQ(mask[0], 1.0f);
    EXPECT_EQ(mask[1], 0.0f);
    EXPECT_EQ(mask[128 + 1], 1.0f);
    EXPECT_EQ(mask[128 * 128 - 1], 1.0f);
  } else if (config.arch == model::Architecture::kGptNeoX) {
    EXPECT_NE(f.find("embed_out.weight"), nullptr);
  }
  // No tied copy is written.
  if (config.tie_word_embeddings) {
    EXPECT_EQ(f.find("lm_head.weight"), nullptr);
  }
  // Every tensor of the table under the family's first prefix, with HF init: norms 1 (layer 0;
  // post-LN OPT's last block norm carries the logit gain), biases 0.
  const std::string prefix = model::family_info(config.arch).base_prefixes.front();
  std::size_t parameters = 0;
  for (const auto& e : model::tensor_table(config)) {
    if (e.role == model::Role::kTiedCopy) continue;
    const std::string name = e.top_level ? e.name : prefix + e.name;
    ASSERT_NE(f.find(name), nullptr) << name;
    if (e.parameter()) ++parameters;
    if (e.layer != 0) continue;
    const auto values = io::read_as_f32(f, *f.find(name));
    if (e.init == model::SynthInit::kOnes) {
      for (float v : values) ASSERT_EQ(v, 1.0f) << name;
    }
    if (e.init == model::SynthInit::kZeros) {
      for (float v : values) ASSERT_EQ(v, 0.0f) << name;
    }
  }
  EXPECT_EQ(parameters, r.tensors - (config.arch == model::Architecture::kGpt2 ? config.n_layer : 0));

  model::Model m = model::load_model(dir);
  const auto& c = m.config;
  metrics::Scorer scorer(m);
  auto scores = scorer.score(random_ids(3, 40, c.vocab_size, 11));
  std::vector<double> all;
  for (const auto& s : scores) {
    for (double h : s.entropy_bits) {
      EXPECT_TRUE(std::isfinite(h));
      EXPECT_GT(h, 0.0);
      EXPECT_LT(h, std::log2(double(c.vocab_size)));
      all.push_back(h);
    }
    for (double s2 : s.surprisal_bits) EXPECT_TRUE(std::isfinite(s2));
  }
  std::sort(all.begin(), all.end());
  // Not uniform-like: the median is well below log2 V, and positions differ.
  EXPECT_LT(all[all.size() / 2], std::log2(double(c.vocab_size)) - 1.0);
  EXPECT_GT(all.back() - all.front(), 0.5);
}

INSTANTIATE_TEST_SUITE_P(Presets, SynthTiny,
                         ::testing::Values("tiny-gpt2", "tiny-neox", "tiny-gpt-neo", "tiny-gptj", "tiny-opt",
                                           "tiny-opt-350m", "tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-qwen3",
                                           "tiny-olmo2"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

TEST(Synth, SameSeedSameBytesOtherSeedOtherBytes) {
  TempDir tmp;
  synth("tiny-neox", tmp / "a", 5);
  synth("tiny-neox", tmp / "b", 5);
  synth("tiny-neox", tmp / "c", 6);
  const std::string a = test_util::read_file(tmp / "a" / "model.safetensors");
  EXPECT_EQ(a, test_util::read_file(tmp / "b" / "model.safetensors"));
  EXPECT_NE(a, test_util::read_file(tmp / "c" / "model.safetensors"));
  EXPECT_EQ(test_util::read_file(tmp / "a" / "config.json"), test_util::read_file(tmp / "c" / "config.json"));
}

TEST(Synth, HalfPrecisionCheckpointsAreTheF32OneRounded) {
  TempDir tmp;
  synth("tiny-gpt2", tmp / "f32", 1, io::DType::F32);
  synth("tiny-gpt2", tmp / "f16", 1, io::DType::F16);
  synth("tiny-gpt2", tmp / "bf16", 1, io::DType::BF16);
  io::SafetensorsFile f32(tmp / "f32" / "model.safetensors");
  io::SafetensorsFile f16(tmp / "f16" / "model.safetensors");
  io::SafetensorsFile bf16(tmp / "bf16" / "model.safetensors");
  EXPECT_EQ(read_json_file(tmp / "f16" / "config.json")["torch_dtype"], "float16");
  EXPECT_EQ(read_json_file(tmp / "bf16" / "config.json")["torch_dtype"], "bfloat16");
  for (const char* name : {"wte.weight", "h.1.mlp.c_proj.weight", "ln_f.weight"}) {
    SCOPED_TRACE(name);
    auto a = io::read_as_f32(f32, f32.at(name));
    auto h = io::read_as_f32(f16, f16.at(name));
    auto b = io::read_as_f32(bf16, bf16.at(name));
    EXPECT_EQ(f16.at(name).dtype, io::DType::F16);
    EXPECT_EQ(bf16.at(name).dtype, io::DType::BF16);
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(h[i], io::f16_to_f32(io::f32_to_f16(a[i])));
      ASSERT_EQ(b[i], io::bf16_to_f32(io::f32_to_bf16(a[i])));
    }
  }
  model::Model m = model::load_model(tmp / "bf16");  // decoded to fp32 on load
  metrics::Scorer scorer(m);
  const auto scores = scorer.score(random_ids(1, 16, m.config.vocab_size, 2));
  for (double h : scores[0].entropy_bits) EXPECT_TRUE(std::isfinite(h));
}

TEST(Synth, RefusesToOverwriteWithoutForce) {
  TempDir tmp;
  synth("tiny-gpt2", tmp / "m", 1);
  const std::string before = test_util::read_file(tmp / "m" / "model.safetensors");
  model::SynthOptions o;
  o.preset = "tiny-neox";
  o.out = tmp / "m";
  EXPECT_NE(synth_error(o).find("already holds a model"), std::string::npos);
  EXPECT_EQ(test_util::read_file(tmp / "m" / "model.safetensors"), before);
  synth("tiny-neox", tmp / "m", 1, io::DType::F32, /*force=*/true);
  EXPECT_EQ(model::load_model(tmp / "m").config.arch, model::Architecture::kGptNeoX);
}

TEST(Synth, BadArgumentsGiveOneLineErrors) {
  TempDir tmp;
  model::SynthOptions o;
  o.preset = "gpt-5";
  o.out = tmp / "x";
  std::string msg = synth_error(o);
  EXPECT_NE(msg.find("unknown preset 'gpt-5'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gpt2-medium"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp / "x"));

  o.preset = "tiny-gpt2";
  o.dtype = io::DType::I64;
  EXPECT_NE(synth_error(o).find("not supported"), std::string::npos);

  test_util::write_file(tmp / "file", "x");
  o.dtype = io::DType::F32;
  o.out = tmp / "file";
  EXPECT_NE(synth_error(o).find("not a directory"), std::string::npos);
}

// ---- CLI ----

TEST(SynthCli, SynthThenBenchPrintsOneJsonLine) {
  TempDir tmp;
  const std::string bin = ES_BINARY;
  const std::string dir = (tmp / "tiny").string();
  auto [rc, out] = run(bin + " synth --preset tiny-gpt2 --out " + dir + " --seed 4 --quiet 2>&1");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_TRUE(out.empty()) << out;
  ASSERT_TRUE(fs::exists(tmp / "tiny" / "config.json"));

  auto [rc2, out2] = run(bin + " bench --model " + dir + " --batch 2 --tokens 24 --reps 3 --threads 1 2>&1");
  ASSERT_EQ(rc2, 0) << out2;
  ASSERT_EQ(std::count(out2.begin(), out2.end(), '\n'), 1) << out2;
  auto j = nlohmann::json::parse(out2);
  EXPECT_EQ(j["batch"], 2);
  EXPECT_EQ(j["tokens"], 24);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["times_s"].size(), 3u);
  EXPECT_GT(j["median_s"].get<double>(), 0.0);
  EXPECT_NEAR(j["tokens_per_s"].get<double>(), 48.0 / j["median_s"].get<double>(), 1e-6 * j["tokens_per_s"].get<double>());
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 1.0);
  EXPECT_GE(j["load_s"].get<double>(), 0.0);
  EXPECT_GT(j["entropy_bits_min"].get<double>(), 0.0);
  EXPECT_LT(j["entropy_bits_max"].get<double>(), std::log2(1001.0));

  auto [rc3, out3] = run(bin + " bench --model " + dir + " --batch 1 --tokens 32 --reps 1 --sgemm 2>&1");
  ASSERT_EQ(rc3, 0) << out3;
  auto s = nlohmann::json::parse(out3);
  EXPECT_EQ(s["m"], 32);
  EXPECT_EQ(s["shapes"].size(), 5u);
  EXPECT_GT(s["limit_gflops_per_s"].get<double>(), 0.0);
}

TEST(SynthCli, BadArgumentsFailWithOneLine) {
  TempDir tmp;
  const std::string bin = ES_BINARY;
  auto [rc, out] = run(bin + " synth --preset nope --out " + (tmp / "x").string() + " 2>&1");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("unknown preset 'nope'"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;

  ASSERT_EQ(run(bin + " synth --preset tiny-neox --quiet --out " + (tmp / "m").string()).first, 0);
  auto [rc2, out2] = run(bin + " bench --model " + (tmp / "m").string() + " --tokens 4096 2>&1");
  EXPECT_EQ(rc2, 1) << out2;
  EXPECT_NE(out2.find("exceeds the model's context of 128"), std::string::npos) << out2;
}
