#include "cli/model_arg.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "common/error.h"
#include "entroscope_version.h"
#include "io/model_locator.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"

namespace entroscope::cli {

std::filesystem::path resolve_model_dir(const std::string& spec) { return io::resolve_model(spec).dir; }

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
