// entroscope bench: how fast this machine scores with a model (logits -> per-token entropy and
// surprisal, nothing written), and, with --sgemm, what plain BLAS sgemm attains on the same GEMM
// shapes (the machine's limit for the forward pass). Prints one JSON line.
#include <cblas.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "common/aligned_buffer.h"
#include "common/error.h"
#include "io/safetensors.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"
#include "metrics/scorer.h"
#include "model/architecture.h"
#include "model/memory_plan.h"
#include "model/config.h"

// The BLAS's own thread-count setters (weak: whichever BLAS is linked). entroscope keeps its BLAS
// single-threaded (kernels parallelize on their own pool); --sgemm gives plain sgemm all N threads.
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
void bli_thread_set_num_threads(long) __attribute__((weak));
}

namespace entroscope::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model;
  int batch = 1;
  int tokens = 1024;
  int threads = 0;
  int reps = 5;
  int warmup = 1;
  std::uint64_t seed = 0;
  std::string ids;
  bool sgemm = false;
  std::string device = "cpu";
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_bytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) * 1024.0;  // Linux: kilobytes
}

void check_shape(const BenchArgs& a, const model::ModelConfig& c) {
  if (a.batch <= 0) fail("--batch must be positive, got {}", a.batch);
  if (a.tokens <= 0) fail("--tokens must be positive, got {}", a.tokens);
  if (a.tokens > c.max_positions)
    fail("--tokens {} exceeds the model's context of {} positions", a.tokens, c.max_positions);
  if (a.reps <= 0) fail("--reps must be positive, got {}", a.reps);
  if (a.warmup < 0) fail("--warmup must be >= 0, got {}", a.warmup);
}

// ---- --sgemm: plain cblas_sgemm on the forward's GEMM shapes ----

void run_sgemm(const BenchArgs& a) {
  const model::ModelConfig c = model::load_config(a.model);
  check_shape(a, c);
  const int threads = kernels::thread_count();
  if (openblas_set_num_threads) openblas_set_num_threads(threads);
  if (bli_thread_set_num_threads) bli_thread_set_num_threads(threads);
  const int M = a.batch * a.tokens;
  // The forward's GEMMs, from the architecture's tensor table.
  const std::vector<model::GemmShape> shapes = model::forward_gemms(c);
  std::size_t max_a = 0, max_b = 0, max_c = 0;
  for (const auto& s : shapes) {
    max_a = std::max(max_a, static_cast<std::size_t>(M) * s.K);
    max_b = std::max(max_b, static_cast<std::size_t>(s.K) * s.N);
    max_c = std::max(max_c, static_cast<std::size_t>(M) * s.N);
  }
  AlignedBuffer<float> A(max_a), Bm(max_b), C(max_c);
  std::mt19937 rng(static_cast<std::uint32_t>(a.seed));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (std::size_t i = 0; i < max_a; ++i) A.data()[i] = nd(rng);
  for (std::size_t i = 0; i < max_b; ++i) Bm.data()[i] = 0.02f * nd(rng);
  std::fill(C.data(), C.data() + max_c, 0.0f);

  nlohmann::ordered_json out;
  out["command"] = "bench --sgemm";
  out["model"] = a.model;
  out["model_type"] = model::architecture_name(c.arch);
  out["m"] = M;
  out["threads"] = threads;
  out["blas"] = kernels::blas_name();
  out["gemm_kernel"] = std::string(kernels::gemm_kernel_name());
  out["blas_threads"] = threads;  // the BLAS's own pool, one call at a time
  out["reps"] = a.reps;
  nlohmann::json shape_rows = nlohmann::json::array();
  double total_flops = 0.0, limit_s = 0.0, best = 0.0;
  for (const auto& s : shapes) {
    const int ldb = s.stored_out_in ? s.K : s.N;
    auto once = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, s.stored_out_in ? CblasTrans : CblasNoTrans, M, s.N, s.K, 1.0f, A.data(),
                  s.K, Bm.data(), ldb, 0.0f, C.data(), s.N);
    };
    for (int w = 0; w < std::max(1, a.warmup); ++w) once();
    std::vector<double> times;
    for (int r = 0; r < a.reps; ++r) {
      auto t0 = Clock::now();
      once();
      times.push_back(seconds_since(t0));
    }
    const double t = median(times);
    const double flops = 2.0 * M * static_cast<double>(s.K) * s.N;
    total_flops += flops * s.count;
    limit_s += t * s.count;
    best = std::max(best, flops / t);
    shape_rows.push_back({{"name", s.name}, {"m", M}, {"k", s.K}, {"n", s.N}, {"trans_b", s.stored_out_in},
                          {"count", s.count}, {"median_s", t}, {"gflops_per_s", flops / t / 1e9}});
  }
  out["shapes"] = shape_rows;
  out["gemm_gflop"] = total_flops / 1e9;
  out["limit_s"] = limit_s;
  out["limit_gflops_per_s"] = total_flops / limit_s / 1e9;
  out["best_shape_gflops_per_s"] = best / 1e9;
  kernels::blas_single_threaded();
  fmt::print("{}\n", out.dump());
}

