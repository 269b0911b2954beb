// worker_pool: a fixed set of threads running queued jobs in FIFO order; the
// RPC handlers (which block on the database) run here, never on the I/O
// thread. Thread-safe. stop() runs the jobs already queued, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace garage::rpc {

class worker_pool {
 public:
  explicit worker_pool(size_t threads);
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // False (and the job is dropped) once stop() was called.
  bool post(std::function<void()> job);
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace garage::rpc
