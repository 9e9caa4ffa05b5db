#include "kernels/threads.h"

#include <sched.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "common/error.h"
#include "kernels/parallel.h"

// Thread-count setters of the BLAS libraries we may be linked against. Declared weak so the
// binary links whichever BLAS is present.
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
void bli_thread_set_num_threads(long) __attribute__((weak));
}

namespace entroscope::kernels {

namespace {
int g_threads = 0;
}

namespace {

// OMP_NUM_THREADS as a count (honoured as the usual way to size a process's threads), or 0 when
// unset or not a plain positive number (lists such as "4,2" take their first entry).
int omp_num_threads_env() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (end == v || n <= 0) return 0;
  return n > 1'000'000 ? 1'000'000 : static_cast<int>(n);
}

}  // namespace

ThreadChoice choose_thread_count(int requested, int cores, int omp_env) {
  if (requested < 0) fail("--threads must be >= 0 (0 = all cores), got {}", requested);
  if (cores < 1) cores = 1;
  ThreadChoice c;
  const int wanted = requested > 0 ? requested : (omp_env > 0 ? omp_env : cores);
  c.threads = wanted;
  // More threads than cores never helps these kernels (each thread owns whole panels) and makes
  // every parallel region wait for descheduled threads.
  if (wanted > cores) {
    c.threads = cores;
    c.note = fmt::format("entroscope: {} {} asks for {} threads; this machine gives the process {} core{}, so {} {} "
                         "used (results do not depend on the thread count)",
                         requested > 0 ? "--threads" : "OMP_NUM_THREADS", wanted, wanted, cores, cores == 1 ? "" : "s",
                         cores, cores == 1 ? "is" : "are");
  }
  return c;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int cores = CPU_COUNT(&set);
  return cores > 0 ? cores : 1;
}

void set_thread_count(int threads) {
  const ThreadChoice c = choose_thread_count(threads, available_cores(), omp_num_threads_env());
  if (!c.note.empty()) std::fprintf(stderr, "%s\n", c.note.c_str());
  g_threads = c.threads;  // the pool (parallel.cpp) follows it at its next region
  wait_spin_us();          // a bad ENTROSCOPE_SPIN_US fails here, at the start, not in a forward
  blas_single_threaded();
}

void blas_single_threaded() {
  // Ours is the only pool (kernels::gemm, and kernels::linear on the float64 path): the BLAS must
  // not start its own.
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  if (bli_thread_set_num_threads) bli_thread_set_num_threads(1);
}

int thread_count() {
  if (g_threads == 0) set_thread_count(0);  // library callers that never chose: the same capped default
  return g_threads;
}


const char* blas_name() { return ENTROSCOPE_BLAS_NAME; }

}  // namespace entroscope::kernels
