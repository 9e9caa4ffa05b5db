#include "model/architecture.h"

#include <fmt/format.h>

#include "common/error.h"

namespace entroscope::model {

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kTokenEmbedding: return "token_embedding";
    case Role::kPositionEmbedding: return "position_embedding";
    case Role::kProjectIn: return "project_in";
    case Role::kProjectOut: return "project_out";
    case Role::kFinalNormWeight: return "final_norm.weight";
    case Role::kFinalNormBias: return "final_norm.bias";
    case Role::kLmHead: return "lm_head";
    case Role::kLmHeadBias: return "lm_head.bias";
    case Role::kAttnNormWeight: return "attn.norm.weight";
    case Role::kAttnNormBias: return "attn.norm.bias";
    case Role::kQkvWeight: return "attn.qkv";
    case Role::kQkvBias: return "attn.qkv.bias";
    case Role::kQWeight: return "attn.q";
    case Role::kQBias: return "attn.q.bias";
    case Role::kKWeight: return "attn.k";
    case Role::kKBias: return "attn.k.bias";
    case Role::kVWeight: return "attn.v";
    case Role::kVBias: return "attn.v.bias";
    case Role::kQNormWeight: return "attn.q_norm.weight";
    case Role::kKNormWeight: return "attn.k_norm.weight";
    case Role::kAttnOutWeight: return "attn.out";
    case Role::kAttnOutBias: return "attn.out.bias";
    case Role::kAttnPostNormWeight: return "attn.post_norm.weight";
    case Role::kMlpNormWeight: return "mlp.norm.weight";
    case Role::kMlpNormBias: return "mlp.norm.bias";
    case Role::kMlpUpWeight: return "mlp.up";
    case Role::kMlpUpBias: return "mlp.up.bias";
    case Role::kMlpGateWeight: return "mlp.gate";
    case Role::kMlpGateBias: return "mlp.gate.bias";
    case Role::kMlpDownWeight: return "mlp.down";
    case Role::kMlpDownBias: return "mlp.down.bias";
    case Role::kMlpPostNormWeight: return "mlp.post_norm.weight";
    case Role::kTiedCopy: return "tied copy";
    case Role::kBuffer: return "buffer";
    case Role::kCount: break;
  }
  return "?";
}

std::uint64_t TensorEntry::num_elements() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

void TableBuilder::layer(int l, Role role, std::string_view pattern, std::vector<std::int64_t> shape, SynthInit init) {
  t_.push_back({role, l, fmt::format(fmt::runtime(pattern), l), false, std::move(shape), init, false});
}

namespace {
using kernels::WeightLayout;

FamilyInfo make_info(Architecture a) {
  switch (a) {
    case Architecture::kGpt2:
      // "h.N.attn.bias" is the causal mask; "h.N.attn.c_attn.bias" is a real weight: whole-name match.
      return {"gpt2", "GPT-2", "GPT2LMHeadModel", {"", "transformer."}, WeightLayout::kInOut,
              std::regex(R"((transformer\.)?h\.\d+\.attn\.(bias|masked_bias))")};
    case Architecture::kGptNeoX:
      return {"gpt_neox", "GPT-NeoX", "GPTNeoXForCausalLM", {"gpt_neox.", ""}, WeightLayout::kOutIn,
              std::regex(R"((gpt_neox\.)?layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq))")};
    case Architecture::kGptNeo:
      // attn.attention.out_proj.bias is a real parameter; attn.attention.bias the mask.
      return {"gpt_neo", "GPT-Neo", "GPTNeoForCausalLM", {"transformer.", ""}, WeightLayout::kOutIn,
              std::regex(R"((transformer\.)?h\.\d+\.attn\.attention\.(bias|masked_bias))")};
    case Architecture::kGptJ:
      return {"gptj", "GPT-J", "GPTJForCausalLM", {"transformer.", ""}, WeightLayout::kOutIn,
              std::regex(R"((transformer\.)?h\.\d+\.attn\.(bias|masked_bias|rotary_emb\.inv_freq|embed_positions))")};
    case Architecture::kOpt:
      return {"opt", "OPT", "OPTForCausalLM", {"model.decoder.", "decoder.", ""}, WeightLayout::kOutIn,
              std::regex(R"(^$)")};
    case Architecture::kLlama:
      return {"llama", "Llama", "LlamaForCausalLM", {"model.", ""}, WeightLayout::kOutIn,
              std::regex(R"((model\.)?layers\.\d+\.self_attn\.rotary_emb\.inv_freq)")};
    case Architecture::kMistral:
      return {"mistral", "Mistral", "MistralForCausalLM", {"model.", ""}, WeightLayout::kOutIn,
              std::regex(R"((model\.)?layers\.\d+\.self_attn\.rotary_emb\.inv_freq)")};
    case Architecture::kQwen2:
      return {"qwen2", "Qwen2", "Qwen2ForCausalLM", {"model.", ""}, WeightLayout::kOutIn,
              std::regex(R"((model\.)?layers\.\d+\.self_attn\.rotary_emb\.inv_freq)")};
    case Architecture::kQwen3:
      return {"qwen3", "Qwen3", "Qwen3ForCausalLM", {"model.", ""}, WeightLayout::kOutIn,
              std::regex(R"((model\.)?layers\.\d+\.self_attn\.rotary_emb\.inv_freq)")};
    case Architecture::kOlmo2:
      return {"olmo2", "OLMo-2", "Olmo2ForCausalLM", {"model.", ""}, WeightLayout::kOutIn,
              std::regex(R"((model\.)?layers\.\d+\.self_attn\.rotary_emb\.inv_freq)")};
  }
  fail("internal: unknown architecture {}", static_cast<int>(a));
}

const std::vector<FamilyInfo>& all_infos() {
  static const std::vector<FamilyInfo> infos = [] {
    std::vector<FamilyInfo> v;
    for (Architecture a : kAllArchitectures) v.push_back(make_info(a));
    return v;
  }();
  return infos;
}
}  // namespace

