#include "model/presets.h"

#include <fmt/format.h>

namespace entroscope::model {

namespace {

using nlohmann::json;

// GPT2Config as save_pretrained writes it for the hub's GPT-2 checkpoints (transformers 4.2x field
// set; transformers_version and _name_or_path left out: these weights are not from the Hub).
// Dimensions from the published config.json files of openai-community/gpt2{,-medium,-large,-xl}
// and distilbert/distilgpt2.
json gpt2_config(int n_embd, int n_head, int n_layer, int vocab_size = 50257, int n_positions = 1024) {
  json c = {
      {"activation_function", "gelu_new"},
      {"architectures", json::array({"GPT2LMHeadModel"})},
      {"attn_pdrop", 0.1},
      {"bos_token_id", vocab_size - 1},
      {"embd_pdrop", 0.1},
      {"eos_token_id", vocab_size - 1},
      {"initializer_range", 0.02},
      {"layer_norm_epsilon", 1e-05},
      {"model_type", "gpt2"},
      {"n_ctx", n_positions},
      {"n_embd", n_embd},
      {"n_head", n_head},
      {"n_inner", nullptr},
      {"n_layer", n_layer},
      {"n_positions", n_positions},
      {"reorder_and_upcast_attn", false},
      {"resid_pdrop", 0.1},
      {"scale_attn_by_inverse_layer_idx", false},
      {"scale_attn_weights", true},
      {"summary_activation", nullptr},
      {"summary_first_dropout", 0.1},
      {"summary_proj_to_labels", true},
      {"summary_type", "cls_index"},
      {"summary_use_proj", true},
      {"task_specific_params", {{"text-generation", {{"do_sample", true}, {"max_length", 50}}}}},
      {"torch_dtype", "float32"},
      {"use_cache", true},
      {"vocab_size", vocab_size},
  };
  return c;
}

// GPTNeoXConfig as save_pretrained writes it for EleutherAI/pythia-* (transformers 4.3x field set).
// Pythia: rotary_pct 0.25, parallel residual, untied embed_out, exact-erf gelu, vocab 50304.
json neox_config(int hidden, int heads, int layers, int intermediate, int vocab_size = 50304,
                 int max_positions = 2048) {
  json c = {
      {"architectures", json::array({"GPTNeoXForCausalLM"})},
      {"attention_dropout", 0.0},
      {"bos_token_id", 0},
      {"classifier_dropout", 0.1},
      {"eos_token_id", 0},
      {"hidden_act", "gelu"},
      {"hidden_dropout", 0.0},
      {"hidden_size", hidden},
      {"initializer_range", 0.02},
      {"intermediate_size", intermediate},
      {"layer_norm_eps", 1e-05},
      {"max_position_embeddings", max_positions},
      {"model_type", "gpt_neox"},
      {"num_attention_heads", heads},
      {"num_hidden_layers", layers},
      {"rope_scaling", nullptr},
      {"rotary_emb_base", 10000},
      {"rotary_pct", 0.25},
      {"tie_word_embeddings", false},
      {"torch_dtype", "float32"},
      {"use_cache", true},
      {"use_parallel_residual", true},
      {"vocab_size", vocab_size},
  };
  return c;
}

std::vector<Preset> make_presets() {
  std::vector<Preset> p;
  // Published totals: transformers' num_parameters() for GPT-2 (tied head counted once), the
  // Pythia paper's "total params" (embed_in + embed_out counted).
  p.push_back({"gpt2", "openai-community/gpt2", false, 124439808LL, gpt2_config(768, 12, 12)});
  p.push_back({"gpt2-medium", "openai-community/gpt2-medium", false, 354823168LL, gpt2_config(1024, 16, 24)});
  p.push_back({"gpt2-large", "openai-community/gpt2-large", false, 774030080LL, gpt2_config(1280, 20, 36)});
  p.push_back({"gpt2-xl", "openai-community/gpt2-xl", false, 1557611200LL, gpt2_config(1600, 25, 48)});
  {
    json c = gpt2_config(768, 12, 6);
    c["_num_labels"] = 1;
    c["id2label"] = {{"0", "LABEL_0"}};
    c["label2id"] = {{"LABEL_0", 0}};
    p.push_back({"distilgpt2", "distilbert/distilgpt2", false, 81912576LL, c});
  }
  p.push_back({"pythia-160m", "EleutherAI/pythia-160m", false, 162322944LL, neox_config(768, 12, 12, 3072)});
  p.push_back({"pythia-410m", "EleutherAI/pythia-410m", false, 405334016LL, neox_config(1024, 16, 24, 4096)});
  p.push_back({"pythia-1b", "EleutherAI/pythia-1b", false, 1011781632LL, neox_config(2048, 8, 16, 8192)});
  // Test presets: same config fields, tiny dimensions (odd vocabulary sizes on purpose).
  p.push_back({"tiny-gpt2", "", true, 0, gpt2_config(64, 4, 2, 1001, 128)});
  p.push_back({"tiny-neox", "", true, 0, neox_config(64, 4, 2, 256, 1003, 128)});
  return p;
}

}  // namespace

const std::vector<Preset>& all_presets() {
  static const std::vector<Preset> presets = make_presets();
  return presets;
}

const Preset* find_preset(std::string_view name) {
  for (const auto& p : all_presets())
    if (p.name == name) return &p;
  return nullptr;
}

std::string preset_names(bool include_hidden) {
  std::string s;
  for (const auto& p : all_presets()) {
    if (p.hidden && !include_hidden) continue;
    if (!s.empty()) s += ", ";
    s += p.name;
  }
  return s;
}

std::string config_json_text(const nlohmann::json& config) {
  // nlohmann::json keeps object keys sorted, and dump(2) matches json.dumps(indent=2).
  return config.dump(2) + "\n";
}

}  // namespace entroscope::model
