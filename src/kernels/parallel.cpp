#include "kernels/parallel.h"

#include <linux/futex.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "kernels/threads.h"

namespace entroscope::kernels {

namespace {

// The CPU's spin-wait hint: lets the other hyperthread run and saves power while spinning.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Measured on this project's 2-core VM (docs/reliability.md, "Threads"): long enough that the gaps
// between a forward's regions (serial small steps, the caller's bookkeeping) are bridged by
// spinning - a sleeping worker there costs hundreds of microseconds to wake; 300 us left the pool
// 8-10% behind libgomp's default idle, 2 ms within 1% - and short against a scheduler time slice.
// The load check below, not the bound, is what keeps spinning from hurting a loaded machine.
constexpr int kDefaultSpinUs = 2000;
// How often the caller looks at the machine's load (below): rarely enough to cost nothing
// measurable (one /proc/stat read), long enough for the kernel's tick-based CPU accounting to
// average out, short enough to follow load that comes and goes.
constexpr std::chrono::milliseconds kLoadSampleEvery{200};
// The first decision comes sooner, so that a short process (a `score` of a few sentences) does not
// spin on a loaded machine for its whole life.
constexpr std::chrono::milliseconds kFirstLoadSample{50};

int spin_us_from_environment() {
  const char* v = std::getenv("ENTROSCOPE_SPIN_US");
  if (!v || !*v) return kDefaultSpinUs;
  char* end = nullptr;
  errno = 0;
  const long us = std::strtol(v, &end, 10);
  if (end == v || *end || us < 0 || us > 1'000'000 || errno != 0)
    fail("ENTROSCOPE_SPIN_US must be a whole number of microseconds from 0 to 1000000, got '{}'", v);
  return static_cast<int>(us);
}

// Whether waiting threads may spin: not while other processes use the cores this pool would spin
// on. The caller compares, over each kLoadSampleEvery, the CPU time the whole machine spent busy
// (/proc/stat) with this process's own (CLOCK_PROCESS_CPUTIME_ID): when others used more than the
// cores the pool leaves free plus half a core, waiting threads sleep at once until a sample says
// otherwise. (Tried and rejected as signals, measured on a 2-core VM: a spinning thread's own
// preemptions, and the kernel's instantaneous runnable count - our woken workers, the hypervisor
// and kernel threads make both fire on an idle machine.)
std::atomic<bool> g_spin_allowed{true};

// Nanoseconds the machine's CPUs have spent busy (user, nice, system, irq, softirq; not idle,
// iowait or time stolen by a hypervisor), or -1 when /proc/stat cannot be read.
std::int64_t machine_busy_ns() {
  const int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[256];
  const ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  if (std::sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq,
                  &softirq) != 7)
    return -1;
  static const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return -1;
  return static_cast<std::int64_t>((user + nice + system + irq + softirq) * (1'000'000'000ull / ticks_per_second));
}

std::int64_t process_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A futex word: waiters spin for a bounded time, then sleep; advance() makes a system call only
// when someone sleeps.
class WaitWord {
 public:
  std::uint32_t load() const { return word_.load(std::memory_order_acquire); }

  // Returns once the word differs from `seen`: spins for up to `spin` (none while other processes
  // want the cores), then sleeps.
  void wait_while(std::uint32_t seen, std::chrono::nanoseconds spin) {
    if (word_.load(std::memory_order_acquire) != seen) return;
    if (spin.count() > 0 && g_spin_allowed.load(std::memory_order_relaxed)) {
      const std::int64_t deadline = steady_ns() + spin.count();
      do {
        for (int i = 0; i < 32; ++i) {
          if (word_.load(std::memory_order_acquire) != seen) return;
          cpu_relax();
        }
      } while (steady_ns() < deadline);
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

  // Before a region, at most every kLoadSampleEvery: did other processes want the cores?
  void sample_load() {
    const std::int64_t now = steady_ns();
    if (now < next_sample_ns_) return;
    next_sample_ns_ = now + std::chrono::nanoseconds(sample_wall_ns_ == 0 ? kFirstLoadSample : kLoadSampleEvery).count();
    const std::int64_t busy = machine_busy_ns(), ours = process_cpu_ns();
    if (busy >= 0 && sample_wall_ns_ > 0) {
      const std::int64_t wall = now - sample_wall_ns_;
      const std::int64_t others = (busy - sample_busy_ns_) - (ours - sample_ours_ns_);
      const std::int64_t spare = static_cast<std::int64_t>(available_cores() - workers_) * wall + wall / 2;
      g_spin_allowed.store(others <= spare, std::memory_order_relaxed);
    }
    sample_wall_ns_ = now;
    sample_busy_ns_ = busy;
    sample_ours_ns_ = ours;
  }

  void run(RegionBody body) {
    sample_load();
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
  // The last load sample (caller only: regions run one at a time).
  std::int64_t next_sample_ns_ = 0, sample_wall_ns_ = 0, sample_busy_ns_ = 0, sample_ours_ns_ = 0;
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
