// entroscope forward: ids in, logits / entropy / surprisal (/ hidden states) out, in the layout of
// the golden fixtures' expected.safetensors.
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "common/error.h"
#include "io/safetensors.h"
#include "metrics/entropy.h"
#include "model/forward.h"

namespace entroscope::cli {

namespace {

struct ForwardArgs {
  std::string model;
  std::string input;
  std::string output;
  bool hidden_states = false;
  int threads = 0;
  std::string device = "cpu";
};

void run_forward(const ForwardArgs& args) {
  apply_thread_count(args.threads);
  const kernels::Device device = chosen_device(args.device, "forward");
  // Read the ids first: a bad input file should fail before a large model is loaded.
  io::SafetensorsFile in(args.input);
  const io::TensorInfo* ids_info = in.find("input_ids");
  if (!ids_info) fail("{}: no tensor 'input_ids' (expected I64 [B, T])", args.input);
  if (ids_info->shape.size() != 2)
    fail("{}: input_ids has shape {}, expected [B, T]", args.input, ids_info->shape_string());
  const int B = static_cast<int>(ids_info->shape[0]), T = static_cast<int>(ids_info->shape[1]);
  std::vector<std::int64_t> ids64 = io::read_as_i64(in, *ids_info);
  std::vector<std::int32_t> ids(ids64.size());
  for (std::size_t i = 0; i < ids64.size(); ++i) {
    if (ids64[i] < 0 || ids64[i] > INT32_MAX) fail("{}: input_ids[{}] = {} is not a valid token id", args.input, i, ids64[i]);
    ids[i] = static_cast<std::int32_t>(ids64[i]);
  }

  model::Model m = load_model_arg(args.model);
  const auto& c = m.config;
  std::vector<float> logits(static_cast<std::size_t>(B) * T * c.vocab_size);
  std::vector<std::vector<float>> hidden;
  if (device == kernels::Device::kCuda) {
    const model::DeviceWeights weights = model::upload_weights(m);
    model::forward_on_device(m, weights, ids, B, T, logits.data(), args.hidden_states ? &hidden : nullptr);
  } else {
    model::Activations act;
    model::forward(m, ids, B, T, act, {logits.data(), args.hidden_states ? &hidden : nullptr});
  }

  std::vector<double> entropy(static_cast<std::size_t>(B) * T);
  std::vector<double> surprisal(static_cast<std::size_t>(B) * (T - 1));
  metrics::score_rows(logits.data(), ids.data(), B, T, c.vocab_size, entropy.data(), surprisal.data());

  std::vector<io::TensorToWrite> tensors;
  tensors.push_back({"input_ids", io::DType::I64, {B, T}, io::as_bytes_span(ids64)});
  tensors.push_back({"logits", io::DType::F32, {B, T, c.vocab_size}, io::as_bytes_span(logits)});
  tensors.push_back({"entropy_bits", io::DType::F64, {B, T}, io::as_bytes_span(entropy)});
  tensors.push_back({"surprisal_bits", io::DType::F64, {B, T - 1}, io::as_bytes_span(surprisal)});
  // d_model wide, except the last after OPT's project_out (word_embed_proj_dim).
  for (std::size_t k = 0; k < hidden.size(); ++k) {
    const std::int64_t width = static_cast<std::int64_t>(hidden[k].size()) / (static_cast<std::int64_t>(B) * T);
    tensors.push_back({fmt::format("hidden.{}", k), io::DType::F32, {B, T, width}, io::as_bytes_span(hidden[k])});
  }
  std::map<std::string, std::string> metadata = model_metadata(m);
  metadata["device"] = kernels::device_name(device);
  if (device == kernels::Device::kCuda) metadata["device_name"] = kernels::cuda_device_description();
  io::write_safetensors(args.output, tensors, metadata);
}

}  // namespace

void add_forward_command(CLI::App& app) {
  auto args = std::make_shared<ForwardArgs>();
  CLI::App* cmd = app.add_subcommand(
      "forward",
      "Run the model on token ids and write logits, per-token entropy and surprisal.\n"
      "  IN.safetensors holds input_ids (I64 [B, T]: B independent sequences, positions 0..T-1).\n"
      "  OUT.safetensors gets logits (F32 [B,T,V]), entropy_bits (F64 [B,T]: entropy in bits of the\n"
      "  next-token distribution after each prefix), surprisal_bits (F64 [B,T-1]: -log2 p(ids[t+1]))\n"
      "  and, with --hidden-states, hidden.0..hidden.L (F32 [B,T,D], transformers' output_hidden_states;\n"
      "  OPT with word_embed_proj_dim: hidden.L after project_out).\n"
      "  Example: entroscope forward --model models/demo-gpt2-s --input ids.safetensors --output out.safetensors");
  cmd->add_option("model,--model", args->model, "Model directory (config.json + model.safetensors), demo name or Hub id (positional or --model)")->required();
  cmd->add_option("--input", args->input, "safetensors file with input_ids (I64 [B, T])")->required()->check(CLI::ExistingFile);
  cmd->add_option("--output", args->output, "safetensors file to write (written atomically)")->required();
  cmd->add_flag("--hidden-states", args->hidden_states, "Also write hidden.0 .. hidden.L");
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores); results do not depend on it")
      ->default_val(0);
  add_device_option(cmd, args->device);
  cmd->callback([args] { run_forward(*args); });
}

}  // namespace entroscope::cli
