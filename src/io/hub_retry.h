#pragma once
// Retries with exponential backoff for Hub requests: transport failures that may pass (timeouts,
// dropped connections, refused connections) and HTTP 429/5xx. Other errors propagate at once.
#include <chrono>
#include <exception>
#include <functional>
#include <string>

namespace entroscope::io::hub {

struct RetryPolicy {
  int max_retries = 5;                                  // attempts after the first
  std::chrono::milliseconds base_delay{500};            // wait before the first retry
  std::chrono::milliseconds max_delay{16000};           // cap of the doubling

  std::chrono::milliseconds delay_before_retry(int retry) const;  // retry = 1, 2, ...
};

// True for HttpTransportError::retryable() and HubStatusError::retryable().
bool is_retryable(const std::exception& e);

// Runs `attempt` until it succeeds, fails with a non-retryable error, or retries run out (then the
// last error propagates). `on_retry(retry, delay, error)` is told before each wait.
void with_retries(const RetryPolicy& policy, const std::function<void()>& attempt,
                  const std::function<void(int, std::chrono::milliseconds, const std::exception&)>& on_retry);

}  // namespace entroscope::io::hub
