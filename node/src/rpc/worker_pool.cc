#include "rpc/worker_pool.h"

#include "util/log.h"

namespace garage::rpc {

worker_pool::worker_pool(size_t threads) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; i++) threads_.emplace_back([this] { run(); });
}

worker_pool::~worker_pool() { stop(); }

bool worker_pool::post(std::function<void()> job) {
  {
    std::lock_guard l(mu_);
    if (stopping_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void worker_pool::stop() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
  threads_.clear();
}

void worker_pool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock l(mu_);
      cv_.wait(l, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      LOG_ERROR("rpc worker: uncaught exception: {}", e.what());
    } catch (...) {
      LOG_ERROR("rpc worker: uncaught exception");
    }
  }
}

}  // namespace garage::rpc
