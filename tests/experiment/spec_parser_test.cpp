// The experiment file parser: the shipped demo and a file using every option parse to what they
// say; every kind of mistake gets a one-line error naming the file, line and column, and the field.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/temp_dir.h"
#include "experiment/spec_parser.h"
#include "experiment_test_support.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment;
using entroscope::experiment_test::kDemoExperiment;

namespace {

const fs::path kFile = "/exp/study.yaml";

// The error message for `yaml`, or "" when it parses.
std::string parse_error(const std::string& yaml) {
  try {
    parse_experiment_text(yaml, kFile);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line error: " << msg;
    return msg;
  }
  return "";
}

const char* kMinimal = R"(models: [m]
data: items.jsonl
conditions:
  a: ["{context}", {text: "{target}", measure: true}]
  b: ["<|endoftext|>", {text: "{target}", measure: true}]
)";

}  // namespace

TEST(SpecParser, DemoExperimentMatchesTheDemoDefinition) {
  const ExperimentSpec spec = parse_experiment_file(kDemoExperiment);
  EXPECT_EQ(spec.name, "demo");
  ASSERT_EQ(spec.models.size(), 4u);
  EXPECT_EQ(spec.models[0].spec, "demo-gpt2-s");
  EXPECT_EQ(spec.models[3].spec, "demo-neox-m");
  EXPECT_EQ(fs::weakly_canonical(spec.data_file), fs::weakly_canonical(experiment_test::kDemoItems));
  ASSERT_EQ(spec.conditions.size(), 2u);

  const Condition& with = spec.conditions[0];
  EXPECT_EQ(with.name, "with_context");
  ASSERT_EQ(with.segments.size(), 2u);
  EXPECT_EQ(with.segments[0].kind, SegmentKind::kTemplate);
  EXPECT_EQ(with.segments[0].text.source(), "{context}");
  EXPECT_FALSE(with.segments[0].measured);
  EXPECT_EQ(with.measured_segment, 1u);
  EXPECT_EQ(with.window_prefix_segments, 0u);

  const Condition& without = spec.conditions[1];
  EXPECT_EQ(without.segments[0].kind, SegmentKind::kSpecialToken);
  EXPECT_EQ(without.segments[0].special, "<|endoftext|>");
  EXPECT_EQ(without.measured_segment, 1u);
  EXPECT_EQ(without.window_prefix_segments, 1u);  // every window starts with <|endoftext|>

  ASSERT_EQ(spec.contrasts.size(), 1u);
  EXPECT_EQ(spec.contrasts[0].name, "with_context - no_context");
  EXPECT_EQ(spec.contrasts[0].plus, 0u);
  EXPECT_EQ(spec.contrasts[0].minus, 1u);
  EXPECT_EQ(spec.bootstrap.samples, 10000);
  EXPECT_EQ(spec.bootstrap.seed, 0u);
  EXPECT_DOUBLE_EQ(spec.bootstrap.level, 0.95);
  EXPECT_EQ(spec.test.kind, PairedTestKind::kPairedT);
  EXPECT_TRUE(spec.wants(Metric::kEntropy));
  EXPECT_TRUE(spec.wants(Metric::kSurprisal));
  EXPECT_TRUE(spec.wants(Metric::kPerplexity));
  EXPECT_EQ(spec.referenced_fields(), (std::vector<std::string>{"context", "target"}));
}

