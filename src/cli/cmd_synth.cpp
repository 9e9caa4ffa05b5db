// entroscope synth: a random-initialized checkpoint of a published model's shape, in the Hub file
// layout (config.json + model.safetensors), to test a machine before downloading gigabytes.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "model/presets.h"
#include "model/synth.h"

namespace entroscope::cli {

namespace {

struct SynthArgs {
  std::string preset;
  std::string out;
  std::uint64_t seed = 0;
  std::string dtype = "f32";
  bool force = false;
  bool quiet = false;
  int threads = 0;
};

io::DType parse_synth_dtype(const std::string& s) {
  if (s == "f32" || s == "float32") return io::DType::F32;
  if (s == "f16" || s == "float16") return io::DType::F16;
  if (s == "bf16" || s == "bfloat16") return io::DType::BF16;
  fail("--dtype {}: expected f32, f16 or bf16", s);
}

void run_synth(const SynthArgs& args) {
  apply_thread_count(args.threads);
  model::SynthOptions o;
  o.preset = args.preset;
  o.out = args.out;
  o.seed = args.seed;
  o.dtype = parse_synth_dtype(args.dtype);
  o.force = args.force;
  const bool show_progress = !args.quiet && ::isatty(STDERR_FILENO);
  int last_percent = -1;
  if (show_progress) {
    o.progress = [&last_percent](std::uint64_t done, std::uint64_t total) {
      int percent = static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total));
      if (percent == last_percent) return;
      last_percent = percent;
      fmt::print(stderr, "\rsynth: {:3d}% of {:.2f} GB", percent, total / 1e9);
      std::fflush(stderr);
    };
  }
  auto start = std::chrono::steady_clock::now();
  model::SynthResult r;
  try {
    r = model::synthesize(o);
  } catch (...) {
    if (show_progress) fmt::print(stderr, "\n");
    throw;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (show_progress) fmt::print(stderr, "\n");
  if (!args.quiet)
    fmt::print("wrote {} ({} parameters, {}, random init, seed {}) to {}: model.safetensors {:.1f} MB in {:.1f} s\n",
               args.preset, r.parameters, args.dtype, args.seed, r.dir.string(), r.file_bytes / 1e6, seconds);
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* cmd = app.add_subcommand(
      "synth",
      "Write a random-initialized checkpoint with a published model's exact shape, in the Hugging Face\n"
      "  Hub file layout (config.json + model.safetensors), to test a machine before downloading gigabytes.\n"
      "  Weights are transformers-style random init (N(0, 0.02), scaled residual projections, LayerNorm 1/0,\n"
      "  final LayerNorm sharpened so entropies land in a realistic range): the numbers mean nothing, the\n"
      "  speed and memory are the real model's. Written streaming and atomically; deterministic per --seed.\n"
      "  Presets: " + model::preset_names() + ".\n"
      "  Example: entroscope synth --preset gpt2-medium --out /tmp/gpt2-medium-synth");
  cmd->add_option("--preset", args->preset, "Model shape: " + model::preset_names())->required();
  cmd->add_option("--out", args->out, "Directory for config.json and model.safetensors (created if needed)")->required();
  cmd->add_option("--seed", args->seed, "Random seed (same seed, same bytes)")->default_val(0);
  cmd->add_option("--dtype", args->dtype, "Storage dtype: f32, f16 or bf16 (computation is always fp32)")
      ->default_val("f32");
  cmd->add_flag("--force", args->force, "Replace a model already in --out");
  cmd->add_flag("--quiet", args->quiet, "No progress or summary output");
  cmd->add_option("--threads", args->threads, "Threads for generating the values (0 = all cores)")->default_val(0);
  cmd->callback([args] { run_synth(*args); });
}

}  // namespace entroscope::cli
