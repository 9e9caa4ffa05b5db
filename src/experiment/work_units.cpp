#include "experiment/work_units.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>

#include "common/error.h"
#include "experiment/sequence_builder.h"
#include "io/file_digest.h"
#include "io/hub_hash.h"

namespace entroscope::experiment {

namespace fs = std::filesystem;

ShardChoice parse_shard(std::string_view text, std::string_view option) {
  const auto slash = text.find('/');
  auto number = [&](std::string_view part, std::size_t& v) {
    const auto r = std::from_chars(part.data(), part.data() + part.size(), v);
    return !part.empty() && r.ec == std::errc() && r.ptr == part.data() + part.size();
  };
  ShardChoice s;
  if (slash == std::string_view::npos || !number(text.substr(0, slash), s.index) ||
      !number(text.substr(slash + 1), s.count) || s.count == 0 || s.index == 0 || s.index > s.count ||
      s.count > 100000)
    fail("{} '{}': expected I/N with 1 <= I <= N (e.g. {} 2/8 runs the second of eight shards)", option, text, option);
  return s;
}

double UnitPlan::shard_cost(std::size_t shard) const {
  double sum = 0;
  for (const WorkUnit& u : units) sum += u.shard == shard ? u.cost : 0.0;
  return sum;
}

UnitPlan plan_units(const ExperimentSpec& spec, const ItemSet& items, const std::vector<PreparedModel>& prepared,
                    kernels::Device device, std::size_t unit_items, std::size_t shards,
                    std::optional<std::size_t> keyed_shard) {
  if (unit_items == 0) fail("--unit-items must be at least 1");
  UnitPlan plan;
  plan.unit_items = unit_items;
  plan.shards = shards;
  // A chunk's token count depends on the tokenizer alone (a special segment is one token, whatever
  // its id), so the models of a series that share one (checkpoints of one model) tokenize the
  // items once: for 154 checkpoints, every shard and `plan` would otherwise tokenize them 154 times.
  std::map<std::string, std::vector<std::size_t>> chunk_tokens_by_tokenizer;  // tokenizer files' sha256s
  for (std::size_t m = 0; m < prepared.size(); ++m) {
    const PreparedModel& p = prepared[m];
    const SequenceBuilder builder(spec, *p.tokenizer, p.source.config, p.source.name);  // checks the specials
    std::string tokenizer_key;
    for (const fs::path& f : p.tokenizer->source_files()) tokenizer_key += io::file_sha256(f) + '\n';
    auto [counted, first_of_its_tokenizer] = chunk_tokens_by_tokenizer.try_emplace(tokenizer_key);
    std::vector<std::size_t>& chunk_tokens = counted->second;
    const double parameters = static_cast<double>(p.source.config.parameter_count());
    for (std::size_t first = 0, chunk = 0; first < items.items.size(); first += unit_items, ++chunk) {
      WorkUnit u;
      u.model = m;
      u.chunk = chunk;
      u.first_item = first;
      u.item_count = std::min(unit_items, items.items.size() - first);
      if (first_of_its_tokenizer) {
        std::size_t tokens = 0;
        for (std::size_t i = first; i < first + u.item_count; ++i)
          for (const Condition& c : spec.conditions) tokens += builder.build(c, items.items[i]).ids.size();
        chunk_tokens.push_back(tokens);
      }
      u.cost = parameters * static_cast<double>(chunk_tokens[chunk]);
      plan.units.push_back(std::move(u));
    }
  }
  // The units in model and item order, cut into `shards` consecutive stretches of equal cost: a unit
  // goes to the shard whose stretch holds the middle of its cost. Each shard then loads only the
  // few models its stretch covers (a series of 154 checkpoints is not read by every shard), and no
  // shard's cost is more than one unit's away from the mean.
  double total = 0;
  for (const WorkUnit& u : plan.units) total += u.cost;
  const double per_shard = total / static_cast<double>(shards);
  double before = 0;
  for (WorkUnit& u : plan.units) {
    const double middle = before + u.cost / 2;
    before += u.cost;
    const auto s = per_shard > 0 ? static_cast<std::size_t>(middle / per_shard) : 0;
    u.shard = std::min(s, shards - 1) + 1;
  }
  // Keys and ids: hashing a model's weight files reads all of them, so a shard does it only for
  // the models it runs.
  plan.resume_keys.assign(prepared.size(), std::string());
  for (std::size_t m = 0; m < prepared.size(); ++m) {
    const bool needed = !keyed_shard || std::any_of(plan.units.begin(), plan.units.end(), [&](const WorkUnit& u) {
      return u.model == m && u.shard == *keyed_shard;
    });
    if (!needed) continue;
    const PreparedModel& p = prepared[m];
    const ModelDigests digests = digest_model_files(p.source.resolved.dir, p.tokenizer->source_files());
    plan.resume_keys[m] = resume_key(spec, items, digests, device);
    for (WorkUnit& u : plan.units) {
      if (u.model != m) continue;
      std::string identity = plan.resume_keys[m];
      for (std::size_t i = u.first_item; i < u.first_item + u.item_count; ++i) identity += '\n' + items.items[i].id;
      u.id = io::hub::sha256_hex(identity).substr(0, 16);
    }
  }
  return plan;
}

ItemSet unit_items(const ItemSet& items, const WorkUnit& unit) {
  ItemSet part;
  part.file = items.file;
  part.sha256 = items.sha256;
  part.items.assign(items.items.begin() + static_cast<std::ptrdiff_t>(unit.first_item),
                    items.items.begin() + static_cast<std::ptrdiff_t>(unit.first_item + unit.item_count));
  return part;
}

}  // namespace entroscope::experiment
