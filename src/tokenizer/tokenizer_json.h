#pragma once
// Hugging Face tokenizer.json, read into a TokenizerSpec (the pipeline as data). Supported:
//   model          BPE (merges as "A B" strings or ["A","B"] pairs; unk_token, fuse_unk,
//                  byte_fallback, ignore_merges, continuing_subword_prefix, end_of_word_suffix)
//   normalizer     NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, Sequence
//   pre_tokenizer  ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit, Sequence
//   post_processor TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence
//   decoder        ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence
//   added_tokens   with lstrip, rstrip, single_word, normalized, special
// Anything else (another model or component type, BPE dropout, truncation or padding) is an
// error that names it, never a silently different tokenization.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_file.h"
#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

// `file` is the content of `path` (read_tokenizer_json_file), its vocabulary and merges streamed.
TokenizerSpec read_tokenizer_json(const std::filesystem::path& path, StreamedJson file);

}  // namespace entroscope::tokenizer
