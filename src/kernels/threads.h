#pragma once

namespace entroscope::kernels {

// Sets the thread count for OpenMP and the BLAS (0 = all cores). Results do not depend on it:
// every reduction in entroscope's kernels has a fixed order, and GEMMs are split over rows and
// columns, never over the reduction dimension.
void set_thread_count(int threads);
int thread_count();
const char* blas_name();  // "openblas", "blis", ...

}  // namespace entroscope::kernels
