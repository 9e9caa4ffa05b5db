#include "cli/app.h"

#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"
#include "entroscope_version.h"
#include "kernels/threads.h"

namespace entroscope::cli {

void apply_thread_count(int threads) { kernels::set_thread_count(threads); }

void add_device_option(CLI::App* cmd, std::string& device) {
  cmd->add_option("--device", device,
                  "Where the forward runs: cpu, or cuda (a build with -DENTROSCOPE_CUDA=ON and an NVIDIA GPU; "
                  "results agree with the CPU's within the fixtures' tolerances, see docs/gpu.md)")
      ->default_val("cpu")
      ->check(CLI::IsMember({"cpu", "cuda"}));
}

kernels::Device chosen_device(const std::string& device, std::string_view command) {
  const kernels::Device d = kernels::parse_device(device);
  if (d == kernels::Device::kCuda) kernels::require_cuda(command);
  return d;
}

int run_main(int argc, char** argv) {
  CLI::App app{
      "entroscope: next-token entropy and surprisal of language models on CPU (GPT-2, Pythia/GPT-NeoX,\n"
      "GPT-Neo, GPT-J, OPT, Llama, Mistral, Qwen2/3, OLMo-2), exact fp32 with checked numerics.\n"
      "Run `entroscope COMMAND --help` for the options of a command."};
  app.set_version_flag("--version", fmt::format("entroscope {} ({})", ENTROSCOPE_VERSION, ENTROSCOPE_GIT_HASH));
  app.require_subcommand(1);
  app.fallthrough(false);

  // In the order a researcher meets them: run an experiment; score; inspect; diagnose; models.
  add_run_command(app);
  add_merge_command(app);
  add_plan_command(app);
  add_report_command(app);
  add_forward_command(app);
  add_score_command(app);
  add_tokenize_command(app);
  add_info_command(app);
  add_doctor_command(app);
  add_hub_commands(app);
  add_synth_command(app);
  add_bench_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const ExitCode& e) {
    return e.code;
  } catch (const Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "entroscope: error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "entroscope: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "entroscope: error: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace entroscope::cli
