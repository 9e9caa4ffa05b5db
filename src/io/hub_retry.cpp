#include "io/hub_retry.h"

#include <algorithm>
#include <thread>

#include "io/hub_api.h"
#include "io/hub_http.h"

namespace entroscope::io::hub {

std::chrono::milliseconds RetryPolicy::delay_before_retry(int retry) const {
  auto delay = base_delay;
  for (int i = 1; i < retry && delay < max_delay; ++i) delay *= 2;
  return std::min(delay, max_delay);
}

bool is_retryable(const std::exception& e) {
  if (const auto* t = dynamic_cast<const HttpTransportError*>(&e)) return t->retryable();
  if (const auto* s = dynamic_cast<const HubStatusError*>(&e)) return s->retryable();
  return false;
}

void with_retries(const RetryPolicy& policy, const std::function<void()>& attempt,
                  const std::function<void(int, std::chrono::milliseconds, const std::exception&)>& on_retry) {
  for (int retry = 0;; ++retry) {
    try {
      attempt();
      return;
    } catch (const std::exception& e) {
      if (retry >= policy.max_retries || !is_retryable(e)) throw;
      auto delay = policy.delay_before_retry(retry + 1);
      if (on_retry) on_retry(retry + 1, delay, e);
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace entroscope::io::hub
