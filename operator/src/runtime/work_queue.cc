#include "runtime/work_queue.h"

#include <algorithm>
#include <cmath>

#include "runtime/metrics.h"

namespace garage::op {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

rate_limiter::rate_limiter(queue_options o, std::function<clock::time_point()> now)
    : o_(o),
      now_(now ? std::move(now) : [] { return clock::now(); }),
      tokens_(std::max(o.burst, 1)),
      last_(now_()) {}

std::chrono::milliseconds rate_limiter::when(const std::string& key) {
  std::lock_guard lock(mu_);
  int failures = failures_[key]++;
  // Per key: base * 2^failures, capped (and no overflow for a long streak).
  double item_ms =
      static_cast<double>(o_.base_delay.count()) * std::pow(2.0, std::min(failures, 62));
  item_ms = std::min(item_ms, static_cast<double>(o_.max_delay.count()));
  // Overall: a token bucket of `burst` tokens refilled at `qps`; a retry takes
  // a token now and, when none is left, waits for the one it borrowed.
  double bucket_ms = 0;
  if (o_.qps > 0) {
    auto now = now_();
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min<double>(std::max(o_.burst, 1), tokens_ + elapsed * o_.qps);
    tokens_ -= 1;
    if (tokens_ < 0) bucket_ms = -tokens_ / o_.qps * 1000.0;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(std::max(item_ms, bucket_ms))));
}

void rate_limiter::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int rate_limiter::num_requeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

work_queue::work_queue(std::string name, queue_options options, metrics* m)
    : name_(std::move(name)), metrics_(m), limiter_(options) {
  if (metrics_) metrics_->queue_depth(name_, 0);
}

void work_queue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  add_locked(key);
}

void work_queue::add_locked(const std::string& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;  // already queued (or re-added while processing)
  added_at_.emplace(key, clock::now());
  if (metrics_) metrics_->queue_add(name_);
  if (processing_.count(key)) return;  // done() queues it again
  queue_.push_back(key);
  if (metrics_) metrics_->queue_depth(name_, static_cast<int64_t>(queue_.size()));
  cv_.notify_one();
}

void work_queue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds::zero()) return add(key);
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  auto when = clock::now() + delay;
  if (auto it = waiting_.find(key); it != waiting_.end()) {
    if (it->second <= when) return;  // already due earlier
    waiting_by_time_.erase({it->second, key});
    it->second = when;
  } else {
    waiting_.emplace(key, when);
  }
  waiting_by_time_.emplace(when, key);
  cv_.notify_all();  // a get() may sleep until a later deadline
}

void work_queue::add_rate_limited(const std::string& key) {
  auto delay = limiter_.when(key);
  if (metrics_) metrics_->queue_retry(name_);
  add_after(key, delay);
}

void work_queue::forget(const std::string& key) { limiter_.forget(key); }

int work_queue::num_requeues(const std::string& key) const { return limiter_.num_requeues(key); }

void work_queue::promote_ready_locked(clock::time_point now) {
  while (!waiting_by_time_.empty() && waiting_by_time_.begin()->first <= now) {
    auto key = waiting_by_time_.begin()->second;
    waiting_by_time_.erase(waiting_by_time_.begin());
    waiting_.erase(key);
    add_locked(key);
  }
}

std::optional<std::string> work_queue::get(std::stop_token stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (shutting_down_ || stop.stop_requested()) return std::nullopt;
    promote_ready_locked(clock::now());
    if (!queue_.empty()) break;
    // Woken by add (queue_ non-empty), add_after (waiting_by_time_ changed:
    // notify_all, and the predicate sees a new earliest time), shut_down or stop.
    auto earliest =
        waiting_by_time_.empty() ? clock::time_point::max() : waiting_by_time_.begin()->first;
    auto changed = [&] {
      auto e =
          waiting_by_time_.empty() ? clock::time_point::max() : waiting_by_time_.begin()->first;
      return shutting_down_ || !queue_.empty() || e != earliest;
    };
    if (earliest == clock::time_point::max())
      cv_.wait(lock, stop, changed);
    else
      cv_.wait_until(lock, stop, earliest, changed);
  }
  auto key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  auto now = clock::now();
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    if (metrics_) metrics_->queue_latency(name_, seconds_since(it->second));
    added_at_.erase(it);
  }
  taken_at_[key] = now;
  if (metrics_) metrics_->queue_depth(name_, static_cast<int64_t>(queue_.size()));
  return key;
}

void work_queue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  if (!processing_.erase(key)) return;
  if (auto it = taken_at_.find(key); it != taken_at_.end()) {
    if (metrics_) metrics_->queue_work(name_, seconds_since(it->second));
    taken_at_.erase(it);
  }
  if (dirty_.count(key) && !shutting_down_) {
    queue_.push_back(key);
    if (metrics_) metrics_->queue_depth(name_, static_cast<int64_t>(queue_.size()));
    cv_.notify_one();
  }
}

void work_queue::shut_down() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool work_queue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t work_queue::depth() const {
  std::lock_guard lock(mu_);
  auto now = clock::now();
  size_t ready = 0;
  for (const auto& [when, key] : waiting_by_time_) {
    if (when > now) break;
    if (!dirty_.count(key)) ++ready;
  }
  return queue_.size() + ready;
}

}  // namespace garage::op