TEST(SpecParser, EveryOption) {
  const ExperimentSpec spec = parse_experiment_text(R"(
name: full
description: every field
models:
  - ../models/x
  - {model: EleutherAI/pythia-160m, name: pythia-160m, family: Pythia}
data: /abs/items.jsonl
id_field: key
conditions:
  ctx:
    - {special: bos}
    - "{context}\n"
    - {literal: " {not a field} "}
    - {text: "{target}", measure: true}
  bare:
    - {special: eos}
    - {text: "{target}", measure: true}
    - "after"
contrasts:
  - {name: context_effect, difference: "ctx - bare"}
  - bare-ctx
metrics: [surprisal, entropy]
per_token: csv
statistics:
  bootstrap: {samples: 2000, seed: 7, level: 0.9}
  test: sign_flip
  permutations: 5000
window: {length: 128, stride: 32}
scaling: {x: non_embedding_parameters}
batch_tokens: 1024
)",
                                                    kFile);
  EXPECT_EQ(spec.name, "full");
  EXPECT_EQ(spec.models[0].spec, "../models/x");
  EXPECT_EQ(spec.models[1].name, "pythia-160m");
  EXPECT_EQ(spec.models[1].family, "Pythia");
  EXPECT_EQ(spec.data_file, fs::path("/abs/items.jsonl"));
  EXPECT_EQ(spec.id_field, "key");
  const Condition& ctx = spec.conditions[0];
  EXPECT_EQ(ctx.segments[0].special, "bos");
  EXPECT_EQ(ctx.segments[2].kind, SegmentKind::kLiteral);
  EXPECT_EQ(ctx.segments[2].text.render({}), " {not a field} ");
  EXPECT_EQ(ctx.segments[1].text.render({{"context", "C"}}), "C\n");
  EXPECT_EQ(ctx.measured_segment, 3u);
  EXPECT_EQ(spec.conditions[1].measured_segment, 1u);
  ASSERT_EQ(spec.contrasts.size(), 2u);
  EXPECT_EQ(spec.contrasts[0].name, "context_effect");
  EXPECT_EQ(spec.contrasts[1].name, "bare - ctx");  // "bare-ctx" split at the only '-' that gives two conditions
  EXPECT_EQ(spec.contrasts[1].plus, 1u);
  EXPECT_EQ(spec.metrics, (std::vector<Metric>{Metric::kSurprisal, Metric::kEntropy}));
  EXPECT_FALSE(spec.wants(Metric::kPerplexity));
  EXPECT_EQ(spec.per_token, PerTokenFormat::kCsv);
  EXPECT_EQ(spec.bootstrap.samples, 2000);
  EXPECT_EQ(spec.bootstrap.seed, 7u);
  EXPECT_EQ(spec.test.kind, PairedTestKind::kSignFlip);
  EXPECT_EQ(spec.test.permutations, 5000);
  EXPECT_EQ(spec.window.length, 128);
  EXPECT_EQ(spec.window.stride, 32);
  EXPECT_EQ(spec.scaling_axis, ScalingAxis::kNonEmbeddingParameters);
  EXPECT_EQ(spec.batch_tokens, 1024u);
}

TEST(SpecParser, CanonicalFormIgnoresNamesButNotNumbers) {
  const ExperimentSpec a = parse_experiment_text(kMinimal, kFile);
  const ExperimentSpec renamed = parse_experiment_text(std::string("name: other\n") + kMinimal, kFile);
  const ExperimentSpec reseeded =
      parse_experiment_text(std::string(kMinimal) + "statistics: {bootstrap: {seed: 1}}\n", kFile);
  EXPECT_EQ(a.canonical(), renamed.canonical());
  EXPECT_NE(a.canonical(), reseeded.canonical());
}

TEST(SpecParser, UnknownFieldsNameFileLineAndColumn) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "metricz: [entropy]\n"),
            "/exp/study.yaml:6:1: unknown field 'metricz' in the experiment file (expected: models, data, conditions, "
            "contrasts, metrics, per_token, unit, statistics, window, scaling, batch_tokens, id_field, name, description)");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "statistics: {bootstrap: {samples: 500, sed: 3}}\n"),
            "/exp/study.yaml:6:40: unknown field 'sed' in statistics.bootstrap (expected: samples, seed, level)");
  const std::string segment = parse_error(R"(models: [m]
data: items.jsonl
conditions:
  a:
    - "<|endoftext|>"
    - {txt: "{target}", measure: true}
)");
  EXPECT_NE(segment.find("/exp/study.yaml:6:8: unknown field 'txt' in condition 'a' segment 2"), std::string::npos)
      << segment;
}

TEST(SpecParser, UnquotedTemplateGetsAHint) {
  const std::string message = parse_error(R"(models: [m]
data: items.jsonl
conditions:
  a: [{context}, {text: "{target}", measure: true}]
)");
  EXPECT_NE(message.find("unknown field 'context'"), std::string::npos) << message;
  EXPECT_NE(message.find("write it in quotes: \"{context}\""), std::string::npos) << message;
}

TEST(SpecParser, ContrastNamesThatCleanToTheSameFileNameAreAnError) {
  const std::string message = parse_error(std::string(kMinimal) +
                                          "contrasts: [{name: \"a-b\", difference: \"a - b\"}, "
                                          "{name: \"a - b\", difference: \"b - a\"}]\n");
  EXPECT_NE(message.find("contrasts 'a-b' and 'a - b' give the same file and column name"), std::string::npos) << message;
}

TEST(SpecParser, ContrastNamingUnknownCondition) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "contrasts: [\"a - c\"]\n"),
            "/exp/study.yaml:6:13: contrast 'a - c' names unknown condition 'c' (conditions: a, b)");
  EXPECT_NE(parse_error(std::string(kMinimal) + "contrasts: [\"a - a\"]\n").find("with itself"), std::string::npos);
  EXPECT_NE(parse_error(std::string(kMinimal) + "contrasts: [\"a + b\"]\n").find("must read 'CONDITION - CONDITION'"),
            std::string::npos);
}