// ---- scoring ----

std::vector<std::vector<std::int32_t>> read_ids(const std::string& path, int vocab) {
  io::SafetensorsFile in(path);
  const io::TensorInfo* info = in.find("input_ids");
  if (!info) fail("{}: no tensor 'input_ids' (expected I64 [B, T])", path);
  if (info->shape.size() != 2 || info->shape[0] <= 0 || info->shape[1] <= 0)
    fail("{}: input_ids has shape {}, expected [B, T]", path, info->shape_string());
  const auto B = info->shape[0], T = info->shape[1];
  std::vector<std::int64_t> flat = io::read_as_i64(in, *info);
  std::vector<std::vector<std::int32_t>> seqs(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t t = 0; t < T; ++t) {
      std::int64_t v = flat[static_cast<std::size_t>(b * T + t)];
      if (v < 0 || v >= vocab) fail("{}: input_ids[{}, {}] = {} is outside the vocabulary [0, {})", path, b, t, v, vocab);
      seqs[static_cast<std::size_t>(b)].push_back(static_cast<std::int32_t>(v));
    }
  }
  return seqs;
}

void run_score(BenchArgs a, bool batch_given, bool tokens_given) {
  auto t_load = Clock::now();
  model::Model m = load_model_arg(a.model);
  const double load_s = seconds_since(t_load);
  const model::ModelConfig& c = m.config;

  std::vector<std::vector<std::int32_t>> seqs;
  if (!a.ids.empty()) {
    seqs = read_ids(a.ids, c.vocab_size);
    const int B = static_cast<int>(seqs.size()), T = static_cast<int>(seqs[0].size());
    if ((batch_given && B != a.batch) || (tokens_given && T != a.tokens))
      fail("{}: input_ids is [{}, {}] but --batch {} --tokens {} were given", a.ids, B, T, a.batch, a.tokens);
    a.batch = B;
    a.tokens = T;
  }
  check_shape(a, c);
  if (seqs.empty()) {
    std::mt19937_64 rng(a.seed);
    std::uniform_int_distribution<std::int32_t> tok(0, c.vocab_size - 1);
    seqs.assign(static_cast<std::size_t>(a.batch), std::vector<std::int32_t>(static_cast<std::size_t>(a.tokens)));
    for (auto& s : seqs)
      for (auto& id : s) id = tok(rng);
  }

  const kernels::Device device = chosen_device(a.device, "bench");
  const auto upload_start = Clock::now();
  metrics::Scorer scorer(m, static_cast<std::size_t>(a.batch) * a.tokens, device);  // one forward call per rep
  const double upload_s = device == kernels::Device::kCuda ? seconds_since(upload_start) : 0.0;
  std::vector<metrics::SequenceScores> scores;
  std::vector<double> warm_times, times;
  for (int w = 0; w < a.warmup; ++w) {
    auto t0 = Clock::now();
    scores = scorer.score(seqs);
    warm_times.push_back(seconds_since(t0));
  }
  for (int r = 0; r < a.reps; ++r) {
    auto t0 = Clock::now();
    scores = scorer.score(seqs);
    times.push_back(seconds_since(t0));
  }
  const double rss = peak_rss_bytes();

  std::vector<double> entropy;
  double surprisal_sum = 0.0;
  std::size_t surprisal_n = 0;
  for (const auto& s : scores) {
    entropy.insert(entropy.end(), s.entropy_bits.begin(), s.entropy_bits.end());
    for (double v : s.surprisal_bits) surprisal_sum += v;
    surprisal_n += s.surprisal_bits.size();
  }
  const double med = median(times);
  const double tokens = static_cast<double>(a.batch) * a.tokens;
  const double flops = model::forward_flops(c, a.batch, a.tokens);

  nlohmann::ordered_json out;
  out["command"] = "bench";
  out["model"] = m.name;
  out["model_type"] = model::architecture_name(c.arch);
  out["family"] = model::family_name(c.arch);
  out["parameters"] = c.parameter_count();
  out["weight_bytes_fp32"] = static_cast<double>(c.parameter_count()) * 4.0;
  const model::WeightMemory memory = model::weight_memory(c, *m.checkpoint);
  out["weight_matrix_dtype"] = memory.matrix_dtype;
  out["resident_weight_bytes"] = memory.resident_bytes();
  out["batch"] = a.batch;
  out["tokens"] = a.tokens;
  out["threads"] = kernels::thread_count();
  out["device"] = kernels::device_name(device);
  if (device == kernels::Device::kCuda) {
    out["device_name"] = kernels::cuda_device_description();
    out["upload_s"] = upload_s;  // weights to the GPU (float32), once
  }
  out["blas"] = kernels::blas_name();
  out["gemm_kernel"] = std::string(kernels::gemm_kernel_name());
  out["reps"] = a.reps;
  out["median_s"] = med;
  out["min_s"] = *std::min_element(times.begin(), times.end());
  out["max_s"] = *std::max_element(times.begin(), times.end());
  out["times_s"] = times;
  out["warmup_s"] = warm_times;
  out["tokens_per_s"] = tokens / med;
  out["forward_gflop"] = flops / 1e9;
  out["gflops_per_s"] = flops / med / 1e9;
  out["peak_rss_mb"] = rss / 1e6;
  out["load_s"] = load_s;
  out["entropy_bits_median"] = median(entropy);
  out["entropy_bits_min"] = *std::min_element(entropy.begin(), entropy.end());
  out["entropy_bits_max"] = *std::max_element(entropy.begin(), entropy.end());
  out["surprisal_bits_mean"] = surprisal_n ? surprisal_sum / static_cast<double>(surprisal_n) : 0.0;
  fmt::print("{}\n", out.dump());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time scoring on this machine: B sequences of T token ids -> logits -> per-token entropy and surprisal\n"
      "  (nothing written), repeated --reps times after --warmup runs. Prints one JSON line: median seconds,\n"
      "  tokens/s, GFLOP/s of the forward pass, peak RSS (getrusage), load time, entropy range.\n"
      "  With --sgemm: time plain BLAS sgemm (the BLAS's own N-thread pool) on the forward's GEMM shapes\n"
      "  (M = B x T) instead: the machine's attainable limit (only config.json is read).\n"
      "  Example: entroscope synth --preset gpt2 --out /tmp/gpt2-synth &&\n"
      "           entroscope bench --model /tmp/gpt2-synth --batch 1 --tokens 1024 --threads 2");
  cmd->add_option("model,--model", args->model, "Model directory (config.json + model.safetensors), demo name or Hub id (positional or --model)")
      ->required();
  CLI::Option* batch = cmd->add_option("--batch", args->batch, "Sequences per forward pass (B)")->default_val(1);
  CLI::Option* tokens = cmd->add_option("--tokens", args->tokens, "Tokens per sequence (T)")->default_val(1024);
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores; with --sgemm, the BLAS's own threads)")->default_val(0);
  cmd->add_option("--reps", args->reps, "Timed repetitions (the median is reported)")->default_val(5);
  cmd->add_option("--warmup", args->warmup, "Untimed repetitions first (page-in, allocation)")->default_val(1);
  cmd->add_option("--seed", args->seed, "Seed of the random token ids")->default_val(0);
  cmd->add_option("--ids", args->ids, "Use these ids instead: safetensors with input_ids (I64 [B, T])")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--sgemm", args->sgemm, "Time plain BLAS sgemm on the model's GEMM shapes instead of scoring");
  add_device_option(cmd, args->device);
  cmd->callback([args, batch, tokens] {
    apply_thread_count(args->threads);
    if (args->sgemm) {
      if (!args->ids.empty()) fail("--sgemm does not take --ids (it needs only B x T)");
      if (args->device != "cpu") fail("--sgemm times the CPU's BLAS (it does not take --device)");
      run_sgemm(*args);
    } else {
      run_score(*args, batch->count() > 0, tokens->count() > 0);
    }
  });
}

}  // namespace entroscope::cli
