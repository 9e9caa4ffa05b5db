// Items (JSON Lines), their checks against the conditions, templates, sequence building with a
// real tokenizer, and the model checks made before a run: each bad input is one line naming the
// file, line and field.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/temp_dir.h"
#include "experiment/items.h"
#include "experiment/sequence_builder.h"
#include "experiment/spec_parser.h"
#include "experiment/text_template.h"
#include "experiment_test_support.h"
#include "model/config.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::experiment;
using namespace entroscope::experiment_test;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kTwoConditions = R"(models: [demo-gpt2-s]
data: items.jsonl
conditions:
  with_context: ["{context}", {text: "{target}", measure: true}]
  no_context: ["<|endoftext|>", {text: "{target}", measure: true}]
)";

struct Fixture {
  test_util::TempDir dir;
  fs::path yaml = dir / "exp.yaml";
  fs::path items = dir / "items.jsonl";
  Fixture(const std::string& yaml_text, const std::string& items_text) {
    test_util::write_file(yaml, yaml_text);
    test_util::write_file(items, items_text);
  }
  void check() const {
    const ExperimentSpec spec = parse_experiment_file(yaml);
    check_items_for_spec(spec, load_items(spec.data_file, spec.id_field));
  }
};

}  // namespace

TEST(TextTemplate, FillsFieldsAndEscapesBraces) {
  const TextTemplate t = TextTemplate::parse("{{{a}}} and {b.c-d}{a}");
  EXPECT_EQ(t.fields(), (std::vector<std::string>{"a", "b.c-d", "a"}));
  EXPECT_EQ(t.render({{"a", "x"}, {"b.c-d", "y"}}), "{x} and yx");
  EXPECT_FALSE(TextTemplate::parse("plain {{text}}").has_fields());
  EXPECT_EQ(TextTemplate::parse("plain {{text}}").render({}), "plain {text}");
  EXPECT_EQ(TextTemplate::literal("{raw}").render({}), "{raw}");
  EXPECT_THROW(TextTemplate::parse("{a"), Error);
  EXPECT_THROW(TextTemplate::parse("a}"), Error);
  EXPECT_THROW(TextTemplate::parse("{}"), Error);
  EXPECT_THROW(TextTemplate::parse("{a b}"), Error);
}

TEST(Items, LoadsIdsLinesAndFields) {
  test_util::TempDir dir;
  test_util::write_file(dir / "i.jsonl", "{\"id\": \"a\", \"t\": \"x\", \"n\": 3}\n\n{\"id\": 7, \"t\": \"y\"}\r\n");
  const ItemSet set = load_items(dir / "i.jsonl", "id");
  ASSERT_EQ(set.items.size(), 2u);
  EXPECT_EQ(set.items[0].id, "a");
  EXPECT_EQ(set.items[0].line, 1);
  EXPECT_EQ(set.items[0].fields.at("t"), "x");
  EXPECT_EQ(set.items[0].other_fields.at("n"), "a number");
  EXPECT_EQ(set.items[1].id, "7");
  EXPECT_EQ(set.items[1].line, 3);
  EXPECT_EQ(set.sha256.size(), 64u);

  test_util::write_file(dir / "noid.jsonl", "{\"t\": \"x\"}\n{\"t\": \"y\"}\n");
  EXPECT_EQ(load_items(dir / "noid.jsonl", "id").items[1].id, "line 2");
}

