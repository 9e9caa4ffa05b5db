// entroscope info: what a checkpoint is and how entroscope holds it in memory.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "io/checkpoint.h"
#include "model/architecture.h"
#include "model/memory_plan.h"

namespace entroscope::cli {

namespace {

struct InfoArgs {
  std::string model;
  bool json = false;
};

std::string position_description(const model::ModelConfig& c) {
  std::string s;
  if (c.learned_positions)
    s = c.position_offset ? fmt::format("learned table (row = position + {})", c.position_offset) : "learned table";
  switch (c.rotary_style) {
    case model::RotaryStyle::kNone: break;
    case model::RotaryStyle::kHalfSplit:
    case model::RotaryStyle::kInterleaved: {
      s += fmt::format("{}rotary ({}) on {} of {} dims per head, base {}", s.empty() ? "" : "; ",
                       c.rotary_style == model::RotaryStyle::kHalfSplit ? "half split" : "interleaved pairs",
                       c.rotary_ndims, c.head_dim, c.rotary_base);
      switch (c.rope_scaling.type) {
        case model::RopeScaling::Type::kNone: break;
        case model::RopeScaling::Type::kLinear: s += fmt::format(", linear scaling x{}", c.rope_scaling.factor); break;
        case model::RopeScaling::Type::kLlama3:
          s += fmt::format(", llama3 scaling (factor {}, low {}, high {}, original context {})", c.rope_scaling.factor,
                           c.rope_scaling.low_freq_factor, c.rope_scaling.high_freq_factor,
                           c.rope_scaling.original_max_positions);
          break;
      }
      break;
    }
  }
  return s.empty() ? "none" : s;
}

std::string attention_description(const model::ModelConfig& c) {
  std::string s;
  switch (c.qkv_source) {
    case model::QkvSource::kFusedBlocks: s = "fused qkv (q|k|v blocks)"; break;
    case model::QkvSource::kFusedPerHead: s = "fused qkv (per head)"; break;
    case model::QkvSource::kSeparate: s = "separate q, k, v"; break;
  }
  std::string biases;
  for (auto [on, name] : {std::pair{c.q_bias, "q"}, {c.k_bias, "k"}, {c.v_bias, "v"}, {c.out_bias, "out"}})
    if (on) biases += fmt::format("{}{}", biases.empty() ? "" : "/", name);
  s += biases.empty() ? ", no biases" : ", biases on " + biases;
  switch (c.qk_norm) {
    case model::QkNorm::kNone: break;
    case model::QkNorm::kPerHead: s += ", RMS QK-norm per head"; break;
    case model::QkNorm::kFullProjection: s += ", RMS QK-norm over the whole projection"; break;
  }
  if (c.n_kv_head != c.n_head) s += fmt::format(", grouped-query ({} query heads per key/value head)", c.n_head / c.n_kv_head);
  s += c.scale_attn_weights ? ", scores / sqrt(head_dim)" : ", unscaled scores";
  if (c.scale_attn_by_inverse_layer_idx) s += " / (layer + 1)";
  int local = 0;
  for (int w : c.layer_window)
    if (w > 0) ++local;
  if (local > 0) s += fmt::format(", local window of {} keys in {} of {} layers",
                                  *std::max_element(c.layer_window.begin(), c.layer_window.end()), local, c.n_layer);
  return s;
}

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
  j["family"] = model::family_name(c.arch);
  j["hf_class"] = model::family_info(c.arch).hf_class;
  j["vocab_size"] = c.vocab_size;
  j["context_length"] = c.max_positions;
  j["d_model"] = c.d_model;
  j["n_layer"] = c.n_layer;
  j["n_head"] = c.n_head;
  j["n_kv_head"] = c.n_kv_head;
  j["head_dim"] = c.head_dim;
  j["d_ff"] = c.d_ff;
  if (c.embed_dim != c.d_model) j["embed_dim"] = c.embed_dim;
  j["activation"] = c.activation_string;
  j["mlp"] = c.gated_mlp ? "gated (SwiGLU)" : "plain";
  j["norm"] = model::norm_name(c.norm);
  j["norm_eps"] = c.norm_eps;
  j["residual"] = model::residual_name(c.residual);
  j["positions"] = position_description(c);
  if (c.rotary_style != model::RotaryStyle::kNone) {
    j["rotary_dims"] = c.rotary_ndims;
    j["rotary_base"] = c.rotary_base;
  }
  j["parallel_residual"] =
      c.residual == model::ResidualWiring::kParallel || c.residual == model::ResidualWiring::kParallelOneNorm;
  j["attention"] = attention_description(c);
  j["attention_windows"] = c.layer_window;
  j["tied_lm_head"] = c.tie_word_embeddings;
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
  const model::WeightMemory memory = model::weight_memory(c, ckpt);
  j["weight_matrix_dtype"] = memory.matrix_dtype;
  j["weight_held_bytes"] = memory.held_bytes;
  j["packed_lm_head_bytes"] = memory.packed_head_bytes;
  j["released_lm_head_bytes"] = memory.released_bytes;
  j["resident_weight_bytes"] = memory.resident_bytes();

