#include "model/synth.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>

#include "common/durable_file.h"
#include "common/error.h"
#include "kernels/parallel.h"
#include "common/fault_point.h"
#include "common/json_file.h"
#include "model/presets.h"

namespace entroscope::model {

namespace fs = std::filesystem;

std::uint64_t SynthTensor::num_elements() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

namespace {

// ---- deterministic counter-based normal generator ----

std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t tensor_key(std::uint64_t seed, std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char ch : name) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ULL;
  }
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ULL) ^ mix64(h));
}

// Box-Muller on pair k of the tensor's stream: elements 2k (cos) and 2k+1 (sin).
inline void normal_pair(std::uint64_t key, std::uint64_t k, double& z0, double& z1) {
  std::uint64_t bits = mix64(key + (k + 1) * 0x9E3779B97F4A7C15ULL);
  constexpr double kInv32 = 1.0 / 4294967296.0;
  double u1 = (static_cast<double>(bits >> 32) + 0.5) * kInv32;  // (0, 1)
  double u2 = (static_cast<double>(bits & 0xFFFFFFFFULL) + 0.5) * kInv32;
  double r = std::sqrt(-2.0 * std::log(u1));
  double a = 6.283185307179586 * u2;
  z0 = r * std::cos(a);
  z1 = r * std::sin(a);
}

// ---- plan ----

// ---- file writing ----

