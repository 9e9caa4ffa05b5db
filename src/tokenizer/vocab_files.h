#pragma once
// GPT-2 hub format: vocab.json (token -> id) and merges.txt ("#version" line, then "A B" per
// line, rank = order). Special tokens come from tokenizer_config.json / special_tokens_map.json
// beside vocab.json when present, else "<|endoftext|>" (GPT-2's only special token) when the
// vocabulary has it.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

// `vocab` is the content of `vocab_path` (read_vocab_json_file).
TokenizerSpec read_vocab_and_merges(const std::filesystem::path& vocab_path,
                                    std::vector<std::pair<std::string, std::int32_t>> vocab,
                                    const std::filesystem::path& merges_path);

// tokenizer_config.json beside the tokenizer files (when present): add_bos_token / add_eos_token
// with bos_token / eos_token rebuild the post-processor's template, as transformers does for
// Llama-2-style and OPT repositories. Other keys are transformers' business and are not read here.
void apply_tokenizer_config(const std::filesystem::path& dir, TokenizerSpec& spec);

// Parses merges.txt content; errors name `merges_path` and the line.
std::vector<MergeSpec> parse_merges_txt(const std::filesystem::path& merges_path, std::string_view content);

// Parses a vocab.json object (token -> non-negative integer id); errors name `origin`.
std::vector<std::pair<std::string, std::int32_t>> parse_vocab_object(const std::string& origin,
                                                                     const nlohmann::json& vocab,
                                                                     const std::string& what);

}  // namespace entroscope::tokenizer
