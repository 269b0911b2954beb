// A background thread that calls a function every `interval` until stopped.
// The node's maintenance pass runs on it: blocking store work, off the I/O
// threads (Asio stays behind node/src/api, so this is a plain thread rather
// than a timer on the runtime).
//
// Thread-safety: stop() may be called from any thread, also more than once;
// the destructor stops and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace garage {

class periodic {
 public:
  periodic(std::chrono::milliseconds interval, std::function<void()> fn);
  ~periodic();
  periodic(const periodic&) = delete;
  periodic& operator=(const periodic&) = delete;

  // Wakes the thread and waits until it has returned (a call in progress
  // finishes first).
  void stop();

 private:
  void loop();

  std::chrono::milliseconds interval_;
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace garage
