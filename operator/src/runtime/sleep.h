// Sleeps that a std::stop_token cuts short.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace garage::op {

// Waits `d` or until `stop` is requested; returns false if it was.
template <class Rep, class Period>
bool sleep_for(std::stop_token stop, std::chrono::duration<Rep, Period> d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace garage::op
