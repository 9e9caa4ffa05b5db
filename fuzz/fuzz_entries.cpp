// The parsers' fuzz entries (fuzz_entries.h). Entries that parse files rather than text write the
// input into a per-process scratch folder under the temp directory, cleared before every input,
// so each run depends on the input bytes only.
#include "fuzz_entries.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"
#include "doctor/activation_check.h"
#include "doctor/report.h"
#include "experiment/items.h"
#include "experiment/model_result.h"
#include "experiment/report_page.h"
#include "experiment/spec_parser.h"
#include "experiment/unit_file.h"
#include "io/checkpoint.h"
#include "io/hub_api.h"
#include "io/hub_cache.h"
#include "io/hub_fetch.h"
#include "io/hub_files.h"
#include "io/hub_http.h"
#include "io/hub_id.h"
#include "io/hub_inventory.h"
#include "io/hub_settings.h"
#include "io/safetensors.h"
#include "model/architecture.h"
#include "model/config.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

#ifndef ES_SOURCE_DIR
#error "ES_SOURCE_DIR must name the source tree (the doctor entry loads a fixture model from it)"
#endif

namespace entroscope::fuzz {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz contract violated: %s\n", what.c_str());
  std::abort();
}

void check_one_line(const char* message) {
  if (std::strchr(message, '\n') || std::strchr(message, '\r'))
    bug(fmt::format("error message is not one line: {}", message));
}

// Runs `f`, accepting an entroscope::Error (one-line message) as a rejection.
template <typename F>
void may_fail(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    check_one_line(e.what());
  }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = s.find(sep, pos);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(pos));
      return parts;
    }
    parts.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
}

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) bug("cannot write scratch file " + path.string());
}

// A per-process folder under the temp directory, removed at exit.
class Scratch {
 public:
  explicit Scratch(const char* name)
      : dir_(fs::temp_directory_path() / fmt::format("es-fuzz-{}-{}", name, ::getpid())) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }
  // Removes everything inside (symlinks themselves, never their targets).
  void clear() const {
    for (const auto& entry : fs::directory_iterator(dir_)) fs::remove_all(entry.path());
  }

 private:
  fs::path dir_;
};

// A safetensors file from (name, dtype, shape, bytes) entries.
std::string safetensors_bytes(const std::vector<std::tuple<std::string, std::string, std::vector<int>, std::string>>& t) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::string data;
  for (const auto& [name, dtype, shape, bytes] : t) {
    header[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {data.size(), data.size() + bytes.size()}}};
    data += bytes;
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  std::string out(8, '\0');
  std::uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + h + data;
}

void exercise_tokenizer(const tokenizer::Tokenizer& tok) {
  for (std::string_view text : {std::string_view("Hello  world's 123\n"), std::string_view("\xE2\x82\xAC\xFF a"),
                                std::string_view("")}) {
    for (bool special : {false, true}) {
      const auto ids = tok.encode(text, tokenizer::EncodeOptions{special, special});
      if (!tokenizer::is_valid_utf8(tok.decode_text(ids, special))) bug("decode_text is not valid UTF-8");
      tok.decode_bytes(ids);
    }
  }
}

}  // namespace

void run_checked(Entry entry, const std::uint8_t* data, std::size_t size) {
  try {
    entry(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const Error& e) {
    check_one_line(e.what());
  }
}

void safetensors_header(std::string_view input) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(input.data());
  auto header = io::parse_safetensors({bytes, input.size()}, "fuzz");
  for (const auto& t : header.tensors)
    if (t.file_offset + t.num_bytes() > input.size()) bug("tensor '" + t.name + "' extends past the file");
}

void tokenizer_json(std::string_view input) {
  exercise_tokenizer(tokenizer::Tokenizer::from_tokenizer_json(input, "fuzz"));
}

