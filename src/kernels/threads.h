#pragma once

#include <string>

namespace entroscope::kernels {

// Sets the thread count (0 = all cores). kernels/parallel.h is the only thread pool: kernels::gemm
// splits its GEMMs over 32-column panels, and the BLAS (float64 reference path only) runs
// single-threaded.
// Results do not depend on the thread count: every reduction has a fixed order, never split over
// its dimension.
// Threads beyond the cores the process may use (its affinity mask, which cgroup CPU sets limit) are
// capped with a note on stderr. threads == 0: OMP_NUM_THREADS when set, else every core.
void set_thread_count(int threads);

struct ThreadChoice {
  int threads = 1;
  std::string note;  // non-empty when the request was capped
};
// The rule set_thread_count applies (testable without touching the pool): requested (--threads, 0 =
// not given), the cores available, OMP_NUM_THREADS (0 = unset).
ThreadChoice choose_thread_count(int requested, int cores, int omp_env);
// Cores this process may run on (sched_getaffinity).
int available_cores();
// The count in use; the first call without an earlier set_thread_count applies set_thread_count(0).
int thread_count();
// Sets the BLAS's own thread pool to one thread (done at startup and by set_thread_count).
void blas_single_threaded();
const char* blas_name();  // "openblas", "blis", ...

}  // namespace entroscope::kernels
