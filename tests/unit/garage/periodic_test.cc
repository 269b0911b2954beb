#include "garage/periodic.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace garage {
namespace {

using namespace std::chrono_literals;

TEST(periodic, calls_repeatedly_until_stopped) {
  std::atomic<int> calls{0};
  periodic p(1ms, [&] { ++calls; });
  // Bounded wait for a few calls; no timing is asserted.
  for (int i = 0; i < 5000 && calls.load() < 3; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_GE(calls.load(), 3);
  p.stop();
  int after = calls.load();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(calls.load(), after);
  p.stop();  // twice is fine
}

TEST(periodic, stop_does_not_wait_for_the_interval) {
  // With an hour-long interval, a stop that waited for it would hang the test
  // (and ctest's timeout would fail it).
  std::atomic<int> calls{0};
  {
    periodic p(std::chrono::hours(1), [&] { ++calls; });
  }  // destructor stops and joins
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace garage
