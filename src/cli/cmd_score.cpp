// `entroscope score`: text in, a tidy long table out: one row per token or per word per model,
// with entropy and surprisal in bits (and, for words, the beginning-of-word corrected surprisal of
// tests/data/words/README.md and the two libraries' variants), to stdout or --out.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "model/config.h"
#include "kernels/threads.h"
#include "model/memory_plan.h"
#include "cli/model_arg.h"
#include "common/error.h"
#include "common/json_file.h"
#include "experiment/checked_output.h"
#include "experiment/text_format.h"
#include "experiment/score_table.h"
#include "experiment/text_scoring.h"
#include "experiment/word_units.h"
#include "io/model_locator.h"
#include "model/weights.h"

namespace entroscope::cli {
namespace {

// Tokens per forward call (the Scorer's default); --max-memory may lower it.
constexpr std::size_t kScoreBatchTokens = 4096;

struct ScoreArgs {
  std::vector<std::string> models;
  std::vector<std::string> texts;
  std::string input;
  std::vector<std::string> files;
  bool lines = false;
  std::string unit = "token";
  std::string format = "tsv";
  std::string out;
  std::string bos = "auto";
  int threads = 0;
  std::string device = "cpu";
  bool offline = false;
  std::string max_memory;
  std::string show;  // "", "surprisal" or "entropy"
};

// --show: the text with each token coloured by its value (six bands of 2 bits, green to red), a
// legend first; on a pipe or file the same without colour, each token followed by [value].
class TokenView {
 public:
  TokenView(std::string measure, bool colour) : measure_(std::move(measure)), colour_(colour) {}
  std::string legend() const {
    std::string out = fmt::format("{} (bits): ", measure_);
    for (int band = 0; band < kBands; ++band) {
      const std::string label = band + 1 < kBands ? fmt::format("{}-{}", band * 2, band * 2 + 2) : fmt::format("{}+", band * 2);
      out += colour_ ? fmt::format("\x1b[48;5;{}m\x1b[30m {} \x1b[0m ", kColours[band], label) : label + " ";
    }
    return out + "\n";
  }
  std::string token(std::string_view text, double value) const {
    if (std::isnan(value)) return std::string(text) + (colour_ ? "" : "[NA]");
    if (!colour_) return fmt::format("{}[{:.1f}]", text, value);
    const int band = std::clamp(static_cast<int>(value / 2.0), 0, kBands - 1);
    std::string shown;
    for (char c : text) shown += c == '\n' ? std::string("\x1b[0m\n") : std::string(1, c);  // no colour bleeding past lines
    return fmt::format("\x1b[48;5;{}m\x1b[30m{}\x1b[0m", kColours[band], shown);
  }
  const std::string& measure() const { return measure_; }

 private:
  static constexpr int kBands = 6;
  static constexpr int kColours[kBands] = {114, 150, 186, 222, 216, 210};
  std::string measure_;
  bool colour_;
};

using InputText = experiment::ScoreInput;

std::vector<std::string> split_lines(const std::string& content) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string line = content.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

std::vector<InputText> read_inputs(const ScoreArgs& a) {
  std::vector<InputText> texts;
  auto add_plain = [&](const std::string& content) {
    if (a.lines) {
      for (std::string& line : split_lines(content)) texts.push_back({nullptr, std::move(line)});
    } else {
      texts.push_back({nullptr, content});
    }
  };
  for (const std::string& t : a.texts) texts.push_back({nullptr, t});
  if (!a.input.empty()) {
    const std::vector<std::string> lines = split_lines(read_text_file(a.input));
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
      nlohmann::json record;
      std::string duplicate;
      try {
        if (lines[i].size() > kMaxLineBytes)
          fail("{}: line {}: {} bytes, more than the {} MiB a line may have (the limit)", a.input, i + 1, lines[i].size(),
               kMaxLineBytes >> 20);
        record = parse_json_checking_keys(lines[i], fmt::format("{}: line {}", a.input, i + 1), &duplicate);
      } catch (const nlohmann::json::exception& e) {
        fail("{}: line {}: not valid JSON ({})", a.input, i + 1, e.what());
      }
      if (!duplicate.empty()) fail("{}: line {}: the key \"{}\" appears twice", a.input, i + 1, duplicate);
      if (!record.is_object() || !record.contains("text") || !record["text"].is_string()) {
        fail("{}: line {}: expected an object with a \"text\" string", a.input, i + 1);
      }
      InputText t{record.contains("id") ? record["id"] : nlohmann::json(), record["text"].get<std::string>(), {}};
      for (const auto& item : record.items()) {
        if (item.key() != "id" && item.key() != "text") t.extra[item.key()] = item.value();
      }
      texts.push_back(std::move(t));
    }
  }
  for (const std::string& f : a.files) {
    if (f == "-") {
      add_plain(std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()));
    } else {
      add_plain(read_text_file(f));
    }
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].id.is_null()) texts[i].id = i;
  }
  if (texts.empty()) fail("no text to score: give --text, --input FILE.jsonl, text files, or - for stdin");
  return texts;
}

