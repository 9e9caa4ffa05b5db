#include "model/presets.h"

#include <fmt/format.h>

#include <tuple>

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

// GPTNeoConfig as EleutherAI/gpt-neo-* ship it: alternating global/local attention, window 256.
json gpt_neo_config(int hidden, int heads, int layers, int vocab = 50257, int max_positions = 2048, int window = 256) {
  json types = json::array({json::array({json::array({"global", "local"}), layers / 2})});
  json layer_list = json::array();
  for (int l = 0; l < layers; ++l) layer_list.push_back(l % 2 ? "local" : "global");
  return {
      {"activation_function", "gelu_new"},
      {"architectures", json::array({"GPTNeoForCausalLM"})},
      {"attention_dropout", 0},
      {"attention_layers", layer_list},
      {"attention_types", types},
      {"bos_token_id", 50256},
      {"embed_dropout", 0},
      {"eos_token_id", 50256},
      {"hidden_size", hidden},
      {"initializer_range", 0.02},
      {"intermediate_size", nullptr},
      {"layer_norm_epsilon", 1e-05},
      {"max_position_embeddings", max_positions},
      {"model_type", "gpt_neo"},
      {"num_heads", heads},
      {"num_layers", layers},
      {"resid_dropout", 0},
      {"torch_dtype", "float32"},
      {"use_cache", true},
      {"vocab_size", vocab},
      {"window_size", window},
  };
}

// GPTJConfig of EleutherAI/gpt-j-6b.
json gptj_config(int n_embd = 4096, int heads = 16, int layers = 28, int rotary_dim = 64, int vocab = 50400,
                 int positions = 2048) {
  return {
      {"activation_function", "gelu_new"},
      {"architectures", json::array({"GPTJForCausalLM"})},
      {"attn_pdrop", 0.0},
      {"bos_token_id", 50256},
      {"embd_pdrop", 0.0},
      {"eos_token_id", 50256},
      {"initializer_range", 0.02},
      {"layer_norm_epsilon", 1e-05},
      {"model_type", "gptj"},
      {"n_embd", n_embd},
      {"n_head", heads},
      {"n_inner", nullptr},
      {"n_layer", layers},
      {"n_positions", positions},
      {"resid_pdrop", 0.0},
      {"rotary", true},
      {"rotary_dim", rotary_dim},
      {"tie_word_embeddings", false},
      {"torch_dtype", "float32"},
      {"use_cache", true},
      {"vocab_size", vocab},
  };
}

// OPTConfig of facebook/opt-*: vocabulary 50272 (the tokenizer has 50265), positions + 2 rows.
json opt_config(int hidden, int heads, int layers, int ffn, int proj_dim, bool pre_ln) {
  return {
      {"_remove_final_layer_norm", false},
      {"activation_dropout", 0.0},
      {"activation_function", "relu"},
      {"architectures", json::array({"OPTForCausalLM"})},
      {"attention_dropout", 0.0},
      {"bos_token_id", 2},
      {"do_layer_norm_before", pre_ln},
      {"dropout", 0.1},
      {"eos_token_id", 2},
      {"ffn_dim", ffn},
      {"hidden_size", hidden},
      {"init_std", 0.02},
      {"layerdrop", 0.0},
      {"max_position_embeddings", 2048},
      {"model_type", "opt"},
      {"num_attention_heads", heads},
      {"num_hidden_layers", layers},
      {"pad_token_id", 1},
      {"torch_dtype", "float32"},
      {"use_cache", true},
      {"vocab_size", 50272},
      {"word_embed_proj_dim", proj_dim},
  };
}