void config_json(std::string_view input) {
  // read_json_file rejects text that is not JSON with Error; the config parser sees documents.
  const nlohmann::json doc = nlohmann::json::parse(input.begin(), input.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return;
  const model::ModelConfig c = model::parse_config(doc, "fuzz/config.json");
  c.attention_scale(0);
  c.attention_scale(c.n_layer - 1);
  c.rotary_inv_freq();
  // What `info` and `bench` derive from every config (bounded layer count: the table has a few
  // entries per layer).
  if (c.n_layer <= 256) {
    c.parameter_count();
    c.non_embedding_parameter_count();
    model::forward_flops(c, 1, 8);
  }
}

void vocab_merges(std::string_view input) {
  static const Scratch scratch("vocab_merges");
  scratch.clear();
  const auto parts = split(input, '\0');
  const char* names[] = {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"};
  for (std::size_t i = 0; i < parts.size() && i < 4; ++i) write_file(scratch.dir() / names[i], parts[i]);
  exercise_tokenizer(tokenizer::Tokenizer::load(scratch.dir() / "vocab.json"));
}

void safetensors_index(std::string_view input) {
  static const Scratch scratch("safetensors_index");
  static const bool ready = [] {
    const std::string f32(8, '\0'), f16("\x00\x3c\x00\xc0", 4), bf16("\x80\x3f\x00\x00", 4);
    write_file(scratch.dir() / "model-00001-of-00002.safetensors",
               safetensors_bytes({{"a.weight", "F32", {2}, f32}, {"b.weight", "F16", {2}, f16}}));
    write_file(scratch.dir() / "model-00002-of-00002.safetensors",
               safetensors_bytes({{"c.weight", "BF16", {1, 2}, bf16}, {"d.ids", "I64", {1}, std::string(8, '\0')}}));
    write_file(scratch.dir() / "config.json", R"({"model_type": "gpt2"})");
    return true;
  }();
  (void)ready;
  const fs::path index = scratch.dir() / "model.safetensors.index.json";
  write_file(index, input);
  may_fail([&] { io::hub::shard_files_from_index(index); });
  may_fail([&] { io::hub::snapshot_problem(scratch.dir()); });
  io::Checkpoint ckpt(scratch.dir());
  for (const std::string& name : ckpt.tensor_names()) may_fail([&] { ckpt.load_f32(name); });
}

void experiment_yaml(std::string_view input) {
  experiment::parse_experiment_text(std::string(input), "fuzz/experiment.yaml");
}

void items_jsonl(std::string_view input) {
  static const experiment::ExperimentSpec spec = experiment::parse_experiment_text(R"(models: [gpt2]
data: items.jsonl
conditions:
  with_context:
    - "{context}"
    - {text: " {target}", measure: true}
  no_context:
    - "<|endoftext|>"
    - {text: "{target}", measure: true}
)",
                                                                                  "fuzz/experiment.yaml");
  // The id field: "id", or what the first line names after "#id_field=" (exercises renamed ids).
  std::string id_field = "id";
  if (input.starts_with("#id_field=")) {
    const std::size_t end = input.find('\n');
    id_field = std::string(input.substr(10, end == std::string_view::npos ? std::string_view::npos : end - 10));
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
  }
  const experiment::ItemSet set = experiment::parse_items_text(std::string(input), "fuzz/items.jsonl", id_field);
  experiment::check_items_for_spec(spec, set);
}

namespace {
// A relative path of plain names ("a/b"), at most 4 deep.
bool plain_relative(std::string_view p) {
  if (p.empty() || p.size() > 128 || p.front() == '/') return false;
  const auto segments = split(p, '/');
  if (segments.size() > 4) return false;
  for (std::string_view s : segments)
    if (s.empty() || s == "." || s == "..") return false;
  return true;
}

// Creates the parent folders of root/rel; false when one of them is (or goes through) a symlink, so
// that every entry the harness creates sits in a real folder inside root.
bool make_parents(const fs::path& root, const fs::path& rel) {
  fs::path at = root;
  for (const auto& part : rel.parent_path()) {
    at /= part;
    std::error_code ec;
    const auto st = fs::symlink_status(at, ec);
    if (fs::is_symlink(st)) return false;
    if (!fs::exists(st)) {
      if (!fs::create_directory(at, ec) || ec) return false;
    } else if (!fs::is_directory(st)) {
      return false;
    }
  }
  std::error_code ec;
  return !fs::exists(fs::symlink_status(root / rel, ec));  // first record for a path wins
}

// A symlink target that resolves inside root: leading ".." (no more than the link's depth below
// root), then plain names.
bool target_inside(const fs::path& link_rel, std::string_view target) {
  if (target.empty() || target.size() > 160 || target.front() == '/') return false;
  std::size_t depth = 0;
  for (const auto& part : link_rel.parent_path()) {
    (void)part;
    ++depth;
  }
  std::size_t ups = 0;
  bool descending = false;
  for (std::string_view s : split(target, '/')) {
    if (s == "..") {
      if (descending) return false;
      ++ups;
    } else if (!s.empty() && s != ".") {
      descending = true;
    }
  }
  return ups <= depth;
}
}  // namespace

void hub_cache(std::string_view input) {
  static const Scratch scratch("hub_cache");
  scratch.clear();
  const fs::path root = scratch.dir();
  const std::string repo_folder = "models--org--model";
  fs::create_directories(root / repo_folder);
  int records = 0;
  for (std::string_view record : split(input, '\0')) {
    if (record.empty() || ++records > 32) continue;
    const char kind = record.front();
    record.remove_prefix(1);
    const std::size_t nl = record.find('\n');
    const std::string_view path = record.substr(0, nl);
    const std::string_view content = nl == std::string_view::npos ? std::string_view() : record.substr(nl + 1);
    if (!plain_relative(path)) continue;
    fs::path rel = fs::path(repo_folder);
    switch (kind) {
      case 'r': rel /= "refs"; break;
      case 'b': rel /= "blobs"; break;
      case 'l':
      case 'f':
      case 'd': rel /= "snapshots"; break;
      default: continue;
    }
    rel /= std::string(path);
    if (!make_parents(root, rel)) continue;
    std::error_code ec;
    if (kind == 'd') {
      fs::create_directory(root / rel, ec);
    } else if (kind == 'l') {
      if (target_inside(rel, content)) fs::create_symlink(std::string(content), root / rel, ec);
    } else {
      write_file(root / rel, content);
    }
  }

  io::hub::CacheRepo repo(root, "org/model");
  repo.exists();
  std::vector<std::string> revisions = {"main"};
  may_fail([&] {
    for (const auto& [name, commit] : repo.refs()) revisions.push_back(name);
  });
  may_fail([&] {
    for (const std::string& commit : repo.snapshot_commits()) {
      revisions.push_back(commit);
      const io::hub::CachedSnapshot snap = io::hub::scan_snapshot(repo, commit);
      for (const auto& f : snap.files) may_fail([&] { repo.linked_blob(commit, f.path); });
      may_fail([&] { io::hub::snapshot_problem(repo.snapshot_dir(commit)); });
    }
  });
  for (const std::string& rev : revisions) {
    may_fail([&] { repo.resolve_revision(rev); });
    may_fail([&] {
      if (!io::hub::is_valid_revision(rev)) return;
      if (auto ref = io::hub::parse_hub_ref("org/model@" + rev)) io::hub::locate_snapshot(root, *ref);
    });
  }
  // Dumped as `ls --json` should: file names need not be UTF-8 (a plain dump() throws type_error 316
  // on them; found by this target, see docs/reliability.md).
  const auto replace = nlohmann::json::error_handler_t::replace;
  may_fail([&] { io::hub::to_json(io::hub::scan_repo(repo)).dump(-1, ' ', false, replace); });
  for (const auto& r : io::hub::scan_cache(root)) io::hub::to_json(r).dump(-1, ' ', false, replace);
}

void hub_http(std::string_view input) {
  using namespace io::hub;
  HttpResponse r;
  r.method = "HEAD";
  r.url = "https://huggingface.co/org/model/resolve/main/config.json";
  // Header lines as libcurl hands them over, up to the blank line; the status from the last
  // status line (after redirects or 100 Continue).
  std::size_t pos = 0;
  while (pos < input.size()) {
    const std::size_t end = input.find('\n', pos);
    const std::string_view line = input.substr(pos, end == std::string_view::npos ? end : end + 1 - pos);
    pos = end == std::string_view::npos ? input.size() : end + 1;
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    if (bare.empty()) break;
    if (bare.starts_with("HTTP/")) {
      const std::size_t space = bare.find(' ');
      long status = 0;
      if (space != std::string_view::npos)
        std::from_chars(bare.data() + space + 1, bare.data() + bare.size(), status);
      r.status = status;
    }
    add_header_line(line, r.headers);
  }
  r.body = std::string(input.substr(pos));

  static HttpClient client(HttpClient::Options{});
  HubSettings settings;
  settings.token = "hf_fuzz";
  settings.token_source = "HF_TOKEN";
  HubApi api(settings, client);
  // Header values, as the downloader reads them.
  for (const auto& [name, value] : r.headers.items()) {
    normalize_etag(value);
    url_origin(value);
    parse_size_header(value);
  }
  std::optional<std::uint64_t> total;
  const auto start = content_range_start(r.headers.get("Content-Range").value_or(""), &total);
  if (start && total && *start >= *total) bug("Content-Range start beyond the total");
  // The JSON listing of a revision.
  may_fail([&] {
    const RepoRevision rev = parse_repo_revision(r.body, r.status, api.revision_url("org/model", "main"),
                                                 "org/model", "main");
    if (!is_commit_hash(rev.commit)) bug("accepted a listing without a commit hash");
    for (const RepoFile& f : rev.files) {
      if (!is_safe_repo_path(f.path)) bug("accepted an unsafe path '" + f.path + "'");
      if (!f.content_hash().empty() && !is_blob_hash(f.content_hash())) bug("accepted a bad hash");
    }
    may_fail([&] { select_model_files(rev); });
  });
  // The status, then the HEAD metadata.
  api.raise_for_status(r, "org/model", "main", "config.json");
  parse_file_metadata(r, r.url);
}

void doctor_compare(std::string_view input) {
  static const Scratch scratch("doctor_compare");
  static const model::Model m = model::load_model(fs::path(ES_SOURCE_DIR) / "tests/data/models/gpt-neo-tiny");
  const fs::path ref = scratch.dir() / "reference.safetensors";
  write_file(ref, input);
  doctor::Report report;
  doctor::compare_with_reference(m, {1, 2, 3}, ref, 1e-3, report);
}

void report_folder(std::string_view input) {
  static const Scratch scratch("report_folder");
  scratch.clear();
  const auto parts = split(input, '\0');
  const char* names[] = {"scaling_summary.json", "results.json", "units.csv"};
  for (std::size_t i = 0; i < parts.size() && i < 3; ++i) write_file(scratch.dir() / names[i], parts[i]);
  // Limits below the seed's 3 items, so that choosing the embedded items (largest |Δ|, disagreement
  // between models, the sample) runs on the fuzzed files too.
  experiment::report_html(scratch.dir(), {1, 1, 1});
}

void unit_file(std::string_view input) {
  static const Scratch scratch("unit_file");
  scratch.clear();
  write_file(scratch.dir() / "unit.json", input);
  const experiment::UnitResult unit = experiment::read_unit_file(scratch.dir() / "unit.json");
  // What the merge does with an accepted unit before the checks against the plan: it is written
  // back by the same code (the shard's), which must accept everything the reader accepted.
  const std::string again = experiment::unit_to_json(unit).dump();
  const experiment::UnitResult reread = experiment::unit_from_json(nlohmann::json::parse(again), "fuzz/again.json");
  if (reread.scored.items.size() != unit.scored.items.size() || reread.scored.tokens.size() != unit.scored.tokens.size())
    std::abort();
}

void results_file(std::string_view input) {
  static const Scratch scratch("results_file");
  scratch.clear();
  write_file(scratch.dir() / "results.json", input);
  // A reused result is read, never written again (the views are rendered from the live spec).
  experiment::result_from_json(read_json_file(scratch.dir() / "results.json"), "fuzz/results.json");
}

const std::vector<Target>& all_targets() {
  static const std::vector<Target> targets = {
      {"safetensors_header", safetensors_header}, {"tokenizer_json", tokenizer_json},
      {"config_json", config_json},               {"vocab_merges", vocab_merges},
      {"safetensors_index", safetensors_index},   {"experiment_yaml", experiment_yaml},
      {"items_jsonl", items_jsonl},               {"hub_cache", hub_cache},
      {"hub_http", hub_http},                     {"doctor_compare", doctor_compare},
      {"report_folder", report_folder},           {"unit_file", unit_file},
      {"results_file", results_file},
  };
  return targets;
}

}  // namespace entroscope::fuzz
