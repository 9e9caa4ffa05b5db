#include "experiment/window_plan.h"

#include <algorithm>

#include "common/error.h"

namespace entroscope::experiment {

std::size_t effective_stride(const WindowShape& shape, std::size_t prefix) {
  if (shape.length < prefix + 2)
    fail("a window of {} tokens leaves no room for text after the {} leading special token(s)", shape.length, prefix);
  const std::size_t room = shape.length - prefix;
  const std::size_t stride = shape.stride == 0 ? std::max<std::size_t>(1, room / 2) : shape.stride;
  if (stride >= room)
    fail("window stride {} must be smaller than the {} text tokens a window of {} holds after {} leading special "
         "token(s)",
         stride, room, shape.length, prefix);
  return stride;
}

std::vector<WindowPlan> plan_windows(std::size_t n, std::size_t prefix, const WindowShape& shape) {
  std::vector<WindowPlan> windows;
  if (n <= shape.length) {  // fits: the sequence itself
    windows.push_back({prefix, n, 1, n});
    return windows;
  }
  const std::size_t stride = effective_stride(shape, prefix);
  const std::size_t room = shape.length - prefix;
  std::size_t scored_until = 1;
  for (std::size_t begin = prefix;; begin += stride) {
    const std::size_t end = std::min(n, begin + room);
    windows.push_back({begin, end, scored_until, end});
    scored_until = end;
    if (end == n) break;
  }
  return windows;
}

}  // namespace entroscope::experiment
