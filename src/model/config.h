#pragma once
// The parts of a Hugging Face config.json that change the math, in one architecture-neutral
// struct: every axis on which the supported families differ is an explicit field, so the shared
// blocks (blocks.h) read what varies instead of asking which family they run for. Each family's
// config.json fields are parsed in its own file (gpt2.cpp, llama.cpp, ...), dispatched by a switch
// over Architecture (architecture.cpp).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace entroscope::model {

// One value per config.json model_type. Adding one: see docs/architectures.md. Every switch over
// it has no default (compiled with -Werror=switch), so the compiler lists each place to extend.
enum class Architecture { kGpt2, kGptNeoX, kGptNeo, kGptJ, kOpt, kLlama, kMistral, kQwen2, kQwen3, kOlmo2 };

// Every architecture, in the order `info` and docs list them.
inline constexpr Architecture kAllArchitectures[] = {
    Architecture::kGpt2,  Architecture::kGptNeoX, Architecture::kGptNeo, Architecture::kGptJ,  Architecture::kOpt,
    Architecture::kLlama, Architecture::kMistral, Architecture::kQwen2,  Architecture::kQwen3, Architecture::kOlmo2};

std::string_view architecture_name(Architecture a);  // the model_type: "gpt2", "gpt_neox", "llama", ...
std::string_view family_name(Architecture a);        // for people and results: "GPT-2", "Pythia/GPT-NeoX", ...

enum class Activation { kGeluTanh, kGeluErf, kRelu, kSilu };
std::string_view activation_name(Activation a);

enum class NormKind { kLayerNorm, kRmsNorm };
std::string_view norm_name(NormKind n);

// Where q, k and v come from: one fused projection whose output is three blocks q | k | v
// (GPT-2's c_attn), one fused projection split per head into [q k v] (GPT-NeoX), or three
// separate projections (everything else; written into the blocks layout).
enum class QkvSource { kFusedBlocks, kFusedPerHead, kSeparate };

// Rotary pairs: (i, i + rotary_dims/2) (rotate_half: NeoX, Llama, ...) or (2i, 2i+1) (GPT-J).
enum class RotaryStyle { kNone, kHalfSplit, kInterleaved };

// QK-norm: RMSNorm of each q/k head after the split (Qwen3), or of the whole q/k projection before
// it (OLMo-2).
enum class QkNorm { kNone, kPerHead, kFullProjection };

// How a block's branches join the residual stream.
enum class ResidualWiring {
  kSequential,       // x += attn(norm1(x)); x += mlp(norm2(x))              GPT-2, GPT-Neo, Llama, ...
  kParallel,         // x += attn(norm1(x)) + mlp(norm2(x))                 GPT-NeoX use_parallel_residual
  kParallelOneNorm,  // h = norm1(x); x += attn(h) + mlp(h)                 GPT-J
  kPostLayerNorm,    // x = norm1(x + attn(x)); x = norm2(x + mlp(x))       OPT do_layer_norm_before=false
  kPostNormInside,   // x += norm1(attn(x)); x += norm2(mlp(x))             OLMo-2
};
std::string_view residual_name(ResidualWiring r);

struct RopeScaling {
  enum class Type { kNone, kLinear, kLlama3 } type = Type::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_positions = 8192.0;
};

