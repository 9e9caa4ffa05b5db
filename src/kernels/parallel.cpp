#include "kernels/parallel.h"

#include <immintrin.h>  // _mm_pause
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernels/threads.h"

namespace entroscope::kernels {

namespace {

// Measured on this project's 2-core machine (docs/reliability.md, "Threads"): long enough that the
// gaps between a forward's regions (a norm, an add, the caller's bookkeeping) are bridged by
// spinning, short enough that a waiting thread gives its core back within a small fraction of a
// scheduler time slice when other processes need it.
constexpr int kDefaultSpinUs = 100;

int spin_us_from_environment() {
  const char* v = std::getenv("ENTROSCOPE_SPIN_US");
  if (!v || !*v) return kDefaultSpinUs;
  char* end = nullptr;
  const long us = std::strtol(v, &end, 10);
  if (end == v || *end || us < 0) return kDefaultSpinUs;  // not a number: the default (threads.cpp notes it)
  return us > 1'000'000 ? 1'000'000 : static_cast<int>(us);
}

// A futex word: waiters spin for a bounded time, then sleep; advance() makes a system call only
// when someone sleeps.
class WaitWord {
 public:
  std::uint32_t load() const { return word_.load(std::memory_order_acquire); }

  // Returns once the word differs from `seen`.
  void wait_while(std::uint32_t seen, std::chrono::nanoseconds spin) {
    if (word_.load(std::memory_order_acquire) != seen) return;
    if (spin.count() > 0) {
      const auto deadline = std::chrono::steady_clock::now() + spin;
      for (;;) {
        for (int i = 0; i < 32; ++i) {
          if (word_.load(std::memory_order_acquire) != seen) return;
          _mm_pause();
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
      }
    }
    // Dekker with advance(): either it sees this sleeper, or the futex sees the new value.
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (word_.load(std::memory_order_seq_cst) == seen)
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

  void advance() {
    word_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0)
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }

 private:
  // std::atomic<uint32_t> is the futex's 32-bit word (lock-free, same layout).
  std::atomic<std::uint32_t> word_{0};
  std::atomic<int> sleepers_{0};
};

thread_local bool t_in_region = false;
thread_local int t_region_workers = 1;  // of the region this thread is in; 1 outside or when inline

// A fixed set of workers - 1 threads plus the caller. Every worker takes part in every region, so
// no thread can fall a region behind; a new thread count means a new pool.
class Pool {
 public:
  Pool(int workers, std::chrono::nanoseconds spin) : workers_(workers), spin_(spin) {
    const std::uint32_t start = start_.load();
    for (int w = 1; w < workers; ++w) threads_.emplace_back([this, w, start] { worker_loop(w, start); });
  }
  ~Pool() {
    stopping_.store(true, std::memory_order_relaxed);
    start_.advance();
    for (std::thread& t : threads_) t.join();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  int workers() const { return workers_; }

  void run(RegionBody body) {
    body_ = &body;
    error_ = nullptr;
    unfinished_.store(workers_ - 1, std::memory_order_relaxed);
    const std::uint32_t finished = finish_.load();
    start_.advance();
    run_body(0);
    finish_.wait_while(finished, spin_);
    if (error_) std::rethrow_exception(error_);
  }

  void barrier() {
    const std::uint32_t generation = barrier_.load();
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == workers_) {
      arrived_.store(0, std::memory_order_relaxed);
      barrier_.advance();
    } else {
      barrier_.wait_while(generation, spin_);
    }
  }

 private:
  void worker_loop(int worker, std::uint32_t seen) {
    pthread_setname_np(pthread_self(), ("entroscope-w" + std::to_string(worker)).substr(0, 15).c_str());
    for (;;) {
      start_.wait_while(seen, spin_);
      seen = start_.load();  // exactly one region later: the last one waited for this worker
      if (stopping_.load(std::memory_order_relaxed)) return;
      run_body(worker);
      if (unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish_.advance();
    }
  }

  void run_body(int worker) {
    t_in_region = true;
    t_region_workers = workers_;
    try {
      (*body_)(worker, workers_);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_region = false;
    t_region_workers = 1;
  }

  const int workers_;
  const std::chrono::nanoseconds spin_;
  std::vector<std::thread> threads_;
  WaitWord start_, finish_, barrier_;
  std::atomic<int> unfinished_{0}, arrived_{0};
  std::atomic<bool> stopping_{false};
  const RegionBody* body_ = nullptr;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

std::mutex g_region_mutex;  // one region at a time, whichever thread calls
Pool* g_pool = nullptr;     // never destroyed at exit: its threads sleep in the kernel until then

// A forked child has only the forking thread: it must not wait for the parent's workers.
void forget_pool_in_child() { g_pool = nullptr; }

}  // namespace

int wait_spin_us() {
  static const int us = spin_us_from_environment();
  return us;
}

void run_on_this_thread(RegionBody body) {
  const bool outer_in_region = t_in_region;
  const int outer_workers = t_region_workers;
  t_in_region = true;
  t_region_workers = 1;
  try {
    body(0, 1);
  } catch (...) {
    t_in_region = outer_in_region;
    t_region_workers = outer_workers;
    throw;
  }
  t_in_region = outer_in_region;
  t_region_workers = outer_workers;
}

void run_region(RegionBody body) {
  const int workers = thread_count();
  if (t_in_region || workers <= 1) {
    run_on_this_thread(body);  // nested or single-threaded
    return;
  }
  std::lock_guard<std::mutex> lock(g_region_mutex);
  static const bool fork_handler_installed = [] { return pthread_atfork(nullptr, nullptr, forget_pool_in_child) == 0; }();
  (void)fork_handler_installed;
  if (!g_pool || g_pool->workers() != workers) {
    delete g_pool;
    g_pool = nullptr;
    g_pool = new Pool(workers, std::chrono::microseconds(wait_spin_us()));
  }
  g_pool->run(body);
}

void region_barrier() {
  if (t_region_workers <= 1) return;
  g_pool->barrier();
}

bool in_parallel_region() { return t_in_region; }

}  // namespace entroscope::kernels