// A table cell: a string, a number (NaN is "not scored": NA in TSV/CSV, null in JSON Lines),
// a flag, or any JSON value carried through.
using Cell = nlohmann::json;

class TableWriter {
 public:
  TableWriter(std::string format, std::vector<std::string> columns)
      : format_(std::move(format)), columns_(std::move(columns)) {
    if (format_ != "jsonl") {
      for (std::size_t i = 0; i < columns_.size(); ++i) out_ += (i ? separator() : "") + columns_[i];
      out_ += "\n";
    }
  }
  void row(const std::vector<Cell>& cells) {
    if (format_ == "jsonl") {
      nlohmann::ordered_json object = nlohmann::ordered_json::object();  // keys in the table's column order
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        const Cell& c = cells[i];
        object[columns_[i]] = c.is_number_float() && std::isnan(c.get<double>()) ? nlohmann::ordered_json() : nlohmann::ordered_json(c);
      }
      out_ += object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      return;
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out_ += separator();
      out_ += field(cells[i]);
    }
    out_ += "\n";
  }
  const std::string& text() const { return out_; }

 private:
  std::string separator() const { return format_ == "csv" ? "," : "\t"; }
  // Strings are quoted (RFC 4180 style, which pandas and readr read) when they hold the
  // separator, a quote or a line break; floats are written shortest-round-trip.
  std::string field(const Cell& c) const {
    if (c.is_null()) return "NA";
    if (c.is_number_float()) {
      const double v = c.get<double>();
      return std::isnan(v) ? "NA" : fmt::format("{}", v);
    }
    if (c.is_boolean()) return c.get<bool>() ? "TRUE" : "FALSE";
    const std::string s = c.is_string() ? c.get<std::string>() : c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (format_ == "csv") return experiment::csv_field(s);  // the experiments' CSV quoting
    if (s.find_first_of("\t\"\n\r") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char ch : s) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return quoted + "\"";
  }

  std::string format_;
  std::vector<std::string> columns_;
  std::string out_;
};