struct ModelConfig {
  Architecture arch = Architecture::kGpt2;
  std::string activation_string;  // as written in config.json
  int vocab_size = 0;
  int max_positions = 0;          // n_positions / max_position_embeddings
  int d_model = 0;                // n_embd / hidden_size
  int n_head = 0;                 // query heads
  int n_kv_head = 0;              // key/value heads (== n_head without grouped-query attention)
  int head_dim = 0;               // explicit head_dim or d_model / n_head
  int n_layer = 0;
  int d_ff = 0;                   // MLP width
  int embed_dim = 0;              // token embedding width: d_model, or OPT's word_embed_proj_dim
  Activation activation = Activation::kGeluTanh;
  bool gated_mlp = false;         // SwiGLU: down(act(gate(x)) * up(x))
  NormKind norm = NormKind::kLayerNorm;
  double norm_eps = 1e-5;
  bool final_norm = true;         // false: OPT post-LN (opt-350m) has no decoder final norm
  // Attention
  QkvSource qkv_source = QkvSource::kFusedBlocks;
  bool q_bias = false, k_bias = false, v_bias = false, out_bias = false;
  bool mlp_bias = true;           // every MLP projection
  QkNorm qk_norm = QkNorm::kNone;
  bool scale_attn_weights = true;               // scores / sqrt(head_dim) (GPT-Neo: false)
  bool scale_attn_by_inverse_layer_idx = false;  // GPT-2: also / (layer + 1)
  std::vector<int> layer_window;  // per layer: keys i - w < j <= i visible (0 = full causal)
  // Positions
  bool learned_positions = false;  // wpe / embed_positions table
  int position_offset = 0;         // OPT reads row pos + 2
  RotaryStyle rotary_style = RotaryStyle::kNone;
  int rotary_ndims = 0;            // rotated dims per head (the first ones)
  double rotary_base = 10000.0;    // rope_theta / rotary_emb_base
  RopeScaling rope_scaling;
  // Residual wiring and the LM head. The sequence of blocks is in each family's forward file;
  // these are the variants inside a family.
  ResidualWiring residual = ResidualWiring::kSequential;
  bool tie_word_embeddings = true;
  bool lm_head_bias = false;       // GPT-J
  std::string torch_dtype;         // informational
  int bos_token_id = -1;
  int eos_token_id = -1;

  // Parameter counts from the architecture's tensor table (embeddings counted once when tied).
  long long parameter_count() const;
  // Without token/position embeddings and the LM head.
  long long non_embedding_parameter_count() const;
  // Attention scale of layer `l` (0-based).
  double attention_scale(int layer) const;
  // inv_freq[i], i < rotary_ndims / 2, in double, after rope scaling.
  std::vector<double> rotary_inv_freq() const;
  int qkv_width() const { return (n_head + 2 * n_kv_head) * head_dim; }
};

// Parses config.json; throws Error("<path>: ...") for unknown model_type, missing or inconsistent
// fields, and values that would change the math in ways not implemented.
ModelConfig parse_config(const nlohmann::json& doc, const std::string& label);
ModelConfig load_config(const std::filesystem::path& model_dir);

// The most layers a config may declare; published models have at most a few hundred.
inline constexpr int kMaxLayers = 4096;
// The largest attention head size accepted (published models use 64-256); per-head tables such as the
// rotary frequencies are sized by it.
inline constexpr int kMaxHeadDim = 16384;
// The largest hidden size accepted (published models: up to ~16k); defaults derived from it, such as
// GPT-2's 4 x n_embd, must not overflow an int.
inline constexpr int kMaxHiddenSize = 1 << 20;

// Reading config.json fields with one-line errors naming the file and field; shared by the
// per-family parsers.
class ConfigFields {
 public:
  ConfigFields(const nlohmann::json& doc, const std::string& label) : doc_(doc), label_(label) {}
  const std::string& label() const { return label_; }
  const nlohmann::json& doc() const { return doc_; }

  bool has(const char* key) const { return doc_.contains(key) && !doc_[key].is_null(); }
  int positive_int(const char* key) const;
  // A layer count: positive and at most kMaxLayers (per-layer tables are sized by it before any
  // weight is seen, so a typo such as 1e9 layers must fail here rather than exhaust memory).
  int layer_count(const char* key) const;
  int hidden_size(const char* key) const;  // positive and at most kMaxHiddenSize
  int int_or(const char* key, int fallback) const;  // positive when present
  double number_or(const char* key, double fallback) const;
  bool bool_or(const char* key, bool fallback) const;
  std::string string_or(const char* key, const std::string& fallback) const;
  int token_id_or(const char* key) const;
  // Fails when `key` is present with a value other than `expected` (a field this code does not
  // implement beyond its default).
  void require_bool(const char* key, bool expected, const char* why) const;

 private:
  const nlohmann::json& doc_;
  const std::string& label_;
};

// transformers' ACT2FN names: "gelu" (exact erf), "gelu_new" / "gelu_fast" / "gelu_pytorch_tanh"
// (tanh form), "relu", "silu" / "swish". Anything else: Error naming the field.
Activation parse_activation(const std::string& name, const ConfigFields& f, const char* key);
// rope_scaling / rope_parameters (rope_theta, rope_type default / linear / llama3); an unknown
// rope type is an error.
void parse_rope(const ConfigFields& f, ModelConfig& c, double default_theta);

}  // namespace entroscope::model