void write_all(int fd, const void* data, std::size_t n, const fs::path& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("{}: write failed: {}", path.string(), std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Ctrl-C / SIGTERM while a multi-GB temporary file is being written: remove it, then die as the
// signal would have (the handlers are installed only while a TempFile exists).
char g_temp_path[4096];
struct sigaction g_old_int, g_old_term;

extern "C" void remove_temp_and_reraise(int sig) {
  if (g_temp_path[0]) ::unlink(g_temp_path);
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::raise(sig);
}

// Removes the temporary file unless committed (on any error, exception or SIGINT/SIGTERM).
class TempFile {
 public:
  explicit TempFile(fs::path path) : path_(std::move(path)) {
    const std::string s = path_.string();
    if (s.size() < sizeof g_temp_path) {
      std::memcpy(g_temp_path, s.c_str(), s.size() + 1);
      struct sigaction sa {};
      sa.sa_handler = remove_temp_and_reraise;
      sigemptyset(&sa.sa_mask);
      ::sigaction(SIGINT, &sa, &g_old_int);
      ::sigaction(SIGTERM, &sa, &g_old_term);
      // A signal the caller ignores (nohup, background job) stays ignored.
      if (g_old_int.sa_handler == SIG_IGN) ::sigaction(SIGINT, &g_old_int, nullptr);
      if (g_old_term.sa_handler == SIG_IGN) ::sigaction(SIGTERM, &g_old_term, nullptr);
      handlers_ = true;
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      restore_handlers();
      fail("{}: cannot create file: {}", path_.string(), std::strerror(errno));
    }
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
    restore_handlers();
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const fs::path& path() const { return path_; }
  // fsync + close + rename into place.
  void commit(const fs::path& final_path) {
    if (::fsync(fd_) != 0) fail("{}: fsync failed: {}", path_.string(), std::strerror(errno));
    if (::close(fd_) != 0) {
      fd_ = -1;
      fail("{}: close failed: {}", path_.string(), std::strerror(errno));
    }
    fd_ = -1;
    std::error_code ec;
    fs::rename(path_, final_path, ec);
    if (ec) fail("{}: cannot rename temporary file into place: {}", final_path.string(), ec.message());
    path_.clear();
    restore_handlers();
  }

 private:
  void restore_handlers() {
    if (!handlers_) return;
    ::sigaction(SIGINT, &g_old_int, nullptr);
    ::sigaction(SIGTERM, &g_old_term, nullptr);
    g_temp_path[0] = '\0';
    handlers_ = false;
  }

  fs::path path_;
  int fd_ = -1;
  bool handlers_ = false;
};

std::size_t item_size(io::DType dtype) { return io::dtype_size(dtype); }

void encode(const float* in, std::size_t n, io::DType dtype, std::uint8_t* out) {
  if (dtype == io::DType::F32) {
    std::memcpy(out, in, n * 4);
    return;
  }
  auto* o = reinterpret_cast<std::uint16_t*>(out);
  if (dtype == io::DType::F16) {
    kernels::elements_in_parallel(n, 1, [&](std::size_t first, std::size_t end) {
      for (std::size_t i = first; i < end; ++i) o[i] = io::f32_to_f16(in[i]);
    });
  } else {
    kernels::elements_in_parallel(n, 1, [&](std::size_t first, std::size_t end) {
      for (std::size_t i = first; i < end; ++i) o[i] = io::f32_to_bf16(in[i]);
    });
  }
}

// Elements [first, first + n) of a tensor into `values`.
void fill_chunk(const SynthTensor& t, std::uint64_t seed, std::uint64_t first, std::size_t n, float* values) {
  switch (t.init) {
    case SynthInit::kNormal:
    case SynthInit::kResidualNormal:
    case SynthInit::kFanInNormal:
      synth_normal(seed, t.name, t.value, first, n, values);
      break;
    case SynthInit::kZeros:
      std::fill(values, values + n, 0.0f);
      break;
    case SynthInit::kOnes:
      std::fill(values, values + n, 1.0f);
      break;
    case SynthInit::kFinalNormGain:
      std::fill(values, values + n, static_cast<float>(t.value));
      if (t.random_signs) {
        std::vector<float> signs(n);
        synth_normal(seed, t.name, 1.0, first, n, signs.data());
        for (std::size_t i = 0; i < n; ++i)
          if (signs[i] < 0.0f) values[i] = -values[i];
      }
      break;
    case SynthInit::kCausalMask: {  // [.., P, P]: 1 where column <= row
      const std::uint64_t P = static_cast<std::uint64_t>(t.shape.back());
      for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t e = first + i;
        values[i] = (e % P) <= (e / P) % P ? 1.0f : 0.0f;
      }
      break;
    }
  }
}

std::string init_description(const ModelConfig& c) {
  return fmt::format(
      "N(0, 0.02) weights and embeddings, residual projections N(0, 0.02/sqrt(2*{})), zero biases, LayerNorm 1/0, "
      "final LayerNorm weight {:.6g}",
      c.n_layer, final_norm_gain(c.d_model));
}

}  // namespace

double final_norm_gain(int d_model) { return kSynthLogitStd / (0.02 * std::sqrt(static_cast<double>(d_model))); }

void synth_normal(std::uint64_t seed, std::string_view name, double stddev, std::uint64_t first, std::uint64_t count,
                  float* out) {
  if (count == 0) return;
  const std::uint64_t key = tensor_key(seed, name);
  const std::uint64_t end = first + count;
  std::uint64_t e = first;
  double z0, z1;
  if (e & 1) {  // odd start: second half of a pair
    normal_pair(key, e >> 1, z0, z1);
    out[0] = static_cast<float>(z1 * stddev);
    ++e;
  }
  const std::uint64_t pairs = (end - e) / 2;
  const std::uint64_t base = e;
  kernels::elements_in_parallel(static_cast<std::size_t>(pairs), 2, [&](std::size_t pair_begin, std::size_t pair_end) {
    for (std::uint64_t k = pair_begin; k < pair_end; ++k) {
      double a, b;
      normal_pair(key, (base >> 1) + k, a, b);
      out[base - first + 2 * k] = static_cast<float>(a * stddev);
      out[base - first + 2 * k + 1] = static_cast<float>(b * stddev);
    }
  });
  e = base + 2 * pairs;
  if (e < end) {  // odd end: first half of a pair
    normal_pair(key, e >> 1, z0, z1);
    out[e - first] = static_cast<float>(z0 * stddev);
  }
}

std::vector<SynthTensor> synth_plan(const ModelConfig& c) {
  const std::string& prefix = family_info(c.arch).base_prefixes.front();
  std::vector<SynthTensor> t;
  for (const auto& e : tensor_table(c)) {
    if (e.role == Role::kTiedCopy) continue;
    double value = 0.0;
    switch (e.init) {
      case SynthInit::kNormal: value = 0.02; break;
      case SynthInit::kResidualNormal: value = 0.02 / std::sqrt(2.0 * c.n_layer); break;
      case SynthInit::kOnes: value = 1.0; break;
      case SynthInit::kFanInNormal: value = 1.0 / std::sqrt(static_cast<double>(e.shape[1])); break;
      case SynthInit::kFinalNormGain: value = final_norm_gain(c.embed_dim); break;
      case SynthInit::kZeros:
      case SynthInit::kCausalMask: break;
    }
    const bool signs = e.init == SynthInit::kFinalNormGain && c.tie_word_embeddings && !c.learned_positions;
    t.push_back({e.top_level ? e.name : prefix + e.name, e.shape, e.init, value, e.parameter(), signs});
  }
  std::sort(t.begin(), t.end(), [](const SynthTensor& a, const SynthTensor& b) { return a.name < b.name; });
  return t;
}

long long synth_parameter_count(const std::vector<SynthTensor>& plan) {
  long long n = 0;
  for (const auto& t : plan)
    if (t.parameter) n += static_cast<long long>(t.num_elements());
  return n;
}

SynthResult synthesize(const SynthOptions& o) {
  const Preset* preset = find_preset(o.preset);
  if (!preset) fail("unknown preset '{}' (available: {})", o.preset, preset_names());
  std::string torch_dtype;
  switch (o.dtype) {
    case io::DType::F32: torch_dtype = "float32"; break;
    case io::DType::F16: torch_dtype = "float16"; break;
    case io::DType::BF16: torch_dtype = "bfloat16"; break;
    default: fail("synth: dtype {} is not supported (f32, f16, bf16)", io::dtype_name(o.dtype));
  }
  nlohmann::json config_doc = preset->config;
  config_doc["torch_dtype"] = torch_dtype;
  const ModelConfig config = parse_config(config_doc, "preset " + preset->name);
  const std::vector<SynthTensor> plan = synth_plan(config);

  // Destination: a new or empty directory, or (with force) one holding a single-file model.
  const fs::path dir = o.out;
  if (dir.empty()) fail("synth: --out is empty");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) fail("{}: exists and is not a directory", dir.string());
  const fs::path config_path = dir / "config.json";
  const fs::path weights_path = dir / "model.safetensors";
  if (fs::exists(dir / "model.safetensors.index.json", ec))
    fail("{}: holds a sharded checkpoint (model.safetensors.index.json); choose another directory", dir.string());
  // A synth killed before config.json went in leaves this marker (and maybe weights without a
  // config): that directory holds nothing finished, so it is redone without --force.
  const fs::path incomplete_marker = dir / ".entroscope-synth-incomplete";
  const bool interrupted_before = fs::exists(incomplete_marker, ec);
  if (!o.force && !interrupted_before && (fs::exists(config_path, ec) || fs::exists(weights_path, ec)))
    fail("{}: already holds a model (config.json / model.safetensors); pass --force to replace it", dir.string());
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create directory: {}", dir.string(), ec.message());
  remove_atomic_write_leftovers(dir);  // temporary files of a killed synth

  // Header (tensors in plan order = by name; one dtype, so this is serialize_safetensors' order).
  const std::size_t item = item_size(o.dtype);
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {
      {"format", "pt"},
      {"entroscope_synth", preset->name},
      {"seed", fmt::format("{}", o.seed)},
      {"init", init_description(config)},
  };
  std::uint64_t offset = 0;
  for (const auto& t : plan) {
    const std::uint64_t bytes = t.num_elements() * item;
    header[t.name] = {{"dtype", std::string(io::dtype_name(o.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  const std::uint64_t total = 8 + header_text.size() + offset;

  // Room for the file (plus 64 MB slack), checked before writing anything.
  fs::space_info space = fs::space(dir, ec);
  if (!ec && space.available < total + (64ull << 20))
    fail("{}: not enough disk space: model.safetensors needs {:.2f} GB, {:.2f} GB available", dir.string(),
         total / 1e9, space.available / 1e9);

  write_file_atomic(incomplete_marker, fmt::format("entroscope synth --preset {} --seed {} in progress (pid {})\n",
                                                   preset->name, o.seed, ::getpid()));
  TempFile tmp(dir / fmt::format(".model.safetensors.tmp.{}", ::getpid()));
  std::uint8_t len_bytes[8];
  const std::uint64_t n = header_text.size();
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<std::uint8_t>((n >> (8 * i)) & 0xFF);
  write_all(tmp.fd(), len_bytes, 8, tmp.path());
  write_all(tmp.fd(), header_text.data(), header_text.size(), tmp.path());
  std::uint64_t written = 8 + header_text.size();

  // Stream: 4 Mi elements at a time (16 MB of floats + encoded bytes).
  constexpr std::size_t kChunk = std::size_t{1} << 22;
  std::vector<float> values;
  std::vector<std::uint8_t> encoded;
  for (const auto& t : plan) {
    const std::uint64_t count = t.num_elements();
    for (std::uint64_t first = 0; first < count; first += kChunk) {
      const std::size_t m = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, count - first));
      values.resize(m);
      fill_chunk(t, o.seed, first, m, values.data());
      encoded.resize(m * item);
      encode(values.data(), m, o.dtype, encoded.data());
      write_all(tmp.fd(), encoded.data(), encoded.size(), tmp.path());
      written += encoded.size();
      if (o.progress) o.progress(written, total);
    }
    fault_point("synth-tensor-written");
  }
  if (written != total) fail("internal: synth wrote {} bytes, expected {}", written, total);

  // Replace: drop an old config.json first, so no reader ever pairs it with the new weights;
  // config.json goes in last, so a directory with config.json always has complete weights.
  if (o.force || interrupted_before) fs::remove(config_path, ec);
  tmp.commit(weights_path);
  fault_point("synth-weights-committed");
  write_file_atomic(config_path, config_json_text(config_doc));
  fs::remove(incomplete_marker, ec);

  SynthResult r;
  r.dir = dir;
  r.file_bytes = total;
  r.parameters = synth_parameter_count(plan);
  r.tensors = plan.size();
  return r;
}

}  // namespace entroscope::model