TEST(SpecParser, MeasuredSegmentRules) {
  const std::string none = parse_error(R"(models: [m]
data: d.jsonl
conditions:
  a: ["<|endoftext|>", "{target}"]
)");
  EXPECT_EQ(none, "/exp/study.yaml:4:3: condition 'a' has no measured segment: mark the scored one with `measure: true`");
  const std::string two = parse_error(R"(models: [m]
data: d.jsonl
conditions:
  a: ["<|endoftext|>", {text: "{x}", measure: true}, {text: "{y}", measure: true}]
)");
  EXPECT_NE(two.find("/exp/study.yaml:4:54: condition 'a' has more than one segment with measure: true"),
            std::string::npos)
      << two;
  const std::string first = parse_error(R"(models: [m]
data: d.jsonl
conditions:
  a: [{text: "{target}", measure: true}]
)");
  EXPECT_NE(first.find("/exp/study.yaml:4:7: condition 'a': the measured segment is first"), std::string::npos) << first;
}

TEST(SpecParser, TemplateAndTokenMistakes) {
  const std::string brace = parse_error(R"(models: [m]
data: d.jsonl
conditions:
  a: ["<|endoftext|>", {text: "{target", measure: true}]
)");
  EXPECT_NE(brace.find("/exp/study.yaml:4:31: condition 'a' segment 2: unmatched '{'"), std::string::npos) << brace;
  const std::string embedded = parse_error(R"(models: [m]
data: d.jsonl
conditions:
  a: ["<|endoftext|>{context}", {text: "{target}", measure: true}]
)");
  EXPECT_NE(embedded.find("contains '<|endoftext|>', which would be tokenized as plain characters"),
            std::string::npos)
      << embedded;
  const std::string both = parse_error(R"(models: [m]
data: d.jsonl
conditions:
  a: ["x", {text: "{target}", special: bos, measure: true}]
)");
  EXPECT_NE(both.find("must have exactly one of text:, literal: or special: (found 2)"), std::string::npos) << both;
}

TEST(SpecParser, ValueAndSyntaxErrors) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "statistics: {bootstrap: {samples: lots}}\n"),
            "/exp/study.yaml:6:35: statistics.bootstrap.samples must be a whole number, got 'lots'");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "statistics: {bootstrap: {level: 1.5}}\n"),
            "/exp/study.yaml:6:33: statistics.bootstrap.level must be between 0.5 and 1 (e.g. 0.95), got 1.5");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "metrics: [entropy, variance]\n"),
            "/exp/study.yaml:6:20: unknown metric 'variance' (expected entropy, surprisal, perplexity)");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "window: {length: 64, stride: 64}\n"),
            "/exp/study.yaml:6:30: window.stride (64) must be smaller than window.length (64) so windows overlap");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "models: [n]\n"),
            "/exp/study.yaml:6:1: field 'models' appears twice in the experiment file");
  EXPECT_EQ(parse_error("models: [m\ndata: x\n").rfind("/exp/study.yaml:", 0), 0u);
  EXPECT_NE(parse_error("models: [m\ndata: x\n").find("invalid YAML"), std::string::npos);
  EXPECT_EQ(parse_error("models: [m]\nconditions: {}\n"), "/exp/study.yaml: missing required field 'data'");
  EXPECT_EQ(parse_error(""), "/exp/study.yaml: the experiment file is empty");
}

TEST(SpecParser, MissingFileIsNamed) {
  try {
    parse_experiment_file("/nonexistent/experiment.yaml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/experiment.yaml: no such experiment file");
  }
}

// The complete example in docs/experiments.md is a valid experiment file.
TEST(SpecParser, DocumentedExampleParses) {
  const std::string doc = test_util::read_file(experiment_test::kSourceDir / "docs" / "experiments.md");
  const std::string marker = "## A complete example";
  const std::size_t section = doc.find(marker);
  ASSERT_NE(section, std::string::npos);
  const std::size_t begin = doc.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const std::size_t end = doc.find("```", begin + 8);
  const ExperimentSpec spec = parse_experiment_text(doc.substr(begin + 8, end - begin - 8), kFile);
  EXPECT_EQ(spec.models.size(), 9u);
  EXPECT_EQ(spec.models[5].family, "Pythia");
  EXPECT_EQ(spec.conditions.size(), 3u);
  EXPECT_EQ(spec.conditions[2].window_prefix_segments, 1u);
  EXPECT_EQ(spec.contrasts[1].name, "order_effect");
  EXPECT_EQ(spec.per_token, PerTokenFormat::kCsv);
  EXPECT_EQ(spec.window.length, 1024);
}

TEST(SpecParser, EveryShippedExampleParses) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(experiment_test::kSourceDir / "examples")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const ExperimentSpec spec = parse_experiment_file(entry.path());
    EXPECT_FALSE(spec.models.empty());
    EXPECT_TRUE(fs::exists(spec.data_file));
    ++n;
  }
  EXPECT_GE(n, 2);
}
