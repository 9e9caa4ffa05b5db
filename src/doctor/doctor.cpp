#include "doctor/doctor.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "doctor/activation_check.h"
#include "doctor/file_check.h"
#include "doctor/weight_check.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace entroscope::doctor {

namespace fs = std::filesystem;

namespace {

// A sample with ordinary prose, numbers and punctuation, long enough for residual-stream outliers
// to show (GPT-2's grow over the first tokens).
constexpr const char* kSampleText =
    "The researchers measured how the entropy of the next token changed as the models grew from 124 million to "
    "1.5 billion parameters. Every number was checked twice; none of them was NaN.";

std::vector<std::int32_t> choose_input(const DoctorOptions& o, const model::Model& m, nlohmann::ordered_json& input) {
  std::vector<std::int32_t> ids;
  const int limit = std::min(o.max_tokens, m.config.max_positions);
  if (o.input_ids) {
    io::SafetensorsFile f(*o.input_ids);
    const io::TensorInfo& info = f.at("input_ids");
    auto ids64 = io::read_as_i64(f, info);
    std::size_t row = info.shape.size() == 2 ? static_cast<std::size_t>(info.shape[1]) : ids64.size();
    ids.assign(ids64.begin(), ids64.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(row, ids64.size())));
    input["source"] = o.input_ids->string() + " (first row)";
  } else {
    bool has_tokenizer = fs::exists(o.model_dir / "tokenizer.json") || fs::exists(o.model_dir / "vocab.json");
    if (o.text && !has_tokenizer)
      fail("{}: --text needs tokenizer files (tokenizer.json or vocab.json + merges.txt); use --input-ids",
           o.model_dir.string());
    if (has_tokenizer) {
      auto tok = tokenizer::Tokenizer::load(o.model_dir);
      std::string text = o.text.value_or(kSampleText);
      ids = tok.encode(text);
      input["source"] = o.text ? "--text" : "built-in sample text";
      input["text"] = text;
    } else {
      // No tokenizer (bare checkpoint): a fixed, spread-out id sequence.
      for (int t = 0; t < std::min(64, limit); ++t)
        ids.push_back(static_cast<std::int32_t>((static_cast<long long>(t) * 7919 + 13) % m.config.vocab_size));
      input["source"] = "synthetic ids (no tokenizer files)";
    }
  }
  if (ids.empty()) fail("doctor: the input has no tokens");
  if (static_cast<int>(ids.size()) > limit) ids.resize(limit);
  input["tokens"] = ids.size();
  return ids;
}

}  // namespace

Report run_doctor(const DoctorOptions& o) {
  Report report;
  report.model = o.model_name.empty() ? o.model_dir.string() : o.model_name;
  check_files(o.model_dir, report);

  std::optional<model::Model> m;
  try {
    m = model::load_model(o.model_dir, report.model);
  } catch (const Error& e) {
    report.add(Severity::kProblem, "model", e.what());
    return report;  // the forward checks need a loadable model
  }
  check_weights(*m->checkpoint, m->config, report);
  nlohmann::ordered_json input;
  std::vector<std::int32_t> ids = choose_input(o, *m, input);
  report.sections["input"] = input;
  check_activations(*m, ids, report);
  check_precision(*m, ids, report);
  if (o.compare) compare_with_reference(*m, ids, *o.compare, o.compare_tolerance, report);
  return report;
}

nlohmann::ordered_json render_json(const Report& r) {
  nlohmann::ordered_json j;
  j["model"] = r.model;
  j["verdict"] = severity_name(r.worst());
  j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : r.findings)
    j["findings"].push_back({{"severity", severity_name(f.severity)}, {"section", f.section}, {"message", f.message}});
  for (auto it = r.sections.begin(); it != r.sections.end(); ++it) j[it.key()] = it.value();
  return j;
}

