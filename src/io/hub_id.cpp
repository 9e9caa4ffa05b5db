#include "io/hub_id.h"

#include <array>
#include <utility>

#include "common/error.h"

namespace entroscope::io::hub {

namespace {

// The un-namespaced GPT-2 family names the Hub moved under organisations; it still redirects the
// old names, but the cache stores the canonical ones.
constexpr std::array<std::pair<const char*, const char*>, 5> kLegacyIds{{
    {"gpt2", "openai-community/gpt2"},
    {"gpt2-medium", "openai-community/gpt2-medium"},
    {"gpt2-large", "openai-community/gpt2-large"},
    {"gpt2-xl", "openai-community/gpt2-xl"},
    {"distilgpt2", "distilbert/distilgpt2"},
}};

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool valid_segment(const std::string& s) {
  if (s.empty() || !is_alnum(s.front())) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

std::string HubModelRef::display() const {
  return revision_given ? repo_id + "@" + revision : repo_id;
}

std::optional<std::string> canonical_legacy_id(const std::string& id) {
  for (const auto& [legacy, canonical] : kLegacyIds) {
    if (id == legacy) return std::string(canonical);
  }
  return std::nullopt;
}

bool is_valid_repo_id(const std::string& id) {
  if (id.empty() || id.size() > 96) return false;
  if (id.find("--") != std::string::npos || id.find("..") != std::string::npos) return false;
  auto slash = id.find('/');
  if (slash == std::string::npos) return valid_segment(id);
  if (id.find('/', slash + 1) != std::string::npos) return false;
  return valid_segment(id.substr(0, slash)) && valid_segment(id.substr(slash + 1));
}

bool is_valid_revision(const std::string& rev) {
  if (rev.empty() || rev.size() > 255) return false;
  if (rev.find("..") != std::string::npos || rev.front() == '/' || rev.back() == '/') return false;
  for (unsigned char c : rev) {
    if (c <= 0x20 || c == 0x7f || c == '\\' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' ||
        c == '[')
      return false;
  }
  return true;
}

bool is_commit_hash(const std::string& rev) {
  if (rev.size() != 40) return false;
  for (char c : rev) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<HubModelRef> parse_hub_ref(const std::string& spec) {
  HubModelRef ref;
  std::string id = spec;
  auto at = spec.find('@');
  if (at != std::string::npos) {
    id = spec.substr(0, at);
    ref.revision = spec.substr(at + 1);
    ref.revision_given = true;
    if (!is_valid_revision(ref.revision)) return std::nullopt;
  } else {
    ref.revision = kDefaultRevision;
  }
  if (!is_valid_repo_id(id)) return std::nullopt;
  ref.as_written = id;
  ref.repo_id = canonical_legacy_id(id).value_or(id);
  return ref;
}

HubModelRef parse_hub_ref_or_throw(const std::string& spec) {
  auto ref = parse_hub_ref(spec);
  if (!ref) {
    fail("'{}' is not a Hugging Face model id: expected ORG/NAME or NAME (letters, digits, '-', '_', '.'), "
         "optionally followed by @REVISION",
         spec);
  }
  return *ref;
}

}  // namespace entroscope::io::hub
