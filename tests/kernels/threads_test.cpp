// Thread counts beyond the cores are capped with a note, never turned into that many threads.
#include <gtest/gtest.h>

#include "common/error.h"
#include "kernels/threads.h"

namespace entroscope::kernels {
namespace {

TEST(ThreadChoice, CapsAtTheCoresWithANote) {
  EXPECT_EQ(choose_thread_count(1, 2, 0).threads, 1);
  EXPECT_TRUE(choose_thread_count(2, 2, 0).note.empty());
  const ThreadChoice many = choose_thread_count(5000, 2, 0);
  EXPECT_EQ(many.threads, 2);
  EXPECT_NE(many.note.find("--threads 5000 asks for 5000 threads; this machine gives the process 2 cores, so 2 are used"),
            std::string::npos)
      << many.note;
}

TEST(ThreadChoice, OmpNumThreadsIsTheDefaultAndIsCappedToo) {
  EXPECT_EQ(choose_thread_count(0, 8, 0).threads, 8);  // every core
  EXPECT_EQ(choose_thread_count(0, 8, 3).threads, 3);  // OMP_NUM_THREADS
  const ThreadChoice env = choose_thread_count(0, 2, 100000);
  EXPECT_EQ(env.threads, 2);
  EXPECT_NE(env.note.find("OMP_NUM_THREADS 100000"), std::string::npos) << env.note;
  EXPECT_EQ(choose_thread_count(1, 2, 100000).threads, 1);  // --threads wins over the variable
  EXPECT_THROW(choose_thread_count(-1, 2, 0), Error);
}

}  // namespace
}  // namespace entroscope::kernels