// LlamaConfig / MistralConfig / Qwen2Config / Qwen3Config / Olmo2Config fields shared by the
// published configs; each preset adds its own.
json llama_like_config(const char* model_type, const char* cls, int hidden, int heads, int kv_heads, int layers,
                       int intermediate, int vocab, int max_positions, double theta, double eps, bool tied) {
  return {
      {"architectures", json::array({cls})},
      {"attention_dropout", 0.0},
      {"hidden_act", "silu"},
      {"hidden_size", hidden},
      {"initializer_range", 0.02},
      {"intermediate_size", intermediate},
      {"max_position_embeddings", max_positions},
      {"model_type", model_type},
      {"num_attention_heads", heads},
      {"num_hidden_layers", layers},
      {"num_key_value_heads", kv_heads},
      {"rms_norm_eps", eps},
      {"rope_theta", theta},
      {"tie_word_embeddings", tied},
      {"torch_dtype", "float32"},
      {"use_cache", true},
      {"vocab_size", vocab},
  };
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
  // The other families' published configs (huggingface.co/<hub_id>/config.json). Totals as
  // transformers' num_parameters() counts them: a tied head once, an untied one (and GPT-J's head
  // bias) in full.
  p.push_back({"gpt-neo-125m", "EleutherAI/gpt-neo-125m", false, 125198592LL, gpt_neo_config(768, 12, 12)});
  p.push_back({"gpt-neo-1.3b", "EleutherAI/gpt-neo-1.3B", false, 1315575808LL, gpt_neo_config(2048, 16, 24)});
  p.push_back({"gpt-j-6b", "EleutherAI/gpt-j-6b", false, 6050882784LL, gptj_config()});
  p.push_back({"opt-125m", "facebook/opt-125m", false, 125239296LL, opt_config(768, 12, 12, 3072, 768, true)});
  p.push_back({"opt-350m", "facebook/opt-350m", false, 331196416LL, opt_config(1024, 16, 24, 4096, 512, false)});
  p.push_back({"opt-1.3b", "facebook/opt-1.3b", false, 1315758080LL, opt_config(2048, 32, 24, 8192, 2048, true)});
  {
    json c = llama_like_config("llama", "LlamaForCausalLM", 2048, 32, 8, 16, 8192, 128256, 131072, 500000.0, 1e-05,
                               true);
    c["attention_bias"] = false;
    c["bos_token_id"] = 128000;
    c["eos_token_id"] = 128001;
    c["head_dim"] = 64;
    c["mlp_bias"] = false;
    c["pretraining_tp"] = 1;
    c["rope_scaling"] = {{"factor", 32.0},
                         {"high_freq_factor", 4.0},
                         {"low_freq_factor", 1.0},
                         {"original_max_position_embeddings", 8192},
                         {"rope_type", "llama3"}};
    p.push_back({"llama-3.2-1b", "meta-llama/Llama-3.2-1B", false, 1235814400LL, c});
  }
  for (auto [name, hub, params, hidden, heads, kv, layers, inter] :
       {std::tuple{"smollm2-135m", "HuggingFaceTB/SmolLM2-135M", 134515008LL, 576, 9, 3, 30, 1536},
        std::tuple{"smollm2-360m", "HuggingFaceTB/SmolLM2-360M", 361821120LL, 960, 15, 5, 32, 2560}}) {
    json c = llama_like_config("llama", "LlamaForCausalLM", hidden, heads, kv, layers, inter, 49152, 8192, 100000.0,
                               1e-05, true);
    c["attention_bias"] = false;
    c["bos_token_id"] = 0;
    c["eos_token_id"] = 0;
    c["mlp_bias"] = false;
    c["pretraining_tp"] = 1;
    c["rope_scaling"] = nullptr;
    p.push_back({name, hub, false, params, c});
  }
  {
    json c = llama_like_config("qwen2", "Qwen2ForCausalLM", 896, 14, 2, 24, 4864, 151936, 32768, 1000000.0, 1e-06,
                               true);
    c["bos_token_id"] = 151643;
    c["eos_token_id"] = 151643;
    c["max_window_layers"] = 24;
    c["sliding_window"] = 32768;
    c["use_sliding_window"] = false;
    p.push_back({"qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B", false, 494032768LL, c});
  }
  {
    json c = llama_like_config("qwen3", "Qwen3ForCausalLM", 1024, 16, 8, 28, 3072, 151936, 40960, 1000000.0, 1e-06,
                               true);
    c["attention_bias"] = false;
    c["bos_token_id"] = 151643;
    c["eos_token_id"] = 151643;
    c["head_dim"] = 128;
    c["max_window_layers"] = 28;
    c["rope_scaling"] = nullptr;
    c["sliding_window"] = nullptr;
    c["use_sliding_window"] = false;
    p.push_back({"qwen3-0.6b", "Qwen/Qwen3-0.6B", false, 596049920LL, c});
  }
  {
    json c = llama_like_config("olmo2", "Olmo2ForCausalLM", 2048, 16, 16, 16, 8192, 100352, 4096, 500000.0, 1e-06,
                               false);
    c["attention_bias"] = false;
    c["eos_token_id"] = 100257;
    c["pad_token_id"] = 100277;
    c["rope_scaling"] = nullptr;
    p.push_back({"olmo-2-1b", "allenai/OLMo-2-0425-1B", false, 1484916736LL, c});
  }
  {
    json c = llama_like_config("mistral", "MistralForCausalLM", 4096, 32, 8, 32, 14336, 32000, 32768, 10000.0, 1e-05,
                               false);
    c["bos_token_id"] = 1;
    c["eos_token_id"] = 2;
    c["sliding_window"] = 4096;
    p.push_back({"mistral-7b", "mistralai/Mistral-7B-v0.1", false, 7241732096LL, c});
  }
  // Test presets: same config fields, tiny dimensions (odd vocabulary sizes on purpose).
  p.push_back({"tiny-gpt2", "", true, 0, gpt2_config(64, 4, 2, 1001, 128)});
  p.push_back({"tiny-neox", "", true, 0, neox_config(64, 4, 2, 256, 1003, 128)});
  // One per family, with each family's distinctive options on (windows shorter than the context,
  // GQA, llama3 rope scaling, QK-norm, post-LN with projections).
  p.push_back({"tiny-gpt-neo", "", true, 0, gpt_neo_config(64, 4, 2, 1005, 128, 16)});
  p.push_back({"tiny-gptj", "", true, 0, gptj_config(64, 4, 2, 8, 1009, 128)});
  {
    json o = opt_config(64, 4, 2, 256, 64, true);
    o["vocab_size"] = 1011;
    o["max_position_embeddings"] = 128;
    p.push_back({"tiny-opt", "", true, 0, o});
    o = opt_config(64, 4, 2, 256, 32, false);
    o["vocab_size"] = 1013;
    o["max_position_embeddings"] = 128;
    p.push_back({"tiny-opt-350m", "", true, 0, o});
  }
  {
    json c = llama_like_config("llama", "LlamaForCausalLM", 64, 4, 2, 2, 160, 1019, 128, 500000.0, 1e-05, true);
    c["head_dim"] = 24;
    c["rope_scaling"] = {{"factor", 8.0}, {"high_freq_factor", 4.0}, {"low_freq_factor", 1.0},
                         {"original_max_position_embeddings", 32}, {"rope_type", "llama3"}};
    p.push_back({"tiny-llama", "", true, 0, c});
    c = llama_like_config("mistral", "MistralForCausalLM", 64, 4, 1, 2, 160, 1021, 128, 10000.0, 1e-05, false);
    c["sliding_window"] = 16;
    p.push_back({"tiny-mistral", "", true, 0, c});
    c = llama_like_config("qwen2", "Qwen2ForCausalLM", 64, 4, 2, 2, 160, 1031, 128, 1000000.0, 1e-06, true);
    c["use_sliding_window"] = true;  // on for the test preset: layer 1 (>= max_window_layers) is local
    c["sliding_window"] = 16;
    c["max_window_layers"] = 1;
    p.push_back({"tiny-qwen2", "", true, 0, c});
    c = llama_like_config("qwen3", "Qwen3ForCausalLM", 64, 4, 2, 2, 160, 1033, 128, 1000000.0, 1e-06, true);
    c["head_dim"] = 32;
    p.push_back({"tiny-qwen3", "", true, 0, c});
    c = llama_like_config("olmo2", "Olmo2ForCausalLM", 64, 4, 4, 2, 160, 1039, 128, 500000.0, 1e-06, false);
    p.push_back({"tiny-olmo2", "", true, 0, c});
  }
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
