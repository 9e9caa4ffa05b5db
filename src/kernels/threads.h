#pragma once

namespace entroscope::kernels {

// Sets the thread count (0 = all cores). OpenMP is the only thread pool: GEMMs are split over
// output columns by kernels::linear, each block a single-threaded BLAS call. Results do not depend
// on the thread count: every reduction has a fixed order, never split over its dimension.
void set_thread_count(int threads);
int thread_count();
// Sets the BLAS's own thread pool to one thread (done at startup and by set_thread_count).
void blas_single_threaded();
const char* blas_name();  // "openblas", "blis", ...

}  // namespace entroscope::kernels
