// util/clock: wall clock in milliseconds, and CRDT timestamps that never go back.
#include "util/clock.h"

#include <gtest/gtest.h>

namespace garage {
namespace {

TEST(clock, now_msec_is_plausible) {
  uint64_t t = now_msec();
  EXPECT_GT(t, 1'577'836'800'000ull);  // after 2020-01-01
  EXPECT_LE(t, now_msec());
}

TEST(clock, next_timestamp_is_strictly_increasing) {
  uint64_t t = 0;
  for (int i = 0; i < 100000; ++i) {
    uint64_t n = next_timestamp(t);
    ASSERT_GT(n, t);
    t = n;
  }
}

TEST(clock, next_timestamp_follows_a_clock_ahead_of_ours) {
  uint64_t future = now_msec() + 86'400'000;
  EXPECT_EQ(next_timestamp(future), future + 1);
  EXPECT_GE(next_timestamp(0), now_msec() - 1000);
}

}  // namespace
}  // namespace garage
