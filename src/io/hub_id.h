#pragma once
// Hugging Face Hub model names as users write them: "org/name", "name" (legacy, un-namespaced),
// each with an optional "@revision" (branch, tag or commit hash).
#include <optional>
#include <string>

namespace entroscope::io::hub {

inline constexpr const char* kDefaultRevision = "main";

struct HubModelRef {
  std::string repo_id;    // canonical id, e.g. "openai-community/gpt2"
  std::string as_written; // the id part the user wrote, e.g. "gpt2" (same as repo_id if not legacy)
  std::string revision;   // "main" unless the user wrote "@rev"
  bool revision_given = false;

  std::string display() const;  // "repo_id" or "repo_id@revision" when a revision was given
};

// The Hub's canonical name for an un-namespaced legacy id ("gpt2" -> "openai-community/gpt2",
// "distilgpt2" -> "distilbert/distilgpt2"); nullopt when `id` is not one we know.
std::optional<std::string> canonical_legacy_id(const std::string& id);

// True when `id` has the shape of a Hub model id: one or two segments of [A-Za-z0-9._-] separated by
// '/', each starting with a letter or digit, no "--" or "..", at most 96 characters.
bool is_valid_repo_id(const std::string& id);

// True when `rev` can be a git revision name (non-empty, no whitespace/control chars, no "..").
bool is_valid_revision(const std::string& rev);

// True for a full 40-hex-digit commit hash (lower case, as the Hub reports them).
bool is_commit_hash(const std::string& rev);

// Parses "id[@revision]"; returns nullopt when it is not a valid Hub id (no error: callers decide
// whether that is a problem). Legacy ids are mapped to their canonical names.
std::optional<HubModelRef> parse_hub_ref(const std::string& spec);

// Like parse_hub_ref, but throws Error("'spec' is not a Hugging Face model id ...") when invalid.
HubModelRef parse_hub_ref_or_throw(const std::string& spec);

}  // namespace entroscope::io::hub
