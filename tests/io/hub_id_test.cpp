// Hub model ids as users write them: namespaced ids, legacy GPT-2 names, @revision.
#include <gtest/gtest.h>

#include "common/error.h"
#include "io/hub_id.h"

using namespace entroscope::io::hub;

TEST(HubId, NamespacedIdWithoutRevisionMeansMain) {
  auto ref = parse_hub_ref("EleutherAI/pythia-410m");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->repo_id, "EleutherAI/pythia-410m");
  EXPECT_EQ(ref->as_written, "EleutherAI/pythia-410m");
  EXPECT_EQ(ref->revision, "main");
  EXPECT_FALSE(ref->revision_given);
  EXPECT_EQ(ref->display(), "EleutherAI/pythia-410m");
}

TEST(HubId, RevisionAfterAt) {
  auto ref = parse_hub_ref("EleutherAI/pythia-410m@step143000");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->repo_id, "EleutherAI/pythia-410m");
  EXPECT_EQ(ref->revision, "step143000");
  EXPECT_TRUE(ref->revision_given);
  EXPECT_EQ(ref->display(), "EleutherAI/pythia-410m@step143000");

  auto pr = parse_hub_ref("openai-community/gpt2@refs/pr/12");
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->revision, "refs/pr/12");
}

TEST(HubId, LegacyIdsMapToTheirCanonicalNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"gpt2", "openai-community/gpt2"},
      {"gpt2-medium", "openai-community/gpt2-medium"},
      {"gpt2-large", "openai-community/gpt2-large"},
      {"gpt2-xl", "openai-community/gpt2-xl"},
      {"distilgpt2", "distilbert/distilgpt2"},
  };
  for (auto [legacy, canonical] : cases) {
    auto ref = parse_hub_ref(legacy);
    ASSERT_TRUE(ref) << legacy;
    EXPECT_EQ(ref->repo_id, canonical);
    EXPECT_EQ(ref->as_written, legacy);
  }
  auto with_rev = parse_hub_ref("gpt2-medium@6dcaa7a952f72f9298047fd5137cd6e4f05f41da");
  ASSERT_TRUE(with_rev);
  EXPECT_EQ(with_rev->repo_id, "openai-community/gpt2-medium");
  EXPECT_EQ(with_rev->revision, "6dcaa7a952f72f9298047fd5137cd6e4f05f41da");
  // An unknown single name stays as written (the Hub still serves some un-namespaced ids).
  EXPECT_EQ(parse_hub_ref("bert-base-uncased")->repo_id, "bert-base-uncased");
}

TEST(HubId, RejectsWhatCannotBeAnId) {
  for (const char* bad : {"", "/abs/path", "a/b/c", "org/", "/name", "org//name", "org/na me", "org--x/name",
                          "org/../name", "-org/name", "org/name@", "org/name@bad rev", "org/name@a..b",
                          "models/demo-gpt2-s/", "name\\x"}) {
    EXPECT_FALSE(parse_hub_ref(bad)) << "'" << bad << "'";
  }
  EXPECT_THROW(parse_hub_ref_or_throw("a/b/c"), entroscope::Error);
  try {
    parse_hub_ref_or_throw("a/b/c");
  } catch (const entroscope::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'a/b/c' is not a Hugging Face model id"), std::string::npos);
  }
}

TEST(HubId, CommitHashes) {
  EXPECT_TRUE(is_commit_hash("607a30d783dfa663caf39e06633721c8d4cfcd7e"));
  EXPECT_FALSE(is_commit_hash("607a30d7"));
  EXPECT_FALSE(is_commit_hash("607A30D783DFA663CAF39E06633721C8D4CFCD7E"));
  EXPECT_FALSE(is_commit_hash("main"));
}
