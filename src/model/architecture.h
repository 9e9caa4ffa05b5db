#pragma once
// An architecture is data plus one forward file. The data is its tensor table: every tensor a
// checkpoint of that family holds, by role, with its Hugging Face name, its shape as a function
// of the config, whether it may be absent, and how `synth` initializes it. Loading
// (weights.cpp), `synth`, parameter counts, the GEMM shapes and FLOPs of `bench`, `info` and
// doctor's weight scan all read the table; nothing else spells tensor names or shapes.
//
// Each family's file (gpt2.cpp, gpt_neox.cpp, gpt_neo.cpp, gptj.cpp, opt.cpp, llama.cpp,
// olmo2.cpp) holds its config.json parsing, its table and its forward; this header's dispatchers
// are switches over Architecture with no default.
#include <cstdint>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/kernels.h"
#include "model/config.h"

namespace entroscope::model {

// What a tensor is for. Model-level roles and per-layer roles share one enum so that weights are
// stored as arrays indexed by role (weights.h).
enum class Role {
  // model level
  kTokenEmbedding,     // [V, E]
  kPositionEmbedding,  // [P (+ offset), D]
  kProjectIn,          // OPT [D, E]
  kProjectOut,         // OPT [E, D]
  kFinalNormWeight,
  kFinalNormBias,
  kLmHead,             // [V, E]; absent when tied (the token embedding is used)
  kLmHeadBias,         // GPT-J [V]
  // per layer
  kAttnNormWeight,     // the norm before attention (post-LN OPT: after the attention residual)
  kAttnNormBias,
  kQkvWeight,          // fused q|k|v (GPT-2, GPT-NeoX)
  kQkvBias,
  kQWeight,
  kQBias,
  kKWeight,
  kKBias,
  kVWeight,
  kVBias,
  kQNormWeight,        // QK-norm (Qwen3 [head_dim], OLMo-2 [H * head_dim])
  kKNormWeight,
  kAttnOutWeight,
  kAttnOutBias,
  kAttnPostNormWeight,  // OLMo-2: norm of the attention output inside the residual
  kMlpNormWeight,       // the norm before the MLP (post-LN OPT: after the MLP residual)
  kMlpNormBias,
  kMlpUpWeight,
  kMlpUpBias,
  kMlpGateWeight,       // SwiGLU gate
  kMlpGateBias,
  kMlpDownWeight,
  kMlpDownBias,
  kMlpPostNormWeight,   // OLMo-2
  // neither: a stored copy of a tied tensor (accepted, never read) or a buffer synth writes
  kTiedCopy,
  kBuffer,
  kCount
};
inline constexpr int kRoleCount = static_cast<int>(Role::kCount);
std::string_view role_name(Role r);

// How synth initializes a tensor (see synth.h for the values). kFanInNormal: N(0, 1/sqrt(inputs)),
// norm-preserving (OPT's project_out, so the logit scale set by the final norm's gain survives it).
enum class SynthInit { kNormal, kResidualNormal, kFanInNormal, kZeros, kOnes, kFinalNormGain, kCausalMask };

// One tensor of a family's table, for one concrete config.
struct TensorEntry {
  Role role;
  int layer = -1;                     // -1: model level
  std::string name;                   // below the base prefix, layer index filled in
  bool top_level = false;             // outside the base model ("lm_head.weight", "embed_out.weight")
  std::vector<std::int64_t> shape;
  SynthInit init = SynthInit::kZeros;
  bool optional = false;              // may be absent (kTiedCopy)

