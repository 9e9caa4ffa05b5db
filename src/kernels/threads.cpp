#include "kernels/threads.h"

#include <omp.h>

#include "common/error.h"

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

void set_thread_count(int threads) {
  if (threads < 0) fail("--threads must be >= 0 (0 = all cores), got {}", threads);
  int n = threads == 0 ? omp_get_num_procs() : threads;
  g_threads = n;
  omp_set_num_threads(n);
  blas_single_threaded();
}

void blas_single_threaded() {
  // OpenMP is the only pool (kernels::gemm, and kernels::linear on the float64 path): the BLAS must
  // not start its own.
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  if (bli_thread_set_num_threads) bli_thread_set_num_threads(1);
}

int thread_count() { return g_threads > 0 ? g_threads : omp_get_max_threads(); }


const char* blas_name() { return ENTROSCOPE_BLAS_NAME; }

}  // namespace entroscope::kernels
