#pragma once
// Sliding windows for sequences longer than the model's context. Every window starts with the
// sequence's window prefix (its leading special tokens, possibly none), followed by a slice of the
// rest; consecutive slices start `stride` tokens apart. Each position p >= 1 is scored in exactly
// one window: the first whose slice reaches past p. So every scored token sees at least
// (length - prefix - stride) tokens of text before it, except in the first window, which is the
// sequence's own beginning. A sequence that fits gets one window: itself.
#include <cstddef>
#include <vector>

namespace entroscope::experiment {

struct WindowPlan {
  std::size_t body_begin = 0;   // the window is ids[0, prefix) + ids[body_begin, body_end)
  std::size_t body_end = 0;
  std::size_t score_begin = 0;  // sequence positions [score_begin, score_end) are predicted here
  std::size_t score_end = 0;
  std::size_t length(std::size_t prefix) const { return prefix + body_end - body_begin; }
  // Index inside the window of sequence position p (p in [body_begin, body_end) or p < prefix).
  std::size_t window_position(std::size_t p, std::size_t prefix) const {
    return p < prefix ? p : prefix + (p - body_begin);
  }
};

struct WindowShape {
  std::size_t length = 0;  // tokens per window, at most the model's context
  std::size_t stride = 0;  // 0: half of (length - prefix)
};

// The stride that `shape` means for a sequence with `prefix` leading tokens. Throws Error when
// the window leaves fewer than 2 tokens after the prefix or the stride does not make windows
// overlap (stride must be < length - prefix, so every scored token has a predecessor in its window).
std::size_t effective_stride(const WindowShape& shape, std::size_t prefix);

// Windows covering positions 1 .. n-1 of a sequence of n tokens (n >= 1).
std::vector<WindowPlan> plan_windows(std::size_t n, std::size_t prefix, const WindowShape& shape);

}  // namespace entroscope::experiment