const FamilyInfo& family_info(Architecture a) {
  for (std::size_t i = 0; i < std::size(kAllArchitectures); ++i)
    if (kAllArchitectures[i] == a) return all_infos()[i];
  fail("internal: architecture {} missing from kAllArchitectures", static_cast<int>(a));
}

bool architecture_from_model_type(std::string_view model_type, Architecture& out) {
  for (Architecture a : kAllArchitectures) {
    if (family_info(a).model_type == model_type) {
      out = a;
      return true;
    }
  }
  return false;
}

std::string supported_model_types() {
  std::string s;
  for (Architecture a : kAllArchitectures) s += fmt::format("{}{}", s.empty() ? "" : ", ", family_info(a).model_type);
  return s;
}

std::string_view architecture_name(Architecture a) { return family_info(a).model_type; }
std::string_view family_name(Architecture a) { return family_info(a).display_name; }

void parse_family_config(const ConfigFields& f, ModelConfig& c) {
  switch (c.arch) {
    case Architecture::kGpt2: return gpt2_parse_config(f, c);
    case Architecture::kGptNeoX: return gpt_neox_parse_config(f, c);
    case Architecture::kGptNeo: return gpt_neo_parse_config(f, c);
    case Architecture::kGptJ: return gptj_parse_config(f, c);
    case Architecture::kOpt: return opt_parse_config(f, c);
    case Architecture::kLlama:
    case Architecture::kMistral:
    case Architecture::kQwen2:
    case Architecture::kQwen3: return llama_parse_config(f, c);
    case Architecture::kOlmo2: return olmo2_parse_config(f, c);
  }
}

std::vector<TensorEntry> tensor_table(const ModelConfig& c) {
  std::vector<TensorEntry> t;
  switch (c.arch) {
    case Architecture::kGpt2: gpt2_tensors(c, t); break;
    case Architecture::kGptNeoX: gpt_neox_tensors(c, t); break;
    case Architecture::kGptNeo: gpt_neo_tensors(c, t); break;
    case Architecture::kGptJ: gptj_tensors(c, t); break;
    case Architecture::kOpt: opt_tensors(c, t); break;
    case Architecture::kLlama:
    case Architecture::kMistral:
    case Architecture::kQwen2:
    case Architecture::kQwen3: llama_tensors(c, t); break;
    case Architecture::kOlmo2: olmo2_tensors(c, t); break;
  }
  return t;
}

bool is_ignored_buffer(const std::string& name, Architecture arch) {
  return std::regex_match(name, family_info(arch).ignored_buffers);
}

namespace {
bool is_embedding_role(Role r) {
  return r == Role::kTokenEmbedding || r == Role::kPositionEmbedding || r == Role::kLmHead || r == Role::kLmHeadBias;
}
}  // namespace

long long ModelConfig::parameter_count() const {
  long long n = 0;
  for (const auto& e : tensor_table(*this))
    if (e.parameter()) n += static_cast<long long>(e.num_elements());
  return n;
}

long long ModelConfig::non_embedding_parameter_count() const {
  long long n = 0;
  for (const auto& e : tensor_table(*this))
    if (e.parameter() && !is_embedding_role(e.role)) n += static_cast<long long>(e.num_elements());
  return n;
}

std::vector<GemmShape> forward_gemms(const ModelConfig& c) {
  const bool out_in = family_info(c.arch).layout == kernels::WeightLayout::kOutIn;
  std::vector<GemmShape> shapes;
  for (const auto& e : tensor_table(c)) {
    if (e.layer > 0 || !e.parameter() || e.shape.size() != 2) continue;
    if (e.role == Role::kTokenEmbedding || e.role == Role::kPositionEmbedding) continue;
    const bool stored_out_in = out_in || e.role == Role::kLmHead;
    const int K = static_cast<int>(stored_out_in ? e.shape[1] : e.shape[0]);
    const int N = static_cast<int>(stored_out_in ? e.shape[0] : e.shape[1]);
    shapes.push_back({std::string(role_name(e.role)), K, N, e.layer == 0 ? c.n_layer : 1, stored_out_in});
  }
  // A tied head is the token embedding [V, E] used as the map E -> V.
  if (c.tie_word_embeddings) shapes.push_back({"lm_head", c.embed_dim, c.vocab_size, 1, true});
  return shapes;
}

double forward_flops(const ModelConfig& c, int B, int T) {
  const double rows = static_cast<double>(B) * T;
  double gemm = 0.0;
  for (const auto& s : forward_gemms(c)) gemm += 2.0 * rows * s.K * s.N * s.count;
  // q.k and p.v: 2 FLOPs per multiply-add, head_dim per pair, every query head.
  double attention = 0.0;
  for (int l = 0; l < c.n_layer; ++l) {
    const int w = c.layer_window.empty() ? 0 : c.layer_window[l];
    double pairs = 0.0;
    for (int t = 0; t < T; ++t) pairs += (w > 0 && t + 1 > w) ? w : t + 1;
    attention += 2.0 * 2.0 * B * c.n_head * c.head_dim * pairs;
  }
  return gemm + attention;
}

}  // namespace entroscope::model
