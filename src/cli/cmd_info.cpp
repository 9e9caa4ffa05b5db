// entroscope info: what a checkpoint is and how entroscope holds it in memory.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "io/checkpoint.h"

namespace entroscope::cli {

namespace {

struct InfoArgs {
  std::string model;
  bool json = false;
};

void run_info(const InfoArgs& args) {
  model::Model m = load_model_arg(args.model);
  const auto& c = m.config;
  const io::Checkpoint& ckpt = *m.checkpoint;

  std::map<std::string, int> residence_counts;
  std::map<std::string, int> dtype_counts;
  for (const auto& r : ckpt.load_records()) ++residence_counts[std::string(io::residence_name(r.residence))];
  for (const auto& name : ckpt.tensor_names()) ++dtype_counts[std::string(io::dtype_name(ckpt.find(name)->dtype))];

  nlohmann::ordered_json j;
  j["model"] = m.name;
  j["path"] = m.dir.string();
  j["architecture"] = model::architecture_name(c.arch);
  j["vocab_size"] = c.vocab_size;
  j["context_length"] = c.max_positions;
  j["d_model"] = c.d_model;
  j["n_layer"] = c.n_layer;
  j["n_head"] = c.n_head;
  j["head_dim"] = c.head_dim;
  j["d_ff"] = c.d_ff;
  j["activation"] = c.activation_string;
  j["layer_norm_eps"] = c.layer_norm_eps;
  if (c.arch == model::Architecture::kGptNeoX) {
    j["rotary_dims"] = c.rotary_ndims;
    j["rotary_base"] = c.rotary_base;
    j["parallel_residual"] = c.parallel_residual;
  } else {
    j["scale_attn_weights"] = c.scale_attn_weights;
    j["scale_attn_by_inverse_layer_idx"] = c.scale_attn_by_inverse_layer_idx;
  }
  j["tied_lm_head"] = c.arch == model::Architecture::kGpt2 || c.tie_word_embeddings;
  j["params_total"] = c.parameter_count();
  j["params_non_embedding"] = c.non_embedding_parameter_count();
  j["storage_dtypes"] = dtype_counts;
  j["files"] = nlohmann::json::array();
  for (const auto& f : ckpt.files()) {
    const auto& h = f->header();
    std::uint64_t misaligned = 0;
    for (const auto& t : h.tensors)
      if (t.file_offset % io::dtype_size(t.dtype) != 0) ++misaligned;
    j["files"].push_back({{"file", f->path().filename().string()},
                          {"size_bytes", f->file_size()},
                          {"header_bytes", h.header_length},
                          {"data_section_offset", h.data_section_offset},
                          {"data_section_offset_mod_4", h.data_section_offset % 4},
                          {"tensors", h.tensors.size()},
                          {"tensors_misaligned_for_dtype", misaligned}});
  }
  j["weights_in_memory"] = residence_counts;

  if (args.json) {
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("model           {}\n", m.name);
  fmt::print("path            {}\n", m.dir.string());
  fmt::print("architecture    {} ({} layers, d_model {}, {} heads x {}, d_ff {}, vocab {}, context {})\n",
             model::architecture_name(c.arch), c.n_layer, c.d_model, c.n_head, c.head_dim, c.d_ff, c.vocab_size,
             c.max_positions);
  fmt::print("activation      {} = {}\n", c.activation_string, model::activation_name(c.activation));
  if (c.arch == model::Architecture::kGptNeoX)
    fmt::print("rotary          {} of {} dims per head, base {}; {} residual\n", c.rotary_ndims, c.head_dim,
               c.rotary_base, c.parallel_residual ? "parallel" : "sequential");
  fmt::print("parameters      {} total, {} non-embedding\n", c.parameter_count(), c.non_embedding_parameter_count());
  std::string dtypes;
  for (const auto& [d, n] : dtype_counts) dtypes += fmt::format("{}{} x{}", dtypes.empty() ? "" : ", ", d, n);
  fmt::print("stored dtypes   {}\n", dtypes);
  for (const auto& f : j["files"])
    fmt::print("file            {}: {} bytes, header {} bytes, data section at offset {} (mod 4 = {}), {} tensors, {} misaligned for their dtype\n",
               f["file"].get<std::string>(), f["size_bytes"].get<std::uint64_t>(), f["header_bytes"].get<std::uint64_t>(),
               f["data_section_offset"].get<std::uint64_t>(), f["data_section_offset_mod_4"].get<std::uint64_t>(),
               f["tensors"].get<std::uint64_t>(), f["tensors_misaligned_for_dtype"].get<std::uint64_t>());
  std::string res;
  for (const auto& [r, n] : residence_counts) res += fmt::format("{}{} {}", res.empty() ? "" : ", ", n, r);
  fmt::print("in memory       {} (fp32 compute; misaligned tensors are never used in place)\n", res);
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "info",
      "Describe a checkpoint: architecture, dimensions, parameter counts, stored dtypes, files with\n"
      "  their data-section offsets, and how many tensors are used in place (mapped) vs copied.\n"
      "  Example: entroscope info --model models/demo-gpt2-m");
  cmd->add_option("--model", args->model, "Model directory, demo name or Hub id")->required();
  cmd->add_flag("--json", args->json, "Print JSON instead of text");
  cmd->callback([args] { run_info(*args); });
}

}  // namespace entroscope::cli
