#pragma once
// The table `entroscope score` writes, as typed rows: one row per token or per word of each text
// per model, with the same columns in the same order wherever it is shown (the CLI's TSV / CSV /
// JSON Lines, the Python package's DataFrame). Cells are JSON values: strings, integers, doubles
// (NaN = not scored), booleans, or input fields carried through.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/text_scoring.h"

namespace entroscope::experiment {

struct ScoreInput {
  nlohmann::json id;  // the input's "id", else its 0-based index
  std::string text;
  nlohmann::json extra = nlohmann::json::object();  // other fields of a JSON Lines record, carried through
};

enum class ScoreUnit { kToken, kWord };
// "token" | "word"; throws Error naming `option` ("--unit", "unit=") otherwise.
ScoreUnit parse_score_unit(const std::string& unit, const std::string& option);

struct ScoreTable {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
};

// The columns for these inputs: model, revision, bos, text_id, the inputs' extra fields (in the
// order first seen), then the unit's columns.
std::vector<std::string> score_columns(const std::vector<ScoreInput>& inputs, ScoreUnit unit);

// One model, ready to score texts: what the rows record about it.
struct ScoringModel {
  std::string name;      // as the user gave it (the "model" column)
  std::string revision;  // "" when unknown (null in the table)
  const model::Model& model;
  const tokenizer::Tokenizer& tok;
  BosChoice bos;
  metrics::Scorer& scorer;           // with the word classes set for word units
  const WordTokenClasses* classes;  // word units only
};

// Scores every input with `m` and appends its rows to `table` (whose columns are score_columns).
// `on_text`, if set, sees each text's scores as they are made (the CLI's --show). Throws Error,
// writing nothing for this model, where a corrected surprisal would be infinite.
void append_score_rows(ScoreTable& table, const std::vector<ScoreInput>& inputs, ScoreUnit unit, const ScoringModel& m,
                       const std::function<void(const ScoreInput&, const TextScores&)>& on_text = {});

}  // namespace entroscope::experiment