  if (args.json) {
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  fmt::print("model           {}\n", m.name);
  fmt::print("path            {}\n", m.dir.string());
  fmt::print("architecture    {} ({}, {}): {} layers, d_model {}, {} heads x {}{}, d_ff {}, vocab {}, context {}\n",
             model::architecture_name(c.arch), model::family_name(c.arch), model::family_info(c.arch).hf_class,
             c.n_layer, c.d_model, c.n_head, c.head_dim,
             c.n_kv_head != c.n_head ? fmt::format(" ({} key/value heads)", c.n_kv_head) : std::string(), c.d_ff,
             c.vocab_size, c.max_positions);
  fmt::print("blocks          {}{}, eps {}; {} residual; {} MLP, {} = {}{}\n", model::norm_name(c.norm),
             c.norm == model::NormKind::kLayerNorm ? "" : " (no bias)", c.norm_eps, model::residual_name(c.residual),
             c.gated_mlp ? "gated (SwiGLU)" : "plain", c.activation_string, model::activation_name(c.activation),
             c.embed_dim != c.d_model ? fmt::format("; embeddings {} wide (project_in/out)", c.embed_dim) : std::string());
  fmt::print("positions       {}\n", position_description(c));
  fmt::print("attention       {}\n", attention_description(c));
  fmt::print("lm head         {}\n", c.tie_word_embeddings ? "tied to the token embedding"
                                                           : (c.lm_head_bias ? "untied, with bias" : "untied"));
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
  fmt::print("in memory       {} (misaligned tensors are never used in place)\n", res);
  fmt::print("resident        {}: weights {} (matrices and embeddings {}{}; norms and biases float32) + LM head "
             "packed as float32 at the first forward {}{}; compute in float32\n",
             model::human_bytes(memory.resident_bytes()), model::human_bytes(memory.held_bytes), memory.matrix_dtype,
             memory.matrix_dtype == "float32" ? "" : ", widened exactly where read", model::human_bytes(memory.packed_head_bytes),
             memory.released_bytes ? fmt::format(" - the mapped head {} then released", model::human_bytes(memory.released_bytes))
                                   : std::string());
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "info",
      "Describe a checkpoint: architecture (family, norms, positions, attention, MLP), dimensions,\n"
      "  parameter counts, stored dtypes, files with\n"
      "  their data-section offsets, how many tensors are used in place (mapped) vs copied, and the\n"
      "  resident weight bytes (16-bit matrices stay 16-bit).\n"
      "  Example: entroscope info --model models/demo-gpt2-m");
  cmd->add_option("model,--model", args->model, "Model directory, demo name or Hub id (positional or --model)")->required();
  cmd->add_flag("--json", args->json, "Print JSON instead of text");
  cmd->callback([args] { run_info(*args); });
}

}  // namespace entroscope::cli
