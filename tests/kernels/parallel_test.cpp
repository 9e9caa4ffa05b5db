// The thread pool (kernels/parallel.h): every index runs exactly once, barriers order phases,
// errors come back to the caller, nesting runs inline, a forked child does not wait for the
// parent's workers, and a pool between regions gives its cores back (bounded spin, then sleep).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/threads.h"

using namespace entroscope::kernels;

namespace {

// Threads for the tests: 2 where the machine has them (the cap in set_thread_count applies).
struct TwoThreads {
  TwoThreads() { set_thread_count(2); }
  ~TwoThreads() { set_thread_count(0); }
};

TEST(Parallel, SharesCoverEveryIndexOnce) {
  for (int workers : {1, 2, 3, 7}) {
    for (std::size_t n : {0u, 1u, 2u, 5u, 64u, 1001u}) {
      std::vector<int> seen(n, 0);
      std::size_t expected_begin = 0;
      for (int w = 0; w < workers; ++w) {
        const Share s = static_share(n, w, workers);
        EXPECT_EQ(s.begin, expected_begin);  // contiguous, in worker order
        EXPECT_LE(s.end - s.begin, n / workers + 1);
        for (std::size_t i = s.begin; i < s.end; ++i) ++seen[i];
        expected_begin = s.end;
      }
      EXPECT_EQ(expected_begin, n);
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1);
    }
  }
}

TEST(Parallel, ParallelForRunsEveryIndexExactlyOnce) {
  TwoThreads two;
  for (int round = 0; round < 200; ++round) {  // many regions: the start/finish hand-over is reused
    const std::size_t n = 1 + static_cast<std::size_t>(round) * 7;
    std::vector<std::atomic<int>> hits(n);
    parallel_for(n, [&](std::size_t i) { hits[i].fetch_add(1); });
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "round " << round << " index " << i;
  }
}

TEST(Parallel, BarrierSeparatesPhases) {
  TwoThreads two;
  const int workers = thread_count();
  std::vector<int> phase_one(static_cast<std::size_t>(workers), 0);
  std::atomic<int> wrong{0};
  for (int round = 0; round < 100; ++round) {
    run_region([&](int worker, int count) {
      ASSERT_EQ(count, workers);
      phase_one[static_cast<std::size_t>(worker)] = round + 1;
      region_barrier();
      for (int w = 0; w < count; ++w)
        if (phase_one[static_cast<std::size_t>(w)] != round + 1) wrong.fetch_add(1);
      region_barrier();
    });
  }
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Parallel, AnExceptionReachesTheCallerAndThePoolStaysUsable) {
  TwoThreads two;
  const int last = thread_count() - 1;
  EXPECT_THROW(run_region([&](int worker, int) {
                 if (worker == last) throw std::runtime_error("worker failed");
               }),
               std::runtime_error);
  std::atomic<int> ran{0};
  run_region([&](int, int) { ran.fetch_add(1); });
  EXPECT_EQ(ran.load(), thread_count());
}

TEST(Parallel, NestedRegionsRunOnTheCallingThread) {
  TwoThreads two;
  std::atomic<int> inner_workers{0}, bad{0};
  run_region([&](int, int) {
    EXPECT_TRUE(in_parallel_region());
    const std::thread::id me = std::this_thread::get_id();
    run_region([&](int worker, int workers) {
      inner_workers.fetch_add(workers);
      if (worker != 0 || std::this_thread::get_id() != me) bad.fetch_add(1);
      region_barrier();  // a no-op inline: must not wait for the outer region's workers
    });
  });
  EXPECT_EQ(inner_workers.load(), thread_count());
  EXPECT_EQ(bad.load(), 0);
  EXPECT_FALSE(in_parallel_region());
}

TEST(Parallel, AThreadCountChangeMakesANewPool) {
  for (int threads : {2, 1, 2}) {
    set_thread_count(threads);
    std::atomic<int> ran{0};
    run_region([&](int, int workers) {
      EXPECT_EQ(workers, thread_count());
      ran.fetch_add(1);
    });
    EXPECT_EQ(ran.load(), thread_count());
  }
  set_thread_count(0);
}

TEST(Parallel, AForkedChildRunsRegionsWithoutTheParentsWorkers) {
  TwoThreads two;
  parallel_for(16, [](std::size_t) {});  // the parent's pool exists
  const pid_t child = fork();
  if (child == 0) {
    std::atomic<int> ran{0};
    parallel_for(16, [&](std::size_t) { ran.fetch_add(1); });
    _exit(ran.load() == 16 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Nanoseconds the pool's workers (threads named entroscope-w*) have been on a CPU
// (/proc/self/task/*/schedstat). Other threads of the process are left out: OpenBLAS's pthread
// build starts a server thread that polls for about 0.1 s after the library loads.
double pool_workers_cpu_seconds() {
  double total = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("entroscope-w", 0) != 0) continue;
    std::ifstream schedstat(task.path() / "schedstat");
    double on_cpu_ns = 0;
    schedstat >> on_cpu_ns;
    total += on_cpu_ns * 1e-9;
  }
  return total;
}

TEST(Parallel, IdleWorkersGiveTheirCoresBack) {
  TwoThreads two;
  if (thread_count() < 2) GTEST_SKIP() << "one core: no worker threads to wait";
  // After a region the workers spin for at most wait_spin_us() and then sleep, so 200 ms without
  // regions costs them at most that spin plus scheduling noise - not 200 ms each, as with a pool
  // that spins until the next region (libgomp spins ~300,000 pauses, milliseconds, by default).
  ASSERT_LE(wait_spin_us(), 5000);  // the default, 2 ms, leaves the 10 ms below room for noise
  parallel_for(64, [](std::size_t) {});
  const double before = pool_workers_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double used = pool_workers_cpu_seconds() - before;
  EXPECT_LT(used, 0.01) << "CPU seconds the workers used while idle";
}

}  // namespace
