// entroscope doctor: find why a model gives NaN or wrong numbers, in one command.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "doctor/doctor.h"

namespace entroscope::cli {

namespace {

struct DoctorArgs {
  std::string model;
  std::string text;
  std::string input_ids;
  std::string compare;
  double tolerance = 1e-3;
  bool json = false;
  int threads = 0;
};

void run_doctor_command(const DoctorArgs& a) {
  apply_thread_count(a.threads);
  doctor::DoctorOptions o;
  o.model_dir = resolve_model_dir(a.model);
  o.model_name = a.model;
  if (!a.text.empty()) o.text = a.text;
  if (!a.input_ids.empty()) o.input_ids = a.input_ids;
  if (!a.compare.empty()) o.compare = a.compare;
  o.compare_tolerance = a.tolerance;
  doctor::Report report = doctor::run_doctor(o);
  if (a.json)
    fmt::print("{}\n", doctor::render_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    fmt::print("{}", doctor::render_text(report));
  if (report.worst() == doctor::Severity::kProblem) throw ExitCode{1};
}

}  // namespace

void add_doctor_command(CLI::App& app) {
  auto args = std::make_shared<DoctorArgs>();
  CLI::App* cmd = app.add_subcommand(
      "doctor",
      "Diagnose a checkpoint: why does it give NaN or wrong numbers?\n"
      "  Files: header, data-section offset, every tensor's absolute offset mod 4/16/64 and whether\n"
      "  it is aligned for its dtype (misaligned fp32 handed zero-copy to BLAS is a known cause of NaN).\n"
      "  Weights: NaN/Inf counts and extremes. Activations: one forward with statistics after every\n"
      "  sub-step and the first non-finite value (layer, step, token, channel). Precision: fp32 vs a\n"
      "  float64 forward, and emulated fp16/bf16 with the first overflow. --compare: per-layer\n"
      "  divergence from a reference dump (hidden.0..hidden.L, logits; transformers' layout).\n"
      "  Exit status: 0 healthy (warnings allowed), 1 a problem was found, 2 bad usage.\n"
      "  Example: entroscope doctor models/demo-gpt2-m --text \"ROMEO:\" --json");
  cmd->add_option("model,--model", args->model, "Model directory, demo name or Hub id (positional or --model)")->required();
  auto* text = cmd->add_option("--text", args->text, "Sample text for the forward checks (needs tokenizer files)");
  cmd->add_option("--input-ids", args->input_ids, "safetensors file with input_ids (I64 [B, T]); the first row is used")
      ->excludes(text)
      ->check(CLI::ExistingFile);
  cmd->add_option("--compare", args->compare, "Reference safetensors with hidden.K and/or logits to compare against")
      ->check(CLI::ExistingFile);
  cmd->add_option("--compare-tolerance", args->tolerance,
                  "Divergence threshold: max|Δ| > tolerance x max(1, max|reference|)")
      ->default_val(1e-3);
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores)")->default_val(0);
  cmd->callback([args] { run_doctor_command(*args); });
}

}  // namespace entroscope::cli
