#pragma once
// Hugging Face tokenizer.json with a byte-level BPE model (GPT-2, GPT-NeoX / Pythia). Supported:
// model BPE (merges as "A B" strings or ["A","B"] pairs, unk_token, fuse_unk, ignore_merges),
// normalizer null / NFC (also inside a Sequence), pre_tokenizer ByteLevel (add_prefix_space,
// use_regex; also alone inside a Sequence), decoder ByteLevel or null, post_processor ByteLevel,
// null or a TemplateProcessing that adds no tokens, added_tokens without lstrip / rstrip /
// single_word. Anything else is rejected with an error that names it, rather than tokenized wrong.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

// `root` is the parsed content of `path` (the caller has already read it).
TokenizerSpec read_tokenizer_json(const std::filesystem::path& path, const nlohmann::json& root);

}  // namespace entroscope::tokenizer
