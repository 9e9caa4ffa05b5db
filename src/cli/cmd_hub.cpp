// entroscope pull / ls / cache verify: the Hugging Face cache, made inspectable and verifiable.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/hub_cache.h"
#include "io/hub_id.h"
#include "io/hub_inventory.h"
#include "io/hub_progress.h"
#include "io/hub_pull.h"
#include "io/hub_settings.h"
#include "io/hub_verify.h"

namespace entroscope::cli {

void add_hub_commands(CLI::App& app);

namespace {

namespace hub = io::hub;

std::filesystem::path cache_root(const std::string& option) {
  return option.empty() ? hub::default_cache_root() : std::filesystem::path(option);
}

std::string short_commit(const std::string& commit) { return commit.substr(0, 8); }

// Progress on stderr unless --quiet or HF_HUB_DISABLE_PROGRESS_BARS (huggingface_hub's switch) says no.
hub::ProgressStyle progress_style(bool quiet) {
  if (quiet || hub::env_value_is_true(std::getenv("HF_HUB_DISABLE_PROGRESS_BARS"))) return hub::ProgressStyle::kSilent;
  return hub::ProgressStyle::kAuto;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// ---- pull -------------------------------------------------------------------------------------

struct PullArgs {
  std::string spec;
  std::string revision;
  std::string cache_dir;
  int retries = 5;
  bool json = false;
  bool quiet = false;
};

void run_pull(const PullArgs& args) {
  hub::HubModelRef ref = hub::parse_hub_ref_or_throw(args.spec);
  if (!args.revision.empty()) {
    if (ref.revision_given && ref.revision != args.revision) {
      fail("pull {}: the revision is given twice ('{}' and --revision {})", args.spec, ref.revision, args.revision);
    }
    if (!hub::is_valid_revision(args.revision)) fail("--revision '{}' is not a valid revision name", args.revision);
    ref.revision = args.revision;
    ref.revision_given = true;
  }
  hub::HubSettings settings = hub::HubSettings::from_environment();
  auto progress = hub::make_progress(stderr, progress_style(args.quiet));
  hub::PullOptions options;
  options.cache_root = cache_root(args.cache_dir);
  options.retry.max_retries = args.retries;
  options.progress = progress.get();
  if (ref.as_written != ref.repo_id && !args.quiet) {
    fmt::print(stderr, "{} is the Hub's legacy name of {}\n", ref.as_written, ref.repo_id);
  }

  hub::PullResult r = hub::pull_model(ref, settings, options);

  if (args.json) {
    nlohmann::ordered_json j;
    j["repo_id"] = r.repo_id;
    j["revision"] = r.revision;
    j["commit"] = r.commit;
    j["snapshot"] = r.snapshot_dir.string();
    j["offline"] = r.offline;
    j["bytes_downloaded"] = r.bytes_downloaded;
    j["files"] = nlohmann::json::array();
    for (const auto& f : r.files) {
      j["files"].push_back({{"path", f.path}, {"size", f.size}, {"blob", f.hash}, {"status", hub::file_outcome_name(f.outcome)}});
    }
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::size_t fetched = 0;
  std::size_t width = 0;
  for (const auto& f : r.files) width = std::max(width, f.path.size());
  fmt::print("{}@{}: commit {}{}\n", r.repo_id, r.revision, r.commit, r.offline ? " (offline: from the cache)" : "");
  for (const auto& f : r.files) {
    fmt::print("  {:<{}}  {:>10}  {}\n", f.path, width, hub::format_bytes(f.size), hub::file_outcome_name(f.outcome));
    fetched += f.outcome == hub::FileOutcome::kDownloaded || f.outcome == hub::FileOutcome::kResumed;
  }
  if (!r.offline && fetched == 0) {
    fmt::print("all {} files were already in the cache\n", r.files.size());
  } else if (!r.offline) {
    fmt::print("{} file(s) downloaded ({}) and hash-verified, {} already in the cache\n", fetched,
               hub::format_bytes(r.bytes_downloaded), r.files.size() - fetched);
  }
  fmt::print("snapshot: {}\n", r.snapshot_dir.string());
  fmt::print("use it with: --model {}\n", r.revision == hub::kDefaultRevision ? r.repo_id : r.repo_id + "@" + r.revision);
}

// ---- ls ---------------------------------------------------------------------------------------

struct LsArgs {
  std::string filter;
  std::string cache_dir;
  bool json = false;
  bool files = false;
};

void run_ls(const LsArgs& args) {
  std::filesystem::path root = cache_root(args.cache_dir);
  std::vector<hub::CachedRepo> repos;
  if (args.filter.empty()) {
    repos = hub::scan_cache(root);
  } else {
    hub::HubModelRef ref = hub::parse_hub_ref_or_throw(args.filter);
    for (const auto& id : {ref.repo_id, ref.as_written}) {
      hub::CacheRepo repo(root, id);
      if (repo.exists() && (repos.empty() || repos.back().repo_id != id)) repos.push_back(hub::scan_repo(repo));
    }
    if (repos.empty()) fail("{} is not in the Hugging Face cache at {}", ref.repo_id, root.string());
  }

  if (args.json) {
    nlohmann::json j;
    j["cache"] = root.string();
    j["models"] = nlohmann::json::array();
    for (const auto& r : repos) j["models"].push_back(hub::to_json(r));
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }

  fmt::print("Hugging Face cache: {}\n", root.string());
  if (repos.empty()) {
    fmt::print("no models cached (download one with `entroscope pull ORG/NAME`)\n");
    return;
  }
  std::size_t id_width = 7;  // "REPO ID"
  std::size_t rev_width = 8;  // "REVISION"
  for (const auto& r : repos) {
    id_width = std::max(id_width, r.repo_id.size());
    for (const auto& s : r.snapshots) rev_width = std::max(rev_width, join(s.refs, ",").size());
  }
  fmt::print("{:<{}}  {:<{}}  {:<8}  {:>10}  {:>5}  {}\n", "REPO ID", id_width, "REVISION", rev_width, "COMMIT", "SIZE",
             "FILES", "STATUS");
  std::uint64_t total = 0;
  for (const auto& r : repos) {
    total += r.size_on_disk;
    if (r.snapshots.empty()) {
      fmt::print("{:<{}}  {:<{}}  {:<8}  {:>10}  {:>5}  {}\n", r.repo_id, id_width, "-", rev_width, "-",
                 hub::format_bytes(r.size_on_disk), 0, "no snapshots");
    }
    for (const auto& s : r.snapshots) {
      std::string refs = s.refs.empty() ? "-" : join(s.refs, ",");
      fmt::print("{:<{}}  {:<{}}  {:<8}  {:>10}  {:>5}  {}\n", r.repo_id, id_width, refs, rev_width,
                 short_commit(s.commit), hub::format_bytes(s.size), s.files.size(),
                 s.problem.empty() ? "ok" : s.problem);
      if (args.files) {
        for (const auto& f : s.files) {
          fmt::print("    {:<40} {:>10}  {}\n", f.path, hub::format_bytes(f.size),
                     f.missing ? "MISSING BLOB" : (f.blob.empty() ? "plain file" : f.blob.substr(0, 12)));
        }
      }
    }
    for (const auto& p : r.partial) {
      fmt::print("    unfinished download: blobs/{}.incomplete ({}); `entroscope pull` resumes it\n", p.blob,
                 hub::format_bytes(p.size));
    }
  }
  fmt::print("{} model(s), {} on disk\n", repos.size(), hub::format_bytes(total));
}

// ---- cache verify -----------------------------------------------------------------------------

struct VerifyArgs {
  std::string spec;
  std::string cache_dir;
  bool json = false;
  bool delete_corrupt = false;
  bool quiet = false;
};

// "<commit>/<file>" entries with the commit shortened, as `ls` shows it.
std::string short_used_by(const std::vector<std::string>& used_by) {
  std::vector<std::string> out;
  for (const auto& u : used_by) {
    auto slash = u.find('/');
    out.push_back(slash == std::string::npos ? u : short_commit(u.substr(0, slash)) + u.substr(slash));
  }
  return out.empty() ? "(unused)" : join(out, ", ");
}

void print_check(const hub::RepoCheck& check) {
  fmt::print("{}: {} blob(s) checked, {}\n", check.repo_id, check.blobs.size(),
             check.problems() == 0 ? "all ok" : fmt::format("{} problem(s)", check.problems()));
  for (const auto& b : check.blobs) {
    std::string used = short_used_by(b.used_by);
    switch (b.status) {
      case hub::BlobStatus::kOk:
        fmt::print("  ok       {}  {}\n", b.blob.substr(0, 12), used);
        break;
      case hub::BlobStatus::kCorrupt:
        fmt::print("  CORRUPT  {}  {}: {} bytes hash to {}{}\n", b.blob.substr(0, 12), used, b.size, b.actual,
                   b.deleted ? " [deleted]" : "");
        break;
      case hub::BlobStatus::kMissing:
        fmt::print("  MISSING  {}  {}: the blob file is gone\n", b.blob.substr(0, 12), used);
        break;
      case hub::BlobStatus::kUnreadable:
        fmt::print("  UNREADABLE {}  {}: {}\n", b.blob.substr(0, 12), used, b.detail);
        break;
    }
  }
  for (const auto& n : check.notes) fmt::print("  note: {}\n", n);
}

void run_verify(const VerifyArgs& args) {
  std::filesystem::path root = cache_root(args.cache_dir);
  auto progress = hub::make_progress(stderr, progress_style(args.quiet || args.json));
  hub::VerifyOptions options;
  options.delete_corrupt = args.delete_corrupt;
  options.progress = progress.get();

  std::vector<std::string> ids;
  if (args.spec.empty()) {
    for (const auto& r : hub::scan_cache(root)) ids.push_back(r.repo_id);
    if (ids.empty()) {
      if (args.json) {
        fmt::print("{}\n", nlohmann::json{{"cache", root.string()}, {"ok", true}, {"models", nlohmann::json::array()}}.dump(2));
      } else {
        fmt::print("the Hugging Face cache at {} has no models; nothing to verify\n", root.string());
      }
      return;
    }
  } else {
    hub::HubModelRef ref = hub::parse_hub_ref_or_throw(args.spec);
    if (ref.revision_given) options.revision = ref.revision;
    std::string id = ref.repo_id;
    if (!hub::CacheRepo(root, id).exists() && hub::CacheRepo(root, ref.as_written).exists()) id = ref.as_written;
    ids.push_back(id);
  }

  std::vector<hub::RepoCheck> checks;
  for (const auto& id : ids) checks.push_back(hub::verify_repo(root, id, options));

  std::size_t problems = 0;
  std::vector<std::string> bad_repos;
  for (const auto& c : checks) {
    problems += c.problems();
    if (c.problems() > 0) bad_repos.push_back(c.repo_id);
  }
  if (args.json) {
    nlohmann::json j;
    j["cache"] = root.string();
    j["ok"] = problems == 0;
    j["models"] = nlohmann::json::array();
    for (const auto& c : checks) j["models"].push_back(hub::to_json(c));
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    for (const auto& c : checks) print_check(c);
  }
  std::fflush(stdout);
  if (problems > 0) {
    std::string next = args.delete_corrupt ? fmt::format("the corrupt blobs were deleted; run `entroscope pull {}` to "
                                                         "download them again",
                                                         bad_repos.front())
                                           : fmt::format("run `entroscope cache verify --delete-corrupt {}` and then "
                                                         "`entroscope pull {}` to replace them",
                                                         bad_repos.front(), bad_repos.front());
    fail("cache verify: {} bad blob(s) in {}; {}", problems, join(bad_repos, ", "), next);
  }
}

}  // namespace

void add_hub_commands(CLI::App& app) {
  auto pull = std::make_shared<PullArgs>();
  CLI::App* pull_cmd = app.add_subcommand(
      "pull",
      "Download a model from the Hugging Face Hub into the local Hugging Face cache: config.json,\n"
      "  tokenizer files and safetensors weights (single or sharded), each verified against the hash\n"
      "  the Hub reports. Interrupted downloads resume. Honours HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE,\n"
      "  HF_HUB_CACHE / HF_HOME.\n"
      "  Example: entroscope pull gpt2-medium;  entroscope pull EleutherAI/pythia-410m@step143000");
  pull_cmd->add_option("model", pull->spec, "Hub id, optionally with @REVISION (branch, tag or commit)")->required();
  pull_cmd->add_option("--revision", pull->revision, "Revision (instead of ID@REVISION)");
  pull_cmd->add_option("--cache-dir", pull->cache_dir, "Cache folder (default: the Hub's: HF_HUB_CACHE, HF_HOME/hub, ...)");
  pull_cmd->add_option("--retries", pull->retries, "Retries per request on transient failures (default 5)")
      ->check(CLI::Range(0, 100));
  pull_cmd->add_flag("--json", pull->json, "Print the result as JSON");
  pull_cmd->add_flag("--quiet,-q", pull->quiet, "No progress output");
  pull_cmd->callback([pull] { run_pull(*pull); });

  auto ls = std::make_shared<LsArgs>();
  CLI::App* ls_cmd = app.add_subcommand(
      "ls",
      "List the models in the local Hugging Face cache: id, revision, commit, size, files and whether\n"
      "  each snapshot can be loaded.\n"
      "  Example: entroscope ls;  entroscope ls gpt2 --files");
  ls_cmd->add_option("model", ls->filter, "Only this Hub id");
  ls_cmd->add_option("--cache-dir", ls->cache_dir, "Cache folder (default: the Hub's)");
  ls_cmd->add_flag("--files", ls->files, "Also list each snapshot's files");
  ls_cmd->add_flag("--json", ls->json, "Print JSON");
  ls_cmd->callback([ls] { run_ls(*ls); });

  CLI::App* cache_cmd = app.add_subcommand("cache", "Inspect the local Hugging Face cache (see `cache verify`)");
  cache_cmd->require_subcommand(1);
  auto verify = std::make_shared<VerifyArgs>();
  CLI::App* verify_cmd = cache_cmd->add_subcommand(
      "verify",
      "Re-hash cached blobs (sha256 for weights, git sha1 for small files) and report corrupt or\n"
      "  missing ones and unfinished downloads. Exit status 1 when anything is wrong.\n"
      "  Example: entroscope cache verify openai-community/gpt2-medium");
  verify_cmd->add_option("model", verify->spec, "Hub id[@REVISION] (default: every cached model)");
  verify_cmd->add_option("--cache-dir", verify->cache_dir, "Cache folder (default: the Hub's)");
  verify_cmd->add_flag("--delete-corrupt", verify->delete_corrupt,
                       "Delete corrupt blobs and their snapshot links, so `entroscope pull` fetches them again");
  verify_cmd->add_flag("--json", verify->json, "Print JSON");
  verify_cmd->add_flag("--quiet,-q", verify->quiet, "No progress output");
  verify_cmd->callback([verify] { run_verify(*verify); });

  CLI::App* cache_ls = cache_cmd->add_subcommand("ls", "Same as `entroscope ls`");
  cache_ls->add_option("model", ls->filter, "Only this Hub id");
  cache_ls->add_option("--cache-dir", ls->cache_dir, "Cache folder (default: the Hub's)");
  cache_ls->add_flag("--files", ls->files, "Also list each snapshot's files");
  cache_ls->add_flag("--json", ls->json, "Print JSON");
  cache_ls->callback([ls] { run_ls(*ls); });
}

}  // namespace entroscope::cli
