// Word measures against tests/data/words/golden.jsonl (float64 goldens, 41 texts x 4 demo models):
// spans and ids exact, every float within the stated 2.5e-4 bits.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>

#include "experiment/text_scoring.h"
#include "experiment/word_units.h"
#include "experiment_test_support.h"

namespace entroscope::experiment {
namespace {

constexpr double kTolerance = 2.5e-4;

std::vector<nlohmann::json> golden_rows() {
  std::ifstream in(std::filesystem::path(ES_TEST_DATA_DIR) / "words" / "golden.jsonl");
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

std::vector<std::size_t> span(const Span& s) { return {s.begin, s.end}; }

TEST(WordGolden, EveryTextOfEveryDemoModelWithinTolerance) {
  struct Loaded {
    model::Model model;
    tokenizer::Tokenizer tok;
    std::unique_ptr<metrics::Scorer> scorer;
    WordTokenClasses classes;
  };
  std::map<std::string, std::unique_ptr<Loaded>> models;
  double worst = 0;
  int rows = 0, words = 0;
  for (const nlohmann::json& g : golden_rows()) {
    const std::string name = g["model"];
    auto& slot = models[name];
    if (!slot) {
      const std::filesystem::path dir = experiment_test::kModelsDir / name;
      slot = std::make_unique<Loaded>(Loaded{model::load_model(dir, name), tokenizer::Tokenizer::load(dir), nullptr, {}});
      slot->scorer = std::make_unique<metrics::Scorer>(slot->model);
      slot->classes = word_token_classes(slot->tok, slot->model.config.vocab_size, resolve_eos(slot->model, slot->tok));
      slot->scorer->set_token_classes(slot->classes.masks, kWordClassCount);
      const BosChoice bos = resolve_bos("auto", slot->model, slot->tok);
      ASSERT_EQ(bos.id, g["bos_id"].get<int>()) << name;
    }
    Loaded& m = *slot;
    const std::string text = g["text"];
    const std::string label = name + " " + g["id"].get<std::string>();
    const TextScores scores = score_text(*m.scorer, m.tok, text, g["bos_id"].get<int>(), true);
    ASSERT_EQ(scores.ids, g["token_ids"].get<std::vector<std::int32_t>>()) << label;
    for (std::size_t i = 0; i < scores.ids.size(); ++i) {
      ASSERT_EQ(span(scores.byte_spans[i]), g["token_byte_spans"][i].get<std::vector<std::size_t>>()) << label;
    }
    auto near = [&](double got, const nlohmann::json& want, const std::string& what) {
      const double d = std::fabs(got - want.get<double>());
      worst = std::max(worst, d);
      EXPECT_LE(d, kTolerance) << label << " " << what << ": got " << got << ", want " << want;
    };
    for (std::size_t j = 0; j <= scores.ids.size(); ++j) {
      near(scores.rows.log2_mass(j, kBoundary), g["log2_p_bow"][j], "log2_p_bow[" + std::to_string(j) + "]");
      near(scores.rows.log2_mass(j, kNonBoundary), g["log2_p_nonbow"][j], "log2_p_nonbow[" + std::to_string(j) + "]");
    }
    const TextWords got = measure_words(text, scores.ids, scores.byte_spans, m.classes, scores.rows);
    ASSERT_EQ(got.words.size(), g["words"].size()) << label;
    for (std::size_t k = 0; k < got.words.size(); ++k) {
      const WordMeasures& w = got.words[k];
      const nlohmann::json& want = g["words"][k];
      const std::string where = "word " + std::to_string(k) + " (" + w.word + ")";
      EXPECT_EQ(w.word, want["word"].get<std::string>()) << label;
      EXPECT_EQ(span(w.char_span), want["char_span"].get<std::vector<std::size_t>>()) << label << " " << where;
      EXPECT_EQ(span(w.byte_span), want["byte_span"].get<std::vector<std::size_t>>()) << label << " " << where;
      EXPECT_EQ(span(w.token_span), want["token_span"].get<std::vector<std::size_t>>()) << label << " " << where;
      EXPECT_EQ(span(w.unit_span), want["unit_span"].get<std::vector<std::size_t>>()) << label << " " << where;
      for (const auto& [field, value] :
           std::vector<std::pair<const char*, double>>{{"surprisal_bits", w.surprisal_bits},
                                                        {"surprisal_bow_bits", w.surprisal_bow_bits},
                                                        {"first_subword_entropy_bits", w.first_subword_entropy_bits},
                                                        {"log2_p_bow_after", w.log2_p_bow_after},
                                                        {"log2_denominator", w.log2_denominator},
                                                        {"surprisal_bow_wordsprobability_bits",
                                                         w.surprisal_bow_wordsprobability_bits},
                                                        {"surprisal_bow_minicons_bits", w.surprisal_bow_minicons_bits}}) {
        near(value, want[field], where + " " + field);
      }
      EXPECT_FALSE(w.boundary_inside_token) << label << " " << where;  // impossible with GPT-2's pattern
      ++words;
    }
    EXPECT_EQ(span(got.unassigned_token_span), g["sums"]["unassigned_token_span"].get<std::vector<std::size_t>>())
        << label;
    ++rows;
  }
  std::cout << "[golden] words: " << rows << " texts, " << words << " words; largest difference " << worst
            << " bits (tolerance " << kTolerance << ")\n";
  EXPECT_EQ(rows, 164);
}

}  // namespace
}  // namespace entroscope::experiment

namespace entroscope::experiment {
namespace {

// SentencePiece (Mistral's tokenizer): the dummy "▁" before the text covers no byte; the first
// word's unit starts with a boundary token, so it is normalized by P(B | BOS) (the spec's §3).
TEST(WordUnits, SentencePieceDummyPrefixCoversNoByte) {
  const tokenizer::Tokenizer tok =
      tokenizer::Tokenizer::load(std::filesystem::path(ES_TEST_DATA_DIR) / "tokenizer" / "mistral-sp");
  const std::string text = "Hello  world.\n";
  const std::vector<std::int32_t> ids = tok.encode(text);
  const std::vector<Span> spans = token_byte_spans(tok, text, ids);
  ASSERT_EQ(spans.size(), ids.size());
  EXPECT_EQ(spans.front().begin, 0u);
  EXPECT_EQ(spans.back().end, text.size());
  const WordTokenClasses classes = word_token_classes(tok, static_cast<int>(tok.vocab_size()), 2);
  EXPECT_TRUE(classes.in(ids.front(), kBoundary));   // "▁Hello" begins with whitespace
  EXPECT_TRUE(classes.in(*tok.token_to_id("<0x0A>"), kBoundary));
  EXPECT_TRUE(classes.in(2, kBoundary));             // </s>
  EXPECT_FALSE(classes.in(1, kBoundary) || classes.in(1, kNonBoundary));  // <s>: in neither set
  EXPECT_TRUE(classes.in(*tok.token_to_id("\xE2\x96\x81world"), kSpaceInitial));
  RowScores rows;
  rows.entropy_bits.assign(ids.size() + 1, 1.0);
  rows.surprisal_bits.assign(ids.size(), 2.0);
  rows.log2_class_mass.assign((ids.size() + 1) * kWordClassCount, -1.0);
  const TextWords words = measure_words(text, ids, spans, classes, rows);
  ASSERT_EQ(words.words.size(), 2u);
  EXPECT_EQ(words.words[0].word, "Hello");
  EXPECT_EQ(words.words[0].unit_span.begin, 0u);
  EXPECT_EQ(words.words[1].word, "world.");
  EXPECT_EQ(words.words[1].byte_span.begin, 7u);
  // Uncorrected = the unit's surprisals; both boundary terms are -1 here, so they cancel.
  EXPECT_DOUBLE_EQ(words.words[1].surprisal_bow_bits, words.words[1].surprisal_bits);
  EXPECT_EQ(words.unassigned_token_span.end, ids.size());
}

// The libraries' sets on the GPT-NeoX-20B tokenizer (the spec's §3 and §5): B takes the Ċ… tokens
// and the 23 added space runs; wordsprobability leaves ids >= vocab_size (50254: the space runs)
// out of both of its sets; <|padding|> and the padded logit rows are in no set.
TEST(WordUnits, NeoxClassesFollowTheSpec) {
  const tokenizer::Tokenizer tok =
      tokenizer::Tokenizer::load(std::filesystem::path(ES_TEST_DATA_DIR) / "tokenizer" / "neox20b");
  ASSERT_EQ(tok.model_vocab_entries(), 50254u);
  const WordTokenClasses classes = word_token_classes(tok, 50304, 0);
  std::size_t boundary = 0, space_runs_in_boundary = 0;
  for (std::int32_t id = 0; id < 50304; ++id) {
    boundary += classes.in(id, kBoundary);
    if (id >= 50254 && id <= 50276) {
      space_runs_in_boundary += classes.in(id, kBoundary);
      EXPECT_FALSE(classes.in(id, kSpaceInitial) || classes.in(id, kNotSpaceInitial)) << id;
      EXPECT_FALSE(classes.in(id, kMiniconsBoundary)) << id;  // no lstrip, not Ġ-initial
    }
  }
  EXPECT_EQ(space_runs_in_boundary, 23u);
  EXPECT_TRUE(classes.in(*tok.token_to_id("\xC4\x8A\xC4\x8A"), kBoundary));  // ĊĊ
  EXPECT_TRUE(classes.in(0, kBoundary) && classes.in(0, kEndOfText) && classes.in(0, kNotSpaceInitial));
  EXPECT_FALSE(classes.in(0, kMiniconsBoundary));  // minicons has no EOS in B
  EXPECT_EQ(classes.masks[1], 0);                  // <|padding|>
  EXPECT_EQ(classes.masks[50300], 0);              // a padded logit row
  const std::int32_t the = *tok.token_to_id("\xC4\xA0the");
  EXPECT_TRUE(classes.in(the, kSpaceInitial) && classes.in(the, kMiniconsBoundary) && classes.in(the, kBoundary));
  EXPECT_GT(boundary, 23u);
}

}  // namespace
}  // namespace entroscope::experiment