  bool parameter() const { return role != Role::kTiedCopy && role != Role::kBuffer; }
  std::uint64_t num_elements() const;
};

// What the rest of the program needs to know of a family besides its table.
struct FamilyInfo {
  std::string_view model_type;       // config.json model_type
  std::string_view display_name;     // "GPT-2", "Llama", ...
  std::string_view hf_class;         // transformers' class
  // Base-model prefixes a checkpoint may use, in order of preference; the first is what synth
  // writes. GPT-2's Hub files have none; save_pretrained writes "transformer.".
  std::vector<std::string> base_prefixes;
  kernels::WeightLayout layout;      // kInOut (GPT-2 Conv1D) or kOutIn (nn.Linear)
  // Checkpoint entries that are buffers, not parameters (causal masks, rotary inv_freq): skipped
  // when loading, reported as buffers by doctor. Matched against the whole name.
  std::regex ignored_buffers;
};

const FamilyInfo& family_info(Architecture a);
// The architecture of a config.json model_type, or false.
bool architecture_from_model_type(std::string_view model_type, Architecture& out);
// "gpt2, gpt_neox, ..." for error messages.
std::string supported_model_types();

// The family's config.json fields into `c` (c.arch already set); called by parse_config.
void parse_family_config(const ConfigFields& f, ModelConfig& c);

// The tensor table of a config: every tensor in checkpoint order of no importance, layer entries
// expanded for every layer.
std::vector<TensorEntry> tensor_table(const ModelConfig& c);

// True for a checkpoint entry that is a buffer to ignore (family_info().ignored_buffers).
bool is_ignored_buffer(const std::string& name, Architecture arch);

// The GEMMs of one forward pass, from the table: one per 2-D projection weight (per layer and the
// LM head), as the map K -> N. For bench's FLOPs and --sgemm shapes.
struct GemmShape {
  std::string name;  // the role: "attn.q", "mlp.up", "lm_head", ...
  int K, N;
  int count;         // per forward (layers)
  bool stored_out_in;  // weights stored [N, K]
};
std::vector<GemmShape> forward_gemms(const ModelConfig& c);
// FLOPs of one forward over [B, T] (multiply-add = 2): the GEMMs over every row and attention's
// q.k and p.v over the visible (causal, windowed) pairs.
double forward_flops(const ModelConfig& c, int B, int T);

// Per-family table builders and config parsers (one file each).
#define ES_FAMILY(name)                                                  \
  void name##_parse_config(const ConfigFields& f, ModelConfig& c);       \
  void name##_tensors(const ModelConfig& c, std::vector<TensorEntry>& t);
ES_FAMILY(gpt2)
ES_FAMILY(gpt_neox)
ES_FAMILY(gpt_neo)
ES_FAMILY(gptj)
ES_FAMILY(opt)
ES_FAMILY(llama)
ES_FAMILY(olmo2)
#undef ES_FAMILY

class TableBuilder;
// GPT-2's config field names (n_embd, n_head, n_layer, n_positions, n_inner, activation_function,
// layer_norm_epsilon), shared by gpt2.cpp and gptj.cpp.
void parse_gpt2_style_config(const ConfigFields& f, ModelConfig& c);
// The Llama-style layout shared by llama.cpp (Llama, Mistral, Qwen2, Qwen3) and olmo2.cpp: the
// common config fields (dimensions, head_dim, SwiGLU, RMSNorm, rotary over the whole head, rope
// scaling, tying) and the attention / MLP / embedding / final-norm / head rows of the table.
void parse_llama_style_config(const ConfigFields& f, ModelConfig& c, double default_eps);
void llama_style_attention_tensors(TableBuilder& b, const ModelConfig& c, int layer);
void llama_style_mlp_tensors(TableBuilder& b, const ModelConfig& c, int layer);
void llama_style_ends(TableBuilder& b, const ModelConfig& c, bool before_layers);

// Helpers for the table builders.
class TableBuilder {
 public:
  explicit TableBuilder(std::vector<TensorEntry>& t) : t_(t) {}
  // Model-level tensor below the base prefix.
  void global(Role role, std::string name, std::vector<std::int64_t> shape, SynthInit init) {
    t_.push_back({role, -1, std::move(name), false, std::move(shape), init, false});
  }
  // Model-level tensor outside the base model (lm_head.weight, embed_out.weight).
  void top(Role role, std::string name, std::vector<std::int64_t> shape, SynthInit init, bool optional = false) {
    t_.push_back({role, -1, std::move(name), true, std::move(shape), init, optional});
  }
  // Layer tensor: `pattern` has one "{}" for the layer index.
  void layer(int l, Role role, std::string_view pattern, std::vector<std::int64_t> shape, SynthInit init);

 private:
  std::vector<TensorEntry>& t_;
};

}  // namespace entroscope::model
