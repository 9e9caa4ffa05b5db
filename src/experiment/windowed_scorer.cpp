#include "experiment/windowed_scorer.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace entroscope::experiment {

namespace {
// One window to run: which sequence, which slice, which measured positions it predicts.
struct WindowJob {
  std::size_t sequence;
  WindowPlan plan;
  std::size_t first, last;  // measured positions [first, last) predicted by this window
};
}  // namespace

std::vector<MeasuredScores> WindowedScorer::score(const std::vector<const BuiltSequence*>& sequences) {
  std::vector<WindowJob> jobs;
  std::vector<std::vector<std::int32_t>> windows;
  std::vector<metrics::PositionRange> needed;  // per window
  std::vector<MeasuredScores> out(sequences.size());
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    const BuiltSequence& seq = *sequences[s];
    const std::vector<WindowPlan> plan = plan_windows(seq.ids.size(), seq.window_prefix, shape_);
    out[s].windows = plan.size();
    for (const WindowPlan& w : plan) {
      const std::size_t first = std::max(w.score_begin, seq.measured_begin);
      const std::size_t last = std::min(w.score_end, seq.measured_end);
      if (first >= last) continue;  // predicts no measured token
      std::vector<std::int32_t> ids(seq.ids.begin(), seq.ids.begin() + static_cast<std::ptrdiff_t>(seq.window_prefix));
      ids.insert(ids.end(), seq.ids.begin() + static_cast<std::ptrdiff_t>(w.body_begin),
                 seq.ids.begin() + static_cast<std::ptrdiff_t>(w.body_end));
      windows.push_back(std::move(ids));
      jobs.push_back({s, w, first, last});
      // The rows whose distributions are read below: the one before each measured position, and
      // with word classes the one after the last measured token.
      std::size_t end = w.window_position(last - 1, seq.window_prefix);
      if (scorer_.class_count() > 0 && last == seq.measured_end) ++end;
      needed.push_back({w.window_position(first, seq.window_prefix) - 1, end});
    }
  }

  std::vector<metrics::SequenceScores> scores;
  try {
    scores = scorer_.score(windows, needed);
  } catch (const model::NonFiniteError& e) {
    // Translate "window w, window position t" into "sequence s, sequence position p".
    model::NonFiniteLocation where = e.where();
    const WindowJob& job = jobs.at(static_cast<std::size_t>(where.batch_row));
    const std::size_t prefix = sequences[job.sequence]->window_prefix;
    const auto t = static_cast<std::size_t>(where.position);
    where.batch_row = static_cast<int>(job.sequence);
    where.position = static_cast<int>(t < prefix ? t : job.plan.body_begin + (t - prefix));
    throw model::NonFiniteError(where);
  }

  const std::size_t n_classes = scorer_.class_count();
  auto take_classes = [&](MeasuredScores& m, const metrics::SequenceScores& s, std::size_t t) {
    for (std::size_t c = 0; c < n_classes; ++c) m.log2_class_mass.push_back(s.log2_class_mass[t * n_classes + c]);
  };
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const WindowJob& job = jobs[j];
    const BuiltSequence& seq = *sequences[job.sequence];
    MeasuredScores& m = out[job.sequence];
    for (std::size_t p = job.first; p < job.last; ++p) {
      // The distribution that predicts position p sits at the window position just before it.
      const std::size_t t = job.plan.window_position(p, seq.window_prefix) - 1;
      const double h = scores[j].entropy_bits[t], s = scores[j].surprisal_bits[t];
      if (!std::isfinite(h) || !std::isfinite(s))
        throw NumericError(fmt::format("non-finite score (entropy {}, surprisal {}) at position {} of sequence {}", h, s,
                                       p, job.sequence));
      m.entropy_bits.push_back(h);
      m.surprisal_bits.push_back(s);
      if (n_classes) take_classes(m, scores[j], t);
    }
    // The window holding the last measured token also gives the distribution after it.
    if (n_classes && job.last == seq.measured_end) {
      const std::size_t t = job.plan.window_position(seq.measured_end - 1, seq.window_prefix);
      m.entropy_after_bits = scores[j].entropy_bits[t];
      if (!std::isfinite(m.entropy_after_bits))
        throw NumericError(fmt::format("non-finite entropy {} after the measured span of sequence {}",
                                       m.entropy_after_bits, job.sequence));
      take_classes(m, scores[j], t);
    }
  }
  // Windows were appended in position order per sequence, so the scores are in token order.
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    if (out[s].entropy_bits.size() != sequences[s]->measured_count())
      fail("internal error: sequence {} got {} scores for {} measured tokens", s, out[s].entropy_bits.size(),
           sequences[s]->measured_count());
  }
  return out;
}

}  // namespace entroscope::experiment