TEST(Items, BadFilesNameFileAndLine) {
  test_util::TempDir dir;
  const fs::path f = dir / "i.jsonl";
  test_util::write_file(f, "{\"id\": \"a\"}\n{\"id\": \"a\"}\n");
  EXPECT_EQ(error_of([&] { load_items(f, "id"); }), f.string() + ":2: duplicate item id 'a'");
  test_util::write_file(f, "{\"id\": \"a\"}\n{oops}\n");
  EXPECT_EQ(error_of([&] { load_items(f, "id"); }).rfind(f.string() + ":2: invalid JSON", 0), 0u);
  test_util::write_file(f, "[1, 2]\n");
  EXPECT_EQ(error_of([&] { load_items(f, "id"); }).rfind(f.string() + ":1: each line must be a JSON object", 0), 0u);
  test_util::write_file(f, "{\"id\": \"a\"}\n{\"x\": \"b\"}\n");
  EXPECT_EQ(error_of([&] { load_items(f, "id"); }),
            f.string() + ":2: item has no field 'id' but other items do (ids must be all or none)");
  test_util::write_file(f, "\n");
  EXPECT_EQ(error_of([&] { load_items(f, "id"); }), f.string() + ": no items (expected one JSON object per line)");
  EXPECT_EQ(error_of([&] { load_items(dir / "missing.jsonl", "id"); }),
            (dir / "missing.jsonl").string() + ": no such data file");
  // Several bad lines are reported together, on one line.
  std::string many;
  for (int i = 0; i < 25; ++i) many += i % 2 ? "{\"id\": \"x" + std::to_string(i) + "\"}\n" : "{oops}\n";
  test_util::write_file(f, many);
  const std::string several = error_of([&] { load_items(f, "id"); });
  EXPECT_EQ(several.rfind(f.string() + ": 13 bad lines: 1: invalid JSON", 0), 0u) << several;
  EXPECT_NE(several.find(" | 25: invalid JSON"), std::string::npos) << several;
  EXPECT_EQ(several.find('\n'), std::string::npos);
  // A key given twice in one item is an error, not "the last one wins".
  test_util::write_file(f, "{\"id\": \"a\", \"target\": \"x\", \"target\": \"y\"}\n");
  EXPECT_EQ(error_of([&] { load_items(f, "id"); }), f.string() + ":1: the key 'target' appears twice in one item");
  // An id_field that no item has is a typo, not a request for line numbers.
  test_util::write_file(f, "{\"id\": \"a\", \"target\": \"x\"}\n");
  EXPECT_EQ(error_of([&] { load_items(f, "item_id"); }),
            f.string() + ": no item has the field 'item_id' that id_field names (fields of line 1: id, target)");
}

TEST(Items, MissingFieldReferencedByTemplate) {
  Fixture fx(kTwoConditions, "{\"id\": \"a\", \"context\": \"c\", \"target\": \"t\"}\n{\"id\": \"b\", \"target\": \"t\"}\n");
  EXPECT_EQ(error_of([&] { fx.check(); }),
            fx.items.string() + ":2: item 'b' has no field 'context', which condition 'with_context' uses (" +
                fx.yaml.string() + ":4:18)");
}

TEST(Items, NonStringFieldReferencedByTemplate) {
  Fixture fx(kTwoConditions, "{\"id\": \"a\", \"context\": 5, \"target\": \"t\"}\n");
  EXPECT_EQ(error_of([&] { fx.check(); }),
            fx.items.string() + ":1: field 'context' of item 'a' is a number, but condition 'with_context' (" +
                fx.yaml.string() + ":4:18) uses it as text");
}

TEST(Items, EmptyMeasuredSpan) {
  Fixture fx(kTwoConditions, "{\"id\": \"a\", \"context\": \"c\", \"target\": \"t\"}\n{\"id\": \"b\", \"context\": \"c\", \"target\": \"\"}\n");
  EXPECT_EQ(error_of([&] { fx.check(); }),
            fx.items.string() + ":2: field 'target' of item 'b' is empty, so condition 'with_context' has an empty "
                                "measured span");
}

TEST(Items, NothingBeforeTheMeasuredSpan) {
  Fixture fx(kTwoConditions, "{\"id\": \"a\", \"context\": \"\", \"target\": \"t\"}\n");
  EXPECT_EQ(error_of([&] { fx.check(); }),
            fx.items.string() + ":1: in condition 'with_context' nothing precedes the measured span of item 'a' (field "
                                "'context' is empty), so its first token has nothing to be predicted from");
}

