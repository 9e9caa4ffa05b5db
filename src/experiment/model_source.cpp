#include "experiment/model_source.h"

#include <algorithm>

#include "common/json_file.h"
#include "io/checkpoint.h"
#include "io/file_digest.h"

namespace entroscope::experiment {

namespace fs = std::filesystem;

namespace {

bool has_config(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec);
}

io::ResolvedModel resolve_spec(const std::string& spec, const fs::path& experiment_dir, bool fetch) {
  // Paths in an experiment file are relative to the file, like the data file.
  const fs::path relative = experiment_dir / spec;
  if (fs::path(spec).is_relative() && has_config(relative)) {
    io::ResolvedModel r;
    r.dir = fs::absolute(relative).lexically_normal();
    r.spec = spec;
    r.source = "directory";
    return r;
  }
  // A demo name used from an experiment kept in the repository (examples/ next to models/).
  const fs::path demo = experiment_dir / ".." / "models" / spec;
  if (spec.find('/') == std::string::npos && spec.find('@') == std::string::npos && has_config(demo)) {
    io::ResolvedModel r;
    r.dir = fs::absolute(demo).lexically_normal();
    r.spec = spec;
    r.source = "demo";
    return r;
  }
  return fetch ? io::resolve_or_fetch_model(spec, false) : io::resolve_model(spec);
}

FileDigest digest(const fs::path& path, const fs::path& dir) {
  std::error_code ec;
  FileDigest d;
  d.file = path.lexically_relative(dir).string();
  if (d.file.empty() || d.file.rfind("..", 0) == 0) d.file = path.string();
  d.bytes = fs::file_size(path, ec);
  if (ec) fail("{}: cannot read size: {}", path.string(), ec.message());
  d.sha256 = io::file_sha256(path);  // remembered between runs (io/file_digest.h)
  return d;
}

}  // namespace

std::string family_of(model::Architecture arch) { return std::string(model::family_name(arch)); }

std::string file_safe(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.';
    out += keep ? c : '_';
  }
  return out.empty() ? std::string("model") : out;
}

ModelSource resolve_model_entry(const ModelEntry& entry, const fs::path& experiment_dir, bool fetch) {
  ModelSource src;
  src.entry = entry;
  try {
    src.resolved = resolve_spec(entry.spec, experiment_dir, fetch);
    src.config_json = read_json_file(src.resolved.dir / "config.json");
    src.config = model::parse_config(src.config_json, (src.resolved.dir / "config.json").string());
  } catch (const Error& e) {
    fail_at(entry.where, "{}", e.what());
  }
  if (!entry.name.empty()) {
    src.name = entry.name;
  } else if (!src.resolved.repo_id.empty()) {
    // "EleutherAI/pythia-410m" -> "pythia-410m"; a revision stays visible.
    std::string base = src.resolved.repo_id.substr(src.resolved.repo_id.find('/') + 1);
    if (!src.resolved.revision.empty()) base += "@" + src.resolved.revision;
    src.name = file_safe(base);
  } else {
    fs::path dir = src.resolved.dir.lexically_normal();
    if (dir.filename().empty()) dir = dir.parent_path();  // "models/x/" names "x"
    src.name = file_safe(dir.filename().string());
  }
  src.family = entry.family.empty() ? family_of(src.config.arch) : entry.family;
  return src;
}

ModelDigests digest_model_files(const fs::path& dir, const std::vector<fs::path>& tokenizer_files) {
  ModelDigests out;
  out.config_file = digest(dir / "config.json", dir);
  io::Checkpoint checkpoint(dir);  // reads headers only; lists the weight files
  if (checkpoint.sharded()) out.weight_files.push_back(digest(dir / "model.safetensors.index.json", dir));
  for (const auto& f : checkpoint.files()) out.weight_files.push_back(digest(f->path(), dir));
  for (const auto& f : tokenizer_files) out.tokenizer_files.push_back(digest(f, dir));
  return out;
}

}  // namespace entroscope::experiment
