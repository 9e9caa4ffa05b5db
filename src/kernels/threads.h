#pragma once

namespace entroscope::kernels {

// Sets the thread count (0 = all cores). OpenMP is the only thread pool: kernels::gemm splits its
// GEMMs over 32-column panels, and the BLAS (float64 reference path only) runs single-threaded.
// Results do not depend on the thread count: every reduction has a fixed order, never split over
// its dimension.
void set_thread_count(int threads);
int thread_count();
// Sets the BLAS's own thread pool to one thread (done at startup and by set_thread_count).
void blas_single_threaded();
const char* blas_name();  // "openblas", "blis", ...

}  // namespace entroscope::kernels