std::string render_text(const Report& r) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  int warnings = 0, problems = 0;
  for (const auto& f : r.findings) {
    warnings += f.severity == Severity::kWarning;
    problems += f.severity == Severity::kProblem;
  }
  line(fmt::format("entroscope doctor: {}", r.model));
  if (problems > 0)
    line(fmt::format("VERDICT: PROBLEM ({} problem(s), {} warning(s))", problems, warnings));
  else
    line(fmt::format("VERDICT: healthy{}", warnings ? fmt::format(" ({} warning(s))", warnings) : ""));
  for (Severity s : {Severity::kProblem, Severity::kWarning, Severity::kOk})
    for (const auto& f : r.findings)
      if (f.severity == s) line(fmt::format("  [{}] {}: {}", severity_name(f.severity), f.section, f.message));

  if (r.sections.contains("files")) {
    line("\n== Files ==");
    for (const auto& f : r.sections["files"]) {
      if (f.contains("error")) {
        line(fmt::format("{}: {}", f["file"].get<std::string>(), f["error"].get<std::string>()));
        continue;
      }
      const auto& mod = f["data_section_offset_mod"];
      line(fmt::format("{}: {} bytes; header {} bytes; data section at offset {} (mod 4 = {}, mod 16 = {}, mod 64 = {}); "
                       "{} tensors misaligned for their dtype",
                       f["file"].get<std::string>(), f["size_bytes"].get<std::uint64_t>(),
                       f["header_bytes"].get<std::uint64_t>(), f["data_section_offset"].get<std::uint64_t>(),
                       mod["4"].get<std::uint64_t>(), mod["16"].get<std::uint64_t>(), mod["64"].get<std::uint64_t>(),
                       f["misaligned_for_dtype"].get<int>()));
      line(fmt::format("  {:<44} {:<5} {:>12} {:>10} {:>3} {:>3} {:>3}  {}", "tensor", "dtype", "bytes", "offset", "%4",
                       "%16", "%64", "aligned"));
      for (const auto& t : f["tensors"])
        line(fmt::format("  {:<44} {:<5} {:>12} {:>10} {:>3} {:>3} {:>3}  {}", t["name"].get<std::string>(),
                         t["dtype"].get<std::string>(), t["bytes"].get<std::uint64_t>(),
                         t["file_offset"].get<std::uint64_t>(), t["offset_mod_4"].get<std::uint64_t>(),
                         t["offset_mod_16"].get<std::uint64_t>(), t["offset_mod_64"].get<std::uint64_t>(),
                         t["aligned_for_dtype"].get<bool>() ? "yes" : "NO (copied by entroscope)"));
    }
  }
  if (r.sections.contains("weights")) {
    line("\n== Weights (largest |value|) ==");
    for (const auto& t : r.sections["weights"]["largest_absmax"])
      line(fmt::format("  {:<44} {:.6g}", t["name"].get<std::string>(), t["absmax"].get<double>()));
  }
  if (r.sections.contains("activations")) {
    const auto& a = r.sections["activations"];
    line(fmt::format("\n== Activations ({} tokens; {}) ==", a["tokens"].get<int>(),
                     r.sections["input"]["source"].get<std::string>()));
    line(fmt::format("  {:<8} {:<14} {:>12} {:>12} {:>12} {:>6}", "layer", "step", "max|x|", "mean", "std", "nonfin"));
    for (const auto& s : a["steps"])
      line(fmt::format("  {:<8} {:<14} {:>12.5g} {:>12.5g} {:>12.5g} {:>6}",
                       s["layer"].get<int>() >= 0 ? std::to_string(s["layer"].get<int>()) : std::string("-"),
                       s["step"].get<std::string>(), s["absmax"].get<double>(), s["mean"].get<double>(),
                       s["std"].get<double>(), s["nan"].get<std::uint64_t>() + s["inf"].get<std::uint64_t>()));
  }
  if (r.sections.contains("precision") && r.sections["precision"].contains("paths")) {
    line("\n== Precision (vs a float64 forward over the same weights and tokens) ==");
    line(fmt::format("  {:<18} {:>14} {:>18} {:>10}  {}", "path", "max|Δlogit|", "max|Δentropy| bit", "nonfinite",
                     "first overflow"));
    for (const auto& p : r.sections["precision"]["paths"])
      line(fmt::format("  {:<18} {:>14.3e} {:>18.3e} {:>10}  {}", p["path"].get<std::string>(),
                       p["max_abs_dlogit_vs_f64"].get<double>(), p["max_abs_dentropy_bits_vs_f64"].get<double>(),
                       p["non_finite_logits"].get<std::uint64_t>(),
                       p.contains("first_overflow") ? p["first_overflow"].get<std::string>() : std::string("none")));
  }
  if (r.sections.contains("compare")) {
    const auto& c = r.sections["compare"];
    line(fmt::format("\n== Compare with {} (relative tolerance {}) ==", c["reference"].get<std::string>(),
                     c["tolerance_relative"].get<double>()));
    line(fmt::format("  {:<10} {:>14} {:>14} {:>14}  {}", "tensor", "max|Δ|", "rms Δ", "max|ref|", "verdict"));
    for (const auto& t : c["tensors"])
      line(fmt::format("  {:<10} {:>14.4g} {:>14.4g} {:>14.4g}  {}", t["tensor"].get<std::string>(),
                       t["max_abs_diff"].get<double>(), t["rms_diff"].get<double>(),
                       t["max_abs_reference"].get<double>(),
                       t["beyond_tolerance"].get<bool>() ? "DIVERGES" : "ok"));
  }
  return out;
}

}  // namespace entroscope::doctor
