#pragma once
// The parts of a Hugging Face config.json that change the math, for GPT-2 and GPT-NeoX, in one
// architecture-neutral struct. The differences between the two stay explicit as fields.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace entroscope::model {

enum class Architecture { kGpt2, kGptNeoX };
enum class Activation { kGeluTanh, kGeluErf };  // gelu_new / gelu_fast / gelu_pytorch_tanh vs gelu

std::string_view architecture_name(Architecture a);  // "gpt2" / "gpt_neox"
std::string_view activation_name(Activation a);

struct ModelConfig {
  Architecture arch = Architecture::kGpt2;
  std::string activation_string;  // as written in config.json
  int vocab_size = 0;
  int max_positions = 0;          // n_positions / max_position_embeddings
  int d_model = 0;                // n_embd / hidden_size
  int n_head = 0;
  int head_dim = 0;
  int n_layer = 0;
  int d_ff = 0;                   // n_inner (default 4 d_model) / intermediate_size
  Activation activation = Activation::kGeluTanh;
  double layer_norm_eps = 1e-5;
  // GPT-2 attention scaling
  bool scale_attn_weights = true;
  bool scale_attn_by_inverse_layer_idx = false;
  // GPT-NeoX
  int rotary_ndims = 0;           // int(head_dim * rotary_pct)
  double rotary_base = 10000.0;
  bool parallel_residual = true;
  bool tie_word_embeddings = true;  // GPT-2 always ties lm_head to wte
  bool attention_bias = true;
  std::string torch_dtype;        // informational
  int bos_token_id = -1;
  int eos_token_id = -1;

  // Parameter counts as the model would have them (embeddings counted once when tied).
  long long parameter_count() const;
  long long non_embedding_parameter_count() const;
};

// Parses config.json; throws Error("<path>: ...") for unknown model_type, missing or inconsistent
// fields, and values that would change the math in ways not implemented.
ModelConfig parse_config(const nlohmann::json& doc, const std::string& label);
ModelConfig load_config(const std::filesystem::path& model_dir);

}  // namespace entroscope::model
