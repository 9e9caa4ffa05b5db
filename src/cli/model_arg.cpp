#include "cli/model_arg.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "common/error.h"
#include "entroscope_version.h"
#include "io/hub_cache.h"
#include "io/hub_id.h"
#include "io/hub_progress.h"
#include "io/hub_pull.h"
#include "io/hub_settings.h"
#include "io/model_locator.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"

namespace entroscope::cli {

std::filesystem::path resolve_model_dir(const std::string& spec) { return io::resolve_model(spec).dir; }

io::ResolvedModel resolve_or_fetch_model(const std::string& spec, bool offline) {
  try {
    return io::resolve_model(spec);
  } catch (const Error&) {
    std::error_code ec;
    const std::optional<io::hub::HubModelRef> ref = io::hub::parse_hub_ref(spec);
    const io::hub::HubSettings settings = io::hub::HubSettings::from_environment();
    if (!ref || std::filesystem::exists(spec, ec) || offline || settings.offline) throw;
    fmt::print(stderr, "{} is not in the local cache ({}): downloading it (--offline or HF_HUB_OFFLINE=1 to stop this)\n",
               spec, io::hub::default_cache_root().string());
    const bool quiet = io::hub::env_value_is_true(std::getenv("HF_HUB_DISABLE_PROGRESS_BARS"));
    auto progress = io::hub::make_progress(stderr, quiet ? io::hub::ProgressStyle::kSilent : io::hub::ProgressStyle::kAuto);
    io::hub::PullOptions options;
    options.progress = progress.get();
    io::hub::pull_model(*ref, settings, options);
    return io::resolve_model(spec);
  }
}

model::Model load_model_arg(const std::string& spec) { return model::load_model(resolve_model_dir(spec), spec); }

std::map<std::string, std::string> model_metadata(const model::Model& m) {
  return {
      {"entroscope_version", ENTROSCOPE_VERSION},
      {"entroscope_git", ENTROSCOPE_GIT_HASH},
      {"model", m.name},
      {"model_path", std::filesystem::absolute(m.dir).string()},
      {"model_type", std::string(model::architecture_name(m.config.arch))},
      {"storage_dtype", m.config.torch_dtype},
      {"compute_dtype", "float32"},
      {"threads", fmt::format("{}", kernels::thread_count())},
      {"blas", kernels::blas_name()},
      {"gemm_kernel", std::string(kernels::gemm_kernel_name())},
  };
}

}  // namespace entroscope::cli
