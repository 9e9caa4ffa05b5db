#pragma once
// Turns what the user wrote for a model (`--model X`, an experiment's `models:` entry) into a local
// folder holding config.json, the weights and tokenizer files. Never touches the network.
//
// Resolution order:
//   1. an existing directory;
//   2. a bundled demo model: a subfolder of default_models_dir() (e.g. "demo-gpt2-s");
//   3. a Hub id with optional @revision ("gpt2", "EleutherAI/pythia-410m@step143000") found in the
//      local Hugging Face cache (legacy ids map to their openai-community/ / distilbert/ names);
//   4. otherwise an Error that says what was tried and suggests `entroscope pull ID`.
#include <filesystem>
#include <string>

namespace entroscope::io {

struct ResolvedModel {
  std::filesystem::path dir;  // directory holding config.json, weights, tokenizer files
  std::string spec;           // what the user wrote
  std::string source;         // "directory" | "demo" | "hf-cache"
  std::string repo_id;        // e.g. "openai-community/gpt2" (empty for directories)
  std::string revision;       // requested revision (branch/tag/commit), empty for directories
  std::string commit;         // resolved commit hash when from the cache
  // What outputs record as the revision: the commit when known, else the revision asked for.
  const std::string& pinned_revision() const { return commit.empty() ? revision : commit; }
};

ResolvedModel resolve_model(const std::string& spec);

// Like resolve_model, but a Hub id that is not in the local cache is downloaded first (with the
// `pull` machinery and its progress on stderr), as transformers users expect; unless `offline` or
// HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set, in which case it is resolve_model's error.
ResolvedModel resolve_or_fetch_model(const std::string& spec, bool offline);

// The folder of bundled demo models: $ENTROSCOPE_MODELS_DIR when set; otherwise the first existing
// of <exe dir>/../models, <exe dir>/../../models, <exe dir>/../share/entroscope/models (the exe dir
// from /proc/self/exe, or the executable path on macOS). Empty when none exists.
std::filesystem::path default_models_dir();

}  // namespace entroscope::io
