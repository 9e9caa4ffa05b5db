#pragma once
// Scores the measured tokens of built sequences with a model, through sliding windows when a
// sequence is longer than the window (window_plan.h). Only windows that predict measured tokens
// are run. All windows of one call go to the metrics::Scorer together; its batching never
// changes a number, so neither does how callers group sequences into calls.
#include <cstddef>
#include <vector>

#include "experiment/sequence_builder.h"
#include "experiment/window_plan.h"
#include "metrics/scorer.h"

namespace entroscope::experiment {

struct MeasuredScores {
  // One entry per measured token, in order: the entropy (bits) of the next-token distribution at
  // the position before it, and its surprisal (bits) under that distribution.
  std::vector<double> entropy_bits;
  std::vector<double> surprisal_bits;
  // With token classes on the scorer (word units): the same rows plus the row after the last
  // measured token, i.e. measured_count() + 1 rows. entropy_after_bits is that last row's entropy;
  // log2_class_mass holds [(measured_count() + 1) * classes] class masses in row order.
  double entropy_after_bits = 0;
  std::vector<double> log2_class_mass;
  std::size_t windows = 0;  // windows the sequence spans (1 when it fits); only those predicting
                            // measured tokens are run
};

class WindowedScorer {
 public:
  WindowedScorer(metrics::Scorer& scorer, WindowShape shape) : scorer_(scorer), shape_(shape) {}

  // Throws model::NonFiniteError whose batch_row is the index into `sequences` and whose position
  // is the position in that sequence; throws NumericError if a score is not finite.
  std::vector<MeasuredScores> score(const std::vector<const BuiltSequence*>& sequences);

 private:
  metrics::Scorer& scorer_;
  WindowShape shape_;
};

}  // namespace entroscope::experiment
