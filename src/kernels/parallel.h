#pragma once
// entroscope's one thread pool. Every parallel loop (GEMM panels, attention heads, norms,
// element-wise ops, entropy rows, synth) runs on it; the BLAS stays single-threaded (threads.cpp).
//
// Why not OpenMP: libgomp's idle threads spin for up to ~300,000 pauses (milliseconds) before
// sleeping, and its policy is read once from the environment. On a machine that other processes
// load, a spinning thread takes the time slice the late thread needs and a 3 ms forward can take
// 200 ms; with OMP_WAIT_POLICY=passive every region pays a wake-up and the idle machine loses a
// third (docs/reliability.md has the figures). Here a waiting thread spins for a bounded time
// (wait_spin_us: long enough to bridge the gaps between a forward's regions) and then sleeps on a
// futex; and while other processes want the cores (the kernel's runnable count, sampled every
// 10 ms), waiting threads sleep at once, so a loaded machine gets our cores back.
//
// Results never depend on how work is split: every output is computed whole by one worker (the
// GEMM's determinism contract, DEVELOPERS.md), so the split is free to change with the thread count.
#include <cstddef>
#include <type_traits>
#include <utility>

namespace entroscope::kernels {

// A non-owning reference to a callable `void(int worker, int workers)`: regions are synchronous,
// so the callable outlives the call and nothing is allocated.
class RegionBody {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RegionBody>>>
  RegionBody(F&& f)  // NOLINT(google-explicit-constructor): passed as a lambda at every call site
      : object_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, int worker, int workers) {
          (*static_cast<std::remove_reference_t<F>*>(o))(worker, workers);
        }) {}
  void operator()(int worker, int workers) const { call_(object_, worker, workers); }

 private:
  void* object_;
  void (*call_)(void*, int, int);
};

// Runs body(worker, workers) once on each of thread_count() workers (the calling thread is worker
// 0) and returns when all have finished; an exception thrown by any worker is rethrown here (the
// first one). Inside a region (or with one thread) it runs body(0, 1) on the calling thread.
void run_region(RegionBody body);

// body(0, 1) on the calling thread, with region_barrier doing nothing: for work too small to share.
void run_on_this_thread(RegionBody body);

// Inside run_region: returns when every worker of the region has called it (as many times). A body
// that calls it must not throw (the others would wait for it forever).
void region_barrier();

// True on a thread that is running a region's body.
bool in_parallel_region();

// Worker w's share of [0, n): contiguous, the first n % workers shares one longer.
struct Share {
  std::size_t begin = 0, end = 0;
};
inline Share static_share(std::size_t n, int worker, int workers) {
  const std::size_t w = static_cast<std::size_t>(worker), ws = static_cast<std::size_t>(workers);
  const std::size_t base = n / ws, extra = n % ws;
  const std::size_t begin = w * base + (w < extra ? w : extra);
  return {begin, begin + base + (w < extra ? 1 : 0)};
}

// f(i) for every i in [0, n), split into one contiguous share per worker.
template <typename F>
void parallel_for(std::size_t n, F&& f) {
  if (n == 0) return;
  run_region([&](int worker, int workers) {
    const Share s = static_share(n, worker, workers);
    for (std::size_t i = s.begin; i < s.end; ++i) f(i);
  });
}

// f(begin, end) once per worker with its contiguous share of [0, n) (empty shares skipped): for
// element-wise loops the compiler vectorizes.
template <typename F>
void parallel_ranges(std::size_t n, F&& f) {
  if (n == 0) return;
  run_region([&](int worker, int workers) {
    const Share s = static_share(n, worker, workers);
    if (s.begin < s.end) f(s.begin, s.end);
  });
}

// Work smaller than this many elements (or element-sized steps) runs on the calling thread: waking
// the pool costs more than it saves (demo-sized models have 64-wide rows and 12-token items).
inline constexpr std::size_t kSerialBelowElements = std::size_t{1} << 14;

// row(m) for m in [0, rows), each row about `width` elements of work: on the pool unless the whole
// is small.
template <typename F>
void rows_in_parallel(std::size_t rows, std::size_t width, F&& row) {
  if (rows * width < kSerialBelowElements) {
    for (std::size_t m = 0; m < rows; ++m) row(m);
    return;
  }
  parallel_for(rows, row);
}

// range(first, end) over [0, n) in steps of `step` elements each: on the pool unless the whole is
// small.
template <typename F>
void elements_in_parallel(std::size_t n, std::size_t step, F&& range) {
  if (n * step < kSerialBelowElements) {
    if (n > 0) range(std::size_t{0}, n);
    return;
  }
  parallel_ranges(n, range);
}

// How long a waiting worker spins at most before it sleeps, in microseconds: ENTROSCOPE_SPIN_US
// when set (0 = sleep at once; not a number from 0 to 1000000 = Error), else the measured default.
int wait_spin_us();

}  // namespace entroscope::kernels
