#include "garage/periodic.h"

namespace garage {

periodic::periodic(std::chrono::milliseconds interval, std::function<void()> fn)
    : interval_(interval), fn_(std::move(fn)), thread_([this] { loop(); }) {}

periodic::~periodic() { stop(); }

void periodic::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void periodic::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    lock.unlock();
    fn_();
    lock.lock();
  }
}

}  // namespace garage
