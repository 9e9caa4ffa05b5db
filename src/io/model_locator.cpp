#include "io/model_locator.h"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>

#include "io/hub_cache.h"
#include "io/hub_id.h"
#include "io/hub_progress.h"
#include "io/hub_pull.h"
#include "io/hub_settings.h"

#include <fmt/format.h>

#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "common/error.h"
#include "io/hub_cache.h"
#include "io/hub_files.h"
#include "io/hub_id.h"

namespace entroscope::io {

namespace fs = std::filesystem;

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// A spec that can only mean a file-system path (so a missing one is reported as such).
bool looks_like_path(const std::string& spec) {
  return spec.front() == '/' || spec.front() == '~' || spec.rfind("./", 0) == 0 || spec.rfind("../", 0) == 0 ||
         spec == "." || spec == ".." || spec.back() == '/' || spec.find('\\') != std::string::npos ||
         spec.find("/", spec.find('/') + 1) != std::string::npos;  // two or more slashes
}

fs::path exe_dir() {
  std::error_code ec;
#ifdef __APPLE__
  char buf[4096];
  std::uint32_t size = sizeof buf;
  if (_NSGetExecutablePath(buf, &size) != 0) return {};
  fs::path exe = fs::canonical(buf, ec);
#else
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
#endif
  if (ec) return {};
  return exe.parent_path();
}

std::vector<std::string> demo_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (dir.empty()) return names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code e2;
    if (entry.is_directory(e2) && fs::exists(entry.path() / "config.json", e2)) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

fs::path default_models_dir() {
  if (const char* env = std::getenv("ENTROSCOPE_MODELS_DIR"); env != nullptr && *env != '\0') return env;
  fs::path exe = exe_dir();
  if (exe.empty()) return {};
  for (const fs::path& candidate : {exe / ".." / "models", exe / ".." / ".." / "models",
                                    exe / ".." / "share" / "entroscope" / "models"}) {
    if (is_dir(candidate)) return candidate.lexically_normal();
  }
  return {};
}

ResolvedModel resolve_model(const std::string& spec) {
  if (spec.empty()) fail("the model name is empty: give a model folder, a demo model name or a Hugging Face id");
  ResolvedModel out;
  out.spec = spec;

  // 1. A directory.
  fs::path as_path = spec;
  if (spec == "~" || spec.rfind("~/", 0) == 0) {
    if (const char* home = std::getenv("HOME")) as_path = fs::path(home) / spec.substr(spec.size() > 1 ? 2 : 1);
  }
  if (is_dir(as_path)) {
    out.dir = fs::absolute(as_path).lexically_normal();
    out.source = "directory";
    return out;
  }
  std::error_code ec;
  if (fs::exists(as_path, ec)) {
    fail("model '{}': is a file, not a model folder; give the folder that holds config.json and the weights", spec);
  }
  if (looks_like_path(spec)) fail("model '{}': no such directory", spec);

  // 2. A bundled demo model.
  fs::path models_dir = default_models_dir();
  if (!models_dir.empty() && spec.find('/') == std::string::npos && spec.find('@') == std::string::npos &&
      is_dir(models_dir / spec)) {
    out.dir = fs::absolute(models_dir / spec).lexically_normal();
    out.source = "demo";
    return out;
  }

  // 3. A Hub id in the local cache.
  auto ref = hub::parse_hub_ref(spec);
  auto demos = demo_names(models_dir);
  std::string demo_part = models_dir.empty()
                              ? "no demo models folder found (set ENTROSCOPE_MODELS_DIR)"
                              : fmt::format("not a demo model in {} ({})", models_dir.string(),
                                            demos.empty() ? "none there" : join(demos, ", "));
  if (!ref) {
    fail("model '{}': not a directory, {}, and not a Hugging Face id (ORG/NAME[@REVISION])", spec, demo_part);
  }
  fs::path root = hub::default_cache_root();
  std::vector<std::string> tried;
  auto loc = hub::locate_snapshot(root, *ref, &tried);
  if (loc) {
    if (auto problem = hub::snapshot_problem(loc->dir)) {
      fail("model '{}': the cached snapshot {} of {} is not usable: {}; run `entroscope pull {}` to complete it",
           spec, loc->commit, loc->repo_id, *problem, ref->display());
    }
    out.dir = loc->dir;
    out.source = "hf-cache";
    out.repo_id = loc->repo_id;
    out.revision = ref->revision;
    out.commit = loc->commit;
    return out;
  }
  fail("model '{}': not a directory, {}, and not in the Hugging Face cache at {} (looked for {}); download it with "
       "`entroscope pull {}`",
       spec, demo_part, root.string(), join(tried, ", "), ref->display());
}

ResolvedModel resolve_or_fetch_model(const std::string& spec, bool offline) {
  try {
    return resolve_model(spec);
  } catch (const Error&) {
    std::error_code ec;
    const std::optional<hub::HubModelRef> ref = hub::parse_hub_ref(spec);
    const hub::HubSettings settings = hub::HubSettings::from_environment();
    if (!ref || std::filesystem::exists(spec, ec) || offline || settings.offline) throw;
    fmt::print(stderr, "{} is not in the local cache ({}): downloading it (--offline or HF_HUB_OFFLINE=1 to stop this)\n",
               spec, hub::default_cache_root().string());
    const bool quiet = hub::env_value_is_true(std::getenv("HF_HUB_DISABLE_PROGRESS_BARS"));
    auto progress = hub::make_progress(stderr, quiet ? hub::ProgressStyle::kSilent : hub::ProgressStyle::kAuto);
    hub::PullOptions options;
    options.progress = progress.get();
    hub::pull_model(*ref, settings, options);
    return resolve_model(spec);
  }
}

}  // namespace entroscope::io
