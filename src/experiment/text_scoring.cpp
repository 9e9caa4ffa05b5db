#include "experiment/text_scoring.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "common/error.h"
#include "experiment/window_plan.h"

namespace entroscope::experiment {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string describe_token(const tokenizer::Tokenizer& tok, std::int32_t id) {
  return fmt::format("{} ({})", std::string(tok.token_string(id)), id);
}

}  // namespace

BosChoice resolve_bos(const std::string& policy, const model::Model& model, const tokenizer::Tokenizer& tok) {
  const int vocab = model.config.vocab_size;
  auto valid = [&](std::int64_t id) { return id >= 0 && id < vocab && tok.is_valid_id(static_cast<std::int32_t>(id)); };
  if (policy == "never") return BosChoice{-1, "never"};
  if (policy == "auto" || policy == "always") {
    // What the family was trained to see first: the BOS its tokenizer adds (Llama, Mistral, OPT
    // with add_bos_token), else the document separator <|endoftext|> (GPT-2, NeoX/Pythia, Neo, J,
    // Qwen, OLMo-2) or config.json's bos_token_id (OPT's and Llama's </s>/<s> when the tokenizer
    // files do not add it).
    const std::vector<std::int32_t> prefix = tok.template_prefix_ids();
    if (!prefix.empty() && valid(prefix.front())) return {prefix.front(), "auto: " + describe_token(tok, prefix.front())};
    std::optional<std::int32_t> eot = tok.token_to_id("<|endoftext|>");
    if (eot && !valid(*eot)) eot.reset();
    std::optional<std::int32_t> config_bos;
    if (valid(model.config.bos_token_id)) config_bos = model.config.bos_token_id;
    std::optional<std::int32_t> chosen;
    switch (model.config.arch) {
      case model::Architecture::kGpt2:
      case model::Architecture::kGptNeoX:
      case model::Architecture::kGptNeo:
      case model::Architecture::kGptJ:
      case model::Architecture::kQwen2:
      case model::Architecture::kQwen3:
      case model::Architecture::kOlmo2:
        chosen = eot ? eot : config_bos;
        break;
      case model::Architecture::kOpt:
      case model::Architecture::kLlama:
      case model::Architecture::kMistral:
        chosen = config_bos ? config_bos : eot;
        break;
    }
    if (chosen) return {*chosen, "auto: " + describe_token(tok, *chosen)};
    fail("{}: --bos {}: the tokenizer adds no BOS and has no <|endoftext|>, and config.json has no bos_token_id; "
         "give one (--bos ID or --bos TOKEN) or score without (--bos never)",
         model.name, policy);
  }
  std::int64_t id = -1;
  if (!policy.empty() && policy.find_first_not_of("0123456789") == std::string::npos && policy.size() < 10) {
    id = std::stoll(policy);
  } else if (auto found = tok.token_to_id(policy)) {
    id = *found;
  }
  if (!valid(id)) fail("--bos {}: not a token of {} (use auto, never, a token id or a token)", policy, model.name);
  return {static_cast<std::int32_t>(id), describe_token(tok, static_cast<std::int32_t>(id))};
}

std::int32_t resolve_eos(const model::Model& model, const tokenizer::Tokenizer& tok) {
  const int eos = model.config.eos_token_id;
  if (eos >= 0 && eos < model.config.vocab_size && tok.is_valid_id(eos)) return eos;
  if (auto eot = tok.token_to_id("<|endoftext|>"); eot && *eot < model.config.vocab_size) return *eot;
  return -1;
}

