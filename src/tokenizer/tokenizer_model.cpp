#include "tokenizer/tokenizer_model.h"

#include <algorithm>
#include <set>

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_quote.h"
#include "tokenizer/utf8.h"

namespace entroscope::tokenizer {
namespace {

std::string merge_location(const TokenizerSpec& spec, const MergeSpec& merge) {
  return spec.model.merges_from_json ? fmt::format("model.merges[{}]", merge.position)
                                     : fmt::format("line {}", merge.position);
}

struct VocabStringOf {
  const std::vector<const std::string*>* token_of;
  std::string_view operator()(std::int32_t id) const { return *(*token_of)[static_cast<std::size_t>(id)]; }
};
using VocabIndex = StringIndex<VocabStringOf>;

std::int32_t merge_part_id(const TokenizerSpec& spec, const MergeSpec& merge, const std::string& part,
                           const VocabIndex& vocab_ids) {
  const std::optional<std::int32_t> id = vocab_ids.find(part);
  if (!id) {
    fail("{}: {}: merge {} {}: token {} is not in the vocabulary", spec.merges_origin, merge_location(spec, merge),
         json_quoted(merge.left), json_quoted(merge.right), json_quoted(part));
  }
  return *id;
}

std::vector<MergeRule> resolve_merges(const TokenizerSpec& spec, const VocabIndex& vocab_ids) {
  const std::string& prefix = spec.model.continuing_subword_prefix;
  std::vector<MergeRule> rules;
  rules.reserve(spec.model.merges.size());
  std::string merged;
  for (const MergeSpec& merge : spec.model.merges) {
    const std::int32_t left = merge_part_id(spec, merge, merge.left, vocab_ids);
    const std::int32_t right = merge_part_id(spec, merge, merge.right, vocab_ids);
    // The merged token's id comes from the vocabulary, never from rank arithmetic. With a
    // continuing_subword_prefix the right part loses that many bytes first (as the reference
    // does, whether or not it starts with the prefix).
    if (merge.right.size() < prefix.size()) {
      fail("{}: {}: merge {} {}: the right token is shorter than continuing_subword_prefix {}", spec.merges_origin,
           merge_location(spec, merge), json_quoted(merge.left), json_quoted(merge.right), json_quoted(prefix));
    }
    merged.assign(merge.left).append(merge.right, prefix.size());
    const std::optional<std::int32_t> merged_id = vocab_ids.find(merged);
    if (!merged_id) {
      fail("{}: {}: merge {} {}: the merged token {} is not in the vocabulary", spec.merges_origin,
           merge_location(spec, merge), json_quoted(merge.left), json_quoted(merge.right), json_quoted(merged));
    }
    rules.push_back(MergeRule{left, right, *merged_id});
  }
  return rules;
}

char32_t first_code_point(std::string_view s) { return s.empty() ? 0 : decode_utf8(s, 0).code_point; }

char32_t last_code_point(std::string_view s) {
  if (s.empty()) return 0;
  std::size_t start = s.size() - 1;
  while (start > 0 && s.size() - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return decode_utf8(s, start).code_point;
}

// Where long pieces may be cut (see Segmenter): only without prefix / suffix, which would make a
// merged token's ends differ from its parts' ends.
Segmenter build_segmenter(const TokenizerSpec& spec, const std::vector<const std::string*>& vocab_token_of,
                          const std::vector<MergeRule>& rules) {
  Segmenter s;
  if (!spec.model.continuing_subword_prefix.empty() || !spec.model.end_of_word_suffix.empty()) return s;
  s.first_char.assign(vocab_token_of.size(), 0);
  s.last_char.assign(vocab_token_of.size(), 0);
  for (std::size_t id = 0; id < vocab_token_of.size(); ++id) {
    if (!vocab_token_of[id]) continue;
    s.first_char[id] = first_code_point(*vocab_token_of[id]);
    s.last_char[id] = last_code_point(*vocab_token_of[id]);
  }
  s.joinable = PairTable(rules.size());
  for (const MergeRule& rule : rules) {
    s.joinable.set(static_cast<std::int32_t>(s.last_char[rule.left]), static_cast<std::int32_t>(s.first_char[rule.right]),
                   PairMerge{0, 0});
  }
  s.enabled = true;
  return s;
}

// value_of(i, out) appends string i to out.
template <typename ValueOf>
void fill_table(StringTable& table, std::size_t count, ValueOf&& value_of) {
  table.bytes.clear();
  table.offsets.assign(count + 1, 0);
  for (std::size_t i = 0; i < count; ++i) {
    table.offsets[i] = static_cast<std::uint32_t>(table.bytes.size());
    value_of(i, table.bytes);
  }
  table.offsets[count] = static_cast<std::uint32_t>(table.bytes.size());
}

}  // namespace

std::unique_ptr<TokenizerModel> build_tokenizer_model(const TokenizerSpec& spec) {
  auto built = std::make_unique<TokenizerModel>();
  TokenizerModel& model = *built;
  model.source_files = spec.source_files;
  model.normalizer = Normalizer(spec.normalizer, spec.origin);
  model.pre_tokenizer = PreTokenizer(spec.pre_tokenizer, spec.origin);
  model.template_single = spec.template_single;
  model.decoder = Decoder(spec.decoder, spec.has_decoder, spec.origin);
  const bool byte_level = model.pre_tokenizer.byte_level();

  std::int64_t max_id = -1;
  for (const auto& entry : spec.model.vocab) max_id = std::max<std::int64_t>(max_id, entry.second);
  for (const AddedTokenSpec& t : spec.added_tokens) max_id = std::max<std::int64_t>(max_id, t.id);
  if (max_id < 0) fail("{}: the vocabulary is empty", spec.origin);
  const auto size = static_cast<std::size_t>(max_id) + 1;

  // Vocabulary: token string <-> id, each id used once.
  std::vector<const std::string*> vocab_token_of(size, nullptr);
  VocabIndex vocab_ids(spec.model.vocab.size(), VocabStringOf{&vocab_token_of});
  for (const auto& [token, id] : spec.model.vocab) {
    if (vocab_token_of[id]) {
      fail("{}: tokens {} and {} both have id {}", spec.origin, json_quoted(*vocab_token_of[id]), json_quoted(token),
           id);
    }
    vocab_token_of[id] = &token;
    const std::int32_t first = vocab_ids.insert(id);
    if (first != id) {
      fail("{}: token {} appears twice, with ids {} and {}", spec.origin, json_quoted(token), first, id);
    }
  }

  BpeOptions options;
  options.fuse_unk = spec.model.fuse_unk;
  options.ignore_merges = spec.model.ignore_merges;
  if (spec.model.unk_token) {
    options.unk_id = vocab_ids.find(*spec.model.unk_token);
    if (!options.unk_id)
      fail("{}: model.unk_token {} is not in the vocabulary", spec.origin, json_quoted(*spec.model.unk_token));
  }
  if (byte_level) {
    const char* unsupported = spec.model.byte_fallback                       ? "byte_fallback"
                              : !spec.model.continuing_subword_prefix.empty() ? "continuing_subword_prefix"
                              : !spec.model.end_of_word_suffix.empty()        ? "end_of_word_suffix"
                                                                              : nullptr;
    if (unsupported) {
      fail("{}: model.{} is set, which is not supported with a ByteLevel pre-tokenizer", spec.origin, unsupported);
    }
  }
  const std::vector<MergeRule> rules = resolve_merges(spec, vocab_ids);
  if (byte_level) {
    std::array<std::int32_t, 256> byte_tokens;
    for (int b = 0; b < 256; ++b) {
      byte_tokens[b] = vocab_ids.find(bytes_to_alphabet(std::string(1, static_cast<char>(b)))).value_or(-1);
    }
    std::unordered_map<std::string, std::int32_t> whole_tokens;
    if (spec.model.ignore_merges) {
      for (const auto& [token, id] : spec.model.vocab) {
        if (std::optional<std::string> bytes = alphabet_to_bytes(token)) whole_tokens.emplace(std::move(*bytes), id);
      }
    }
    model.bpe = BytePairEncoder(byte_tokens, rules, options, std::move(whole_tokens));
  } else {
    options.byte_fallback = spec.model.byte_fallback;
    options.continuing_subword_prefix = spec.model.continuing_subword_prefix;
    options.end_of_word_suffix = spec.model.end_of_word_suffix;
    std::unordered_map<std::string, std::int32_t> vocab(spec.model.vocab.begin(), spec.model.vocab.end());
    model.bpe = BytePairEncoder::for_characters(std::move(vocab), rules, options);
  }
  // Cutting long pieces pays where nothing else cuts them (SentencePiece: no pre-tokenizer).
  if (!model.pre_tokenizer.splits_text()) model.bpe.set_segmenter(build_segmenter(spec, vocab_token_of, rules));

  // Added tokens: consistent with the vocabulary, one content per id.
  std::vector<const std::string*> added_token_of(size, nullptr);
  std::vector<AddedTokenPattern> raw_patterns, normalized_patterns;
  std::set<std::string> special_contents;
  for (const AddedTokenSpec& t : spec.added_tokens) {
    if (vocab_token_of[t.id] && *vocab_token_of[t.id] != t.content) {
      fail("{}: added token {} has id {}, which the vocabulary gives to {}", spec.origin, json_quoted(t.content), t.id,
           json_quoted(*vocab_token_of[t.id]));
    }
    const std::optional<std::int32_t> in_vocab = vocab_ids.find(t.content);
    if (in_vocab && *in_vocab != t.id) {
      fail("{}: added token {} has id {}, but the vocabulary gives it id {}", spec.origin, json_quoted(t.content), t.id,
           *in_vocab);
    }
    if (added_token_of[t.id] && *added_token_of[t.id] != t.content) {
      fail("{}: added tokens {} and {} both have id {}", spec.origin, json_quoted(*added_token_of[t.id]),
           json_quoted(t.content), t.id);
    }
    added_token_of[t.id] = &t.content;
    if (t.lstrip) model.lstrip_ids.push_back(t.id);
    if (t.special) {
      model.special_ids.push_back(t.id);
      special_contents.insert(t.content);
    }
    // A normalized token is looked for in normalized text, so its content goes through the
    // whole normalizer too (a Prepend normalizer makes "hello" "▁hello").
    std::string storage;
    const std::string content(t.normalized ? model.normalizer.apply(t.content, storage) : std::string_view(t.content));
    if (content.empty()) continue;
    (t.normalized ? normalized_patterns : raw_patterns)
        .push_back(AddedTokenPattern{content, t.id, t.special, t.lstrip, t.rstrip, t.single_word});
  }
  std::sort(model.special_ids.begin(), model.special_ids.end());
  model.special_ids.erase(std::unique(model.special_ids.begin(), model.special_ids.end()), model.special_ids.end());
  std::sort(model.lstrip_ids.begin(), model.lstrip_ids.end());
  model.lstrip_ids.erase(std::unique(model.lstrip_ids.begin(), model.lstrip_ids.end()), model.lstrip_ids.end());
  model.model_vocab_entries = spec.model.vocab.size();
  // The reference matches special tokens first, then the others, in file order.
  auto specials_first = [](std::vector<AddedTokenPattern>& patterns) {
    std::stable_partition(patterns.begin(), patterns.end(), [](const AddedTokenPattern& p) { return p.special; });
  };
  specials_first(raw_patterns);
  specials_first(normalized_patterns);
  model.raw_tokens = AddedTokenMatcher(raw_patterns);
  model.normalized_tokens = AddedTokenMatcher(normalized_patterns);

  // Decoding tables: added tokens first (as the reference looks them up), then the vocabulary.
  model.id_known.assign(size, false);
  model.skipped_as_special.assign(size, false);
  fill_table(model.token_strings, size, [&](std::size_t id, std::string& out) {
    const std::string* token = added_token_of[id] ? added_token_of[id] : vocab_token_of[id];
    if (!token) return;
    model.id_known[id] = true;
    model.skipped_as_special[id] = !special_contents.empty() && special_contents.count(*token) > 0;
    out += *token;
  });
  // Added tokens stand for their content (the reference's ByteLevel decoder maps one in the byte
  // alphabet back through it, which token_bytes does too).
  const bool byte_level_decoder = spec.has_decoder && spec.decoder.size() == 1 &&
                                  spec.decoder[0].kind == DecoderKind::kByteLevel;
  model.byte_level_decoder = byte_level_decoder;
  fill_table(model.token_bytes, size, [&](std::size_t id, std::string& out) {
    if (!model.id_known[id]) return;
    if (byte_level_decoder) {
      append_decoded_bytes(model.token_strings.at(id), out);
    } else {
      out += model.decoder.token_bytes(model.token_strings.at(id));
    }
  });
  // token_to_id: every vocabulary string and added token (an added token shares its id's string).
  model.token_ids = StringIndex<TokenStringOf>(size, TokenStringOf{&model.token_strings});
  for (std::size_t id = 0; id < size; ++id) {
    if (model.id_known[id]) model.token_ids.insert(static_cast<std::int32_t>(id));
  }
  return built;
}

}  // namespace entroscope::tokenizer
