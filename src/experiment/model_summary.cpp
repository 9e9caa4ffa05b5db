#include "experiment/model_summary.h"

#include <cmath>

namespace entroscope::experiment {

std::vector<double> item_means(const std::vector<ItemScores>& items, std::size_t condition, Measure m) {
  std::vector<double> out;
  out.reserve(items.size());
  for (const ItemScores& item : items) out.push_back(item.conditions.at(condition).mean_bits[index_of(m)]);
  return out;
}

std::vector<double> item_differences(const std::vector<ItemScores>& items, std::size_t plus, std::size_t minus,
                                     Measure m) {
  std::vector<double> out;
  out.reserve(items.size());
  for (const ItemScores& item : items)
    out.push_back(item.conditions.at(plus).mean_bits[index_of(m)] - item.conditions.at(minus).mean_bits[index_of(m)]);
  return out;
}

namespace {

double token_weighted_mean(const std::vector<ItemScores>& items, std::size_t condition, Measure m) {
  double sum = 0;
  std::size_t tokens = 0;
  for (const ItemScores& item : items) {
    const ItemConditionScores& s = item.conditions.at(condition);
    sum += s.mean_bits[index_of(m)] * static_cast<double>(s.n_tokens);
    tokens += s.n_tokens;
  }
  return sum / static_cast<double>(tokens);
}

// A different random stream per contrast and measure for the sign-flip test, fixed by the seed.
std::uint64_t test_seed(std::uint64_t seed, std::size_t contrast, Measure m) {
  return seed ^ (0x7e57'5eed'0000'0000ULL + contrast * 2 + index_of(m));
}

}  // namespace

ModelSummary summarize(const ExperimentSpec& spec, const std::vector<ItemScores>& items,
                       const std::function<void(std::size_t)>& on_progress) {
  ModelSummary out;
  out.n_items = items.size();
  // Every series is bootstrapped with the same resampled items (paired).
  std::vector<std::vector<double>> series;
  for (std::size_t c = 0; c < spec.conditions.size(); ++c)
    for (Measure m : kMeasures) series.push_back(item_means(items, c, m));
  for (const Contrast& k : spec.contrasts)
    for (Measure m : kMeasures) series.push_back(item_differences(items, k.plus, k.minus, m));
  std::vector<const std::vector<double>*> pointers;
  for (const auto& s : series) pointers.push_back(&s);
  const PairedBootstrap bootstrap(items.size(), spec.bootstrap);
  const auto resampled = bootstrap.resample_means(pointers, on_progress);

  std::size_t next = 0;
  for (std::size_t c = 0; c < spec.conditions.size(); ++c) {
    ConditionSummary cs;
    cs.name = spec.conditions[c].name;
    for (const ItemScores& item : items) cs.n_tokens += item.conditions.at(c).n_tokens;
    for (Measure m : kMeasures) {
      cs.item_weighted[index_of(m)] = {mean_of(series[next]), bootstrap.interval(resampled[next])};
      cs.token_weighted[index_of(m)] = token_weighted_mean(items, c, m);
      ++next;
    }
    cs.perplexity = std::exp2(cs.token_weighted[index_of(Measure::kSurprisal)]);
    out.conditions.push_back(std::move(cs));
  }
  for (std::size_t k = 0; k < spec.contrasts.size(); ++k) {
    const Contrast& contrast = spec.contrasts[k];
    ContrastSummary ks;
    ks.name = contrast.name;
    ks.plus = spec.conditions[contrast.plus].name;
    ks.minus = spec.conditions[contrast.minus].name;
    for (Measure m : kMeasures) {
      const std::vector<double>& d = series[next];
      DifferenceSummary& ds = ks.measures[index_of(m)];
      const double mean = mean_of(d);
      ds.item_weighted = {mean, bootstrap.interval(resampled[next])};
      ds.token_weighted = out.conditions[contrast.plus].token_weighted[index_of(m)] -
                          out.conditions[contrast.minus].token_weighted[index_of(m)];
      if (d.size() >= 2) {
        double ss = 0;
        for (double v : d) ss += (v - mean) * (v - mean);
        ds.sd_items = std::sqrt(ss / static_cast<double>(d.size() - 1));
      }
      for (double v : d) (v < 0 ? ds.n_negative : v > 0 ? ds.n_positive : ds.n_zero)++;
      ds.test = paired_test(d, spec.test, test_seed(spec.bootstrap.seed, k, m));
      ++next;
    }
    out.contrasts.push_back(std::move(ks));
  }
  return out;
}

}  // namespace entroscope::experiment
