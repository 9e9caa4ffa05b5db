#pragma once
// Model presets: the published dimensions of checkpoints of every supported family on the Hugging Face
// Hub, as the config.json transformers writes for them. Used by `entroscope synth` to write a
// random-initialized checkpoint of the same shape (test a machine before downloading gigabytes)
// and by the benchmark. Hidden presets (tiny-*) are small models for tests.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace entroscope::model {

struct Preset {
  std::string name;                 // "gpt2", "pythia-160m", "llama-3.2-1b", ...
  std::string hub_id;               // where the real weights live ("openai-community/gpt2"); empty for tiny-*
  bool hidden = false;              // test-only: not listed in --help
  long long published_parameters;   // total parameter count of the real checkpoint (untied heads counted), 0 for tiny-*
  nlohmann::json config;            // config.json content, torch_dtype "float32"
};

// Every preset, listed ones first, in scaling-series order.
const std::vector<Preset>& all_presets();

// The preset called `name`, or nullptr.
const Preset* find_preset(std::string_view name);

// "gpt2, gpt2-medium, ..." (listed presets only unless include_hidden).
std::string preset_names(bool include_hidden = false);

// config.json text as transformers' save_pretrained writes it: JSON with keys sorted, indent 2,
// trailing newline.
std::string config_json_text(const nlohmann::json& config);

}  // namespace entroscope::model