namespace {

// Per input position r of one text's model input (BOS + ids): the distribution after input[0..r]
// (entropy, class masses) and the surprisal of input[r + 1].
struct InputRows {
  bool words;
  std::vector<double> entropy, surprisal, mass;
  InputRows(std::size_t count, bool with_words)
      : words(with_words), entropy(count, kNaN), surprisal(count, kNaN), mass(words ? count * kWordClassCount : 0, kNaN) {}
  void take(const metrics::SequenceScores& s, std::size_t window_row, std::size_t r) {
    entropy[r] = s.entropy_bits[window_row];
    if (window_row < s.surprisal_bits.size()) surprisal[r] = s.surprisal_bits[window_row];
    if (words)
      for (int c = 0; c < kWordClassCount; ++c)
        mass[r * kWordClassCount + c] = s.log2_class_mass[window_row * kWordClassCount + c];
  }
};

// Input position r is row r (with BOS) or row r + 1 (without: row 0 does not exist).
void fill_rows(RowScores& rows, const InputRows& in, bool bos) {
  const std::size_t count = in.entropy.size(), shift = bos ? 0 : 1;
  const bool words = in.words;
  for (std::size_t r = 0; r < count; ++r) {
    rows.entropy_bits[r + shift] = in.entropy[r];
    if (r + 1 < count) rows.surprisal_bits[r + shift] = in.surprisal[r];
    if (words)
      for (int c = 0; c < kWordClassCount; ++c)
        rows.log2_class_mass[(r + shift) * kWordClassCount + c] = in.mass[r * kWordClassCount + c];
  }
}

}  // namespace

std::vector<TextScores> score_texts(metrics::Scorer& scorer, const tokenizer::Tokenizer& tok,
                                    const std::vector<std::string_view>& texts, std::int32_t bos_id, bool words) {
  const bool bos = bos_id >= 0;
  const std::size_t prefix = bos ? 1 : 0;
  const int context = scorer.model().config.max_positions;
  std::vector<TextScores> out(texts.size());
  std::vector<std::vector<std::int32_t>> inputs(texts.size());
  std::vector<std::size_t> whole;  // texts that fit the context: scored together, packed
  for (std::size_t i = 0; i < texts.size(); ++i) {
    TextScores& t = out[i];
    t.ids = tok.encode(texts[i], false);
    if (words) t.byte_spans = token_byte_spans(tok, texts[i], t.ids);
    const std::size_t n = t.ids.size();
    t.rows.entropy_bits.assign(n + 1, kNaN);
    t.rows.surprisal_bits.assign(n, kNaN);
    t.rows.log2_class_mass.assign((n + 1) * kWordClassCount, kNaN);
    if (bos) inputs[i].push_back(bos_id);
    inputs[i].insert(inputs[i].end(), t.ids.begin(), t.ids.end());
    if (!inputs[i].empty() && (context <= 0 || inputs[i].size() <= static_cast<std::size_t>(context))) whole.push_back(i);
  }
  if (!whole.empty()) {
    std::vector<std::vector<std::int32_t>> batch;
    for (std::size_t i : whole) batch.push_back(inputs[i]);
    const std::vector<metrics::SequenceScores> scores = scorer.score(batch);
    for (std::size_t k = 0; k < whole.size(); ++k) {
      const std::size_t count = inputs[whole[k]].size();
      InputRows rows(count, words);
      for (std::size_t r = 0; r < count; ++r) rows.take(scores[k], r, r);
      fill_rows(out[whole[k]].rows, rows, bos);
    }
  }
  // A text longer than the context goes through the experiments' sliding windows (the BOS kept at
  // the start of each): every position is predicted once, with the most context.
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<std::int32_t>& input = inputs[i];
    const std::size_t count = input.size();
    if (count == 0 || context <= 0 || count <= static_cast<std::size_t>(context)) continue;
    InputRows rows(count, words);
    for (const WindowPlan& w : plan_windows(count, prefix, WindowShape{static_cast<std::size_t>(context), 0})) {
      std::vector<std::int32_t> window(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(prefix));
      window.insert(window.end(), input.begin() + static_cast<std::ptrdiff_t>(w.body_begin),
                    input.begin() + static_cast<std::ptrdiff_t>(w.body_end));
      const metrics::SequenceScores s = scorer.score({window}).front();
      // Position p is predicted by the row before it.
      for (std::size_t p = w.score_begin; p < w.score_end; ++p) rows.take(s, w.window_position(p, prefix) - 1, p - 1);
      // The last window also gives the row after the whole text.
      if (w.body_end == count) rows.take(s, w.window_position(count - 1, prefix), count - 1);
    }
    fill_rows(out[i].rows, rows, bos);
  }
  return out;
}

TextScores score_text(metrics::Scorer& scorer, const tokenizer::Tokenizer& tok, std::string_view text,
                      std::int32_t bos_id, bool words) {
  return std::move(score_texts(scorer, tok, {text}, bos_id, words).front());
}

}  // namespace entroscope::experiment
