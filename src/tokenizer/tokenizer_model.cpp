#include "tokenizer/tokenizer_model.h"

#include <algorithm>

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_quote.h"
#include "tokenizer/normalizer.h"

namespace entroscope::tokenizer {
namespace {

std::string merge_location(const TokenizerSpec& spec, const MergeSpec& merge) {
  return spec.merges_from_json ? fmt::format("model.merges[{}]", merge.position)
                               : fmt::format("line {}", merge.position);
}

std::int32_t merge_part_id(const TokenizerSpec& spec, const MergeSpec& merge, const std::string& part,
                           const std::unordered_map<std::string, std::int32_t>& vocab_ids) {
  auto it = vocab_ids.find(part);
  if (it == vocab_ids.end()) {
    fail("{}: {}: merge {} {}: token {} is not in the vocabulary", spec.merges_origin, merge_location(spec, merge),
         json_quoted(merge.left), json_quoted(merge.right), json_quoted(part));
  }
  return it->second;
}

std::vector<MergeRule> resolve_merges(const TokenizerSpec& spec,
                                      const std::unordered_map<std::string, std::int32_t>& vocab_ids) {
  std::vector<MergeRule> rules;
  rules.reserve(spec.merges.size());
  std::string merged;
  for (const MergeSpec& merge : spec.merges) {
    const std::int32_t left = merge_part_id(spec, merge, merge.left, vocab_ids);
    const std::int32_t right = merge_part_id(spec, merge, merge.right, vocab_ids);
    // The merged token's id comes from the vocabulary, never from rank arithmetic.
    merged.assign(merge.left).append(merge.right);
    auto it = vocab_ids.find(merged);
    if (it == vocab_ids.end()) {
      fail("{}: {}: merge {} {}: the merged token {} is not in the vocabulary", spec.merges_origin,
           merge_location(spec, merge), json_quoted(merge.left), json_quoted(merge.right), json_quoted(merged));
    }
    rules.push_back(MergeRule{left, right, it->second});
  }
  return rules;
}

}  // namespace

TokenizerModel build_tokenizer_model(const TokenizerSpec& spec) {
  TokenizerModel model;
  model.nfc = spec.nfc;
  model.add_prefix_space = spec.add_prefix_space;
  model.use_regex = spec.use_regex;
  model.source_files = spec.source_files;

  std::int64_t max_id = -1;
  for (const auto& entry : spec.vocab) max_id = std::max<std::int64_t>(max_id, entry.second);
  for (const AddedTokenSpec& t : spec.added_tokens) max_id = std::max<std::int64_t>(max_id, t.id);
  if (max_id < 0) fail("{}: the vocabulary is empty", spec.origin);
  const auto size = static_cast<std::size_t>(max_id) + 1;

  // Vocabulary: token string <-> id, each id used once.
  std::vector<const std::string*> vocab_token_of(size, nullptr);
  std::unordered_map<std::string, std::int32_t> vocab_ids;
  vocab_ids.reserve(spec.vocab.size() * 2);
  for (const auto& [token, id] : spec.vocab) {
    if (vocab_token_of[id]) {
      fail("{}: tokens {} and {} both have id {}", spec.origin, json_quoted(*vocab_token_of[id]), json_quoted(token),
           id);
    }
    vocab_token_of[id] = &token;
    vocab_ids.emplace(token, id);
  }

  std::array<std::int32_t, 256> byte_tokens;
  for (int b = 0; b < 256; ++b) {
    auto it = vocab_ids.find(bytes_to_alphabet(std::string(1, static_cast<char>(b))));
    byte_tokens[b] = it == vocab_ids.end() ? -1 : it->second;
  }

  BpeOptions options;
  options.fuse_unk = spec.fuse_unk;
  options.ignore_merges = spec.ignore_merges;
  if (spec.unk_token) {
    auto it = vocab_ids.find(*spec.unk_token);
    if (it == vocab_ids.end())
      fail("{}: model.unk_token {} is not in the vocabulary", spec.origin, json_quoted(*spec.unk_token));
    options.unk_id = it->second;
  }
  std::unordered_map<std::string, std::int32_t> whole_tokens;
  if (spec.ignore_merges) {
    for (const auto& [token, id] : spec.vocab) {
      if (std::optional<std::string> bytes = alphabet_to_bytes(token)) whole_tokens.emplace(std::move(*bytes), id);
    }
  }
  model.bpe = BytePairEncoder(byte_tokens, resolve_merges(spec, vocab_ids), options, std::move(whole_tokens));

  // Added tokens: consistent with the vocabulary, one content per id.
  std::vector<const std::string*> added_token_of(size, nullptr);
  std::vector<std::pair<std::string, std::int32_t>> raw_all, raw_plain, normalized_all, normalized_plain;
  model.token_ids = vocab_ids;
  for (const AddedTokenSpec& t : spec.added_tokens) {
    if (vocab_token_of[t.id] && *vocab_token_of[t.id] != t.content) {
      fail("{}: added token {} has id {}, which the vocabulary gives to {}", spec.origin, json_quoted(t.content), t.id,
           json_quoted(*vocab_token_of[t.id]));
    }
    auto in_vocab = vocab_ids.find(t.content);
    if (in_vocab != vocab_ids.end() && in_vocab->second != t.id) {
      fail("{}: added token {} has id {}, but the vocabulary gives it id {}", spec.origin, json_quoted(t.content), t.id,
           in_vocab->second);
    }
    if (added_token_of[t.id] && *added_token_of[t.id] != t.content) {
      fail("{}: added tokens {} and {} both have id {}", spec.origin, json_quoted(*added_token_of[t.id]),
           json_quoted(t.content), t.id);
    }
    added_token_of[t.id] = &t.content;
    model.token_ids[t.content] = t.id;
    if (t.special) model.special_ids.push_back(t.id);

    // A normalized token is looked for in normalized text, so its content is normalized too.
    std::string storage;
    std::string content(t.normalized && spec.nfc ? nfc_normalize(t.content, storage) : std::string_view(t.content));
    (t.normalized ? normalized_all : raw_all).emplace_back(content, t.id);
    if (!t.special) (t.normalized ? normalized_plain : raw_plain).emplace_back(content, t.id);
  }
  std::sort(model.special_ids.begin(), model.special_ids.end());
  model.special_ids.erase(std::unique(model.special_ids.begin(), model.special_ids.end()), model.special_ids.end());
  model.raw_with_special = AddedTokenMatcher(raw_all);
  model.raw_without_special = AddedTokenMatcher(raw_plain);
  model.normalized_with_special = AddedTokenMatcher(normalized_all);
  model.normalized_without_special = AddedTokenMatcher(normalized_plain);

  // Decoding table.
  model.id_known.assign(size, false);
  model.decoded_offsets.assign(size + 1, 0);
  for (std::size_t id = 0; id < size; ++id) {
    model.decoded_offsets[id] = static_cast<std::uint32_t>(model.decoded_bytes.size());
    const std::string* token = added_token_of[id] ? added_token_of[id] : vocab_token_of[id];
    if (!token) continue;
    model.id_known[id] = true;
    model.decoded_bytes += token_to_decoded_bytes(*token);
  }
  model.decoded_offsets[size] = static_cast<std::uint32_t>(model.decoded_bytes.size());
  return model;
}

}  // namespace entroscope::tokenizer