void run_score(const ScoreArgs& a) {
  const experiment::ScoreUnit unit = experiment::parse_score_unit(a.unit, "--unit");
  if (a.format != "tsv" && a.format != "csv" && a.format != "jsonl") fail("--format {}: use tsv, csv or jsonl", a.format);
  apply_thread_count(a.threads);
  const kernels::Device device = chosen_device(a.device, "score");
  const std::vector<InputText> inputs = read_inputs(a);
  const bool words = unit == experiment::ScoreUnit::kWord;

  experiment::ScoreTable table{experiment::score_columns(inputs, unit), {}};
  std::optional<TokenView> view;
  std::string shown;
  if (!a.show.empty()) {
    if (a.show != "surprisal" && a.show != "entropy") fail("--show {}: use surprisal or entropy", a.show);
    const char* term = std::getenv("TERM");
    view.emplace(a.show, ::isatty(STDOUT_FILENO) && !(term && std::string(term) == "dumb") && !std::getenv("NO_COLOR"));
    shown = view->legend();
  }

  for (const std::string& spec : a.models) {
    const io::ResolvedModel resolved = io::resolve_or_fetch_model(spec, a.offline);
    const model::ModelConfig config = model::load_config(resolved.dir);
    const model::MemoryPlan memory = model::plan_checkpoint_memory(
        resolved.dir, config, spec, kScoreBatchTokens,
        a.max_memory.empty() ? 0 : model::parse_memory_size(a.max_memory, "--max-memory"));
    if (!memory.note.empty()) fmt::print(stderr, "entroscope: {}\n", memory.note);
    const model::Model m = model::load_model(resolved.dir, spec);
    const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(resolved.dir);
    metrics::Scorer scorer(m, memory.batch_tokens, device);
    experiment::WordTokenClasses classes;
    if (words) {
      classes = experiment::word_token_classes(tok, m.config.vocab_size, experiment::resolve_eos(m, tok));
      scorer.set_token_classes(classes.masks, experiment::kWordClassCount);
    }
    const experiment::ScoringModel scoring{spec,   resolved.pinned_revision(),
                                           m,      tok,
                                           experiment::resolve_bos(a.bos, m, tok),
                                           scorer, words ? &classes : nullptr};
    auto show = [&](const InputText& input, const experiment::TextScores& s) {
      std::string line = fmt::format("{} [{}]: ", spec, input.id.is_string() ? input.id.get<std::string>() : input.id.dump());
      for (std::size_t i = 0; i < s.ids.size(); ++i) {
        const double v = view->measure() == "entropy" ? s.rows.entropy_bits[i] : s.rows.surprisal_bits[i];
        line += view->token(experiment::printable_bytes(tok.token_bytes(s.ids[i])), v);
      }
      shown += line + "\n";
    };
    experiment::append_score_rows(table, inputs, unit, scoring, view ? std::function(show) : nullptr);
  }
  TableWriter writer(a.format, table.columns);
  for (const auto& row : table.rows) writer.row(row);
  // --show puts the view on stdout; the table then goes only to --out.
  if (view) std::fwrite(shown.data(), 1, shown.size(), stdout);
  if (a.out.empty() && !view) {
    std::fwrite(writer.text().data(), 1, writer.text().size(), stdout);
  } else if (!a.out.empty()) {
    write_file_atomic(a.out, writer.text());
  }
  std::fflush(stdout);
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* cmd = app.add_subcommand(
      "score",
      "Entropy and surprisal (bits) of every token or every word of your texts, as one tidy long table: one row per\n"
      "  unit per model, to stdout (TSV by default) so it loads in R, pandas or csvkit as it is.\n"
      "  Model input: BOS + the text's tokens (--bos), nothing appended. --unit word: words are whitespace-separated\n"
      "  runs (punctuation stays with its word); surprisal_bits sums the word's tokens, surprisal_bow_bits is the\n"
      "  beginning-of-word corrected surprisal (Pimentel & Meister 2024; docs/words.md), and the _wordsprobability_ /\n"
      "  _minicons_ columns apply those libraries' corrections to the same words.\n"
      "  Example: entroscope score --model demo-gpt2-s --text \"I was a mat in France.\" --unit word");
  cmd->add_option("--model", args->models, "Model: directory, demo name or Hub id in the local cache (repeat for several)")
      ->required()
      ->type_name("M");
  cmd->add_option("--text", args->texts, "A text to score (repeatable)")->type_name("TEXT");
  cmd->add_option("--input", args->input, "JSON Lines: one {\"id\": ..., \"text\": ...} per line; other fields are carried through")
      ->type_name("FILE.jsonl");
  cmd->add_option("files", args->files, "Plain text files, one text each (or one per line with --lines); - reads stdin")
      ->type_name("FILE");
  cmd->add_flag("--lines", args->lines, "Plain text input: one text per line");
  cmd->add_option("--unit", args->unit, "token or word")->default_val("token");
  cmd->add_option("--format", args->format, "tsv, csv or jsonl")->default_val("tsv");
  cmd->add_option("--out", args->out, "Write the table to FILE (atomically) instead of stdout")->type_name("FILE");
  cmd->add_option("--bos", args->bos,
                  "auto or always (the tokenizer's BOS; else <|endoftext|> for GPT-2/NeoX/Neo/J/Qwen/OLMo-2, "
                  "config.json's bos_token_id for OPT/Llama/Mistral; docs/words.md), never (the first token is then not scored: NA), or a token id or token")
      ->default_val("auto");
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores); results do not depend on it")->default_val(0);
  cmd->add_option("--max-memory", args->max_memory,
                  "Memory a model may use (8G, 512M): batches shrink to fit, a model that cannot fit is refused before "
                  "loading (default: what the machine has available)")
      ->type_name("SIZE");
  cmd->add_option("--show", args->show,
                  "Print the text instead of the table, each token coloured by surprisal or entropy (a legend first; "
                  "plain text with [values] when stdout is not a terminal); the table still goes to --out")
      ->type_name("surprisal|entropy");
  cmd->add_flag("--offline", args->offline,
                "Never download: a Hub id must be in the local cache (default: fetched on first use, like transformers)");
  cmd->footer(
      "Columns: model, revision, bos, text_id (the input's id, else a 0-based index), carried-through input fields,\n"
      "  unit_index, unit, char_start, char_end, byte_start, byte_end (half-open, in code points and UTF-8 bytes), then\n"
      "  token: token_index, token_id, entropy_bits (of the distribution predicting the token), surprisal_bits;\n"
      "  word: token_start, token_end (the word's tokens), unit_token_start (its unit: with the whitespace tokens\n"
      "  before it), entropy_bits (at the unit's start), surprisal_bits (sum over the unit), surprisal_bow_bits,\n"
      "  surprisal_bow_wordsprobability_bits, surprisal_bow_minicons_bits, first_subword_entropy_bits,\n"
      "  boundary_inside_token (TRUE where a token holds a word's end and the following whitespace: the correction is\n"
      "  then not exact). Unscored values are NA (null in JSON Lines). A text longer than the model's context is\n"
      "  scored in sliding windows (each token once, with at least half a context before it).\n"
      "Examples:\n"
      "  $ entroscope score --model demo-gpt2-s --text \"I was a mat in France.\"\n"
      "  $ entroscope score --model demo-gpt2-s --model demo-gpt2-m --input items.jsonl --unit word --out words.tsv\n"
      "  $ cat story.txt | entroscope score --model demo-neox-m --unit word --lines - --format csv\n");
  add_device_option(cmd, args->device);
  cmd->callback([args] { run_score(*args); });
}

}  // namespace entroscope::cli