TEST(PrepareModels, UnknownModelNamesTheEntry) {
  test_util::TempDir dir;
  test_util::write_file(dir / "exp.yaml", R"(models:
  - demo-gpt2-s
  - demo-gpt2-xxl
data: items.jsonl
conditions:
  a: ["<|endoftext|>", {text: "{target}", measure: true}]
)");
  const ExperimentSpec spec = parse_experiment_file(dir / "exp.yaml");
  const std::string msg = error_of([&] { prepare_models(spec); });
  EXPECT_EQ(msg.rfind((dir / "exp.yaml").string() + ":3:5: model 'demo-gpt2-xxl': ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(PrepareModels, EveryMissingModelIsNamedAtOnce) {
  test_util::TempDir dir;
  test_util::write_file(dir / "exp.yaml", "models: [demo-gpt2-xxl, " + (kModelsDir / "demo-gpt2-s").string() +
                                              R"(, demo-gpt2-xxxl]
data: items.jsonl
conditions:
  a: ["<|endoftext|>", {text: "{target}", measure: true}]
)");
  const std::string msg = error_of([&] { prepare_models(parse_experiment_file(dir / "exp.yaml")); });
  EXPECT_EQ(msg.rfind("2 of the 3 models cannot be used: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("model 'demo-gpt2-xxl'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(" | "), std::string::npos) << msg;
  EXPECT_NE(msg.find("model 'demo-gpt2-xxxl'"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(PrepareModels, DemoNamesResolveFromTheExamplesFolderAndSpecialTokensAreChecked) {
  const ExperimentSpec demo = parse_experiment_file(kDemoExperiment);
  const auto prepared = prepare_models(demo);
  ASSERT_EQ(prepared.size(), 4u);
  EXPECT_EQ(fs::weakly_canonical(prepared[0].source.resolved.dir), fs::weakly_canonical(kModelsDir / "demo-gpt2-s"));
  EXPECT_EQ(prepared[0].source.name, "demo-gpt2-s");
  EXPECT_EQ(prepared[0].source.family, "GPT-2");
  EXPECT_EQ(prepared[3].source.family, "GPT-NeoX");
  EXPECT_EQ(prepared[0].window.length, 256u);  // the model's context

  test_util::TempDir dir;
  test_util::write_file(dir / "exp.yaml", "models: [" + (kModelsDir / "demo-gpt2-s").string() + R"(]
data: items.jsonl
conditions:
  a: ["<|nosuchtoken|>", {text: "{target}", measure: true}]
)");
  const std::string msg = error_of([&] { prepare_models(parse_experiment_file(dir / "exp.yaml")); });
  EXPECT_EQ(msg, (dir / "exp.yaml").string() + ":4:7: model demo-gpt2-s: the tokenizer has no token '<|nosuchtoken|>'");

  test_util::write_file(dir / "long.yaml", "models: [" + (kModelsDir / "demo-gpt2-s").string() + R"(]
data: items.jsonl
window: {length: 512}
conditions:
  a: ["<|endoftext|>", {text: "{target}", measure: true}]
)");
  EXPECT_EQ(error_of([&] { prepare_models(parse_experiment_file(dir / "long.yaml")); }),
            (dir / "long.yaml").string() + ":1:10: window.length 512 exceeds the context of model 'demo-gpt2-s' (256 positions)");
}

TEST(SequenceBuilder, SegmentsAreTokenizedSeparatelyAndTargetIdsAreShared) {
  const ExperimentSpec spec = parse_experiment_file(kDemoExperiment);
  const auto prepared = prepare_models(spec);
  const auto& p = prepared[0];
  const SequenceBuilder builder(spec, *p.tokenizer, p.source.config, p.source.name);
  EXPECT_EQ(builder.special_ids().at("<|endoftext|>"), 2047);

  Item item;
  item.id = "x";
  item.line = 1;
  item.fields = {{"context", "ROMEO:\n"}, {"target", "But soft"}};
  const BuiltSequence with = builder.build(spec.conditions[0], item);
  const BuiltSequence without = builder.build(spec.conditions[1], item);
  const auto target = p.tokenizer->encode("But soft");
  const auto context = p.tokenizer->encode("ROMEO:\n");
  ASSERT_EQ(with.measured_count(), target.size());
  EXPECT_EQ(with.measured_begin, context.size());
  EXPECT_EQ(std::vector<std::int32_t>(with.ids.begin() + static_cast<long>(with.measured_begin), with.ids.end()), target);
  EXPECT_EQ(without.ids.front(), 2047);
  EXPECT_EQ(without.window_prefix, 1u);
  EXPECT_EQ(with.window_prefix, 0u);
  EXPECT_EQ(std::vector<std::int32_t>(without.ids.begin() + 1, without.ids.end()), target);
}
