// work_queue: the keys ("ns/name") a controller has to reconcile, with
// client-go's workqueue semantics.
//
// - A key is queued at most once: adding a key already waiting does nothing.
// - A key is processed by one worker at a time: a key added while a worker
//   holds it (between get() and done()) is queued again by done().
// - add_after() queues a key once a delay passed (the earliest delay asked
//   for wins); add_rate_limited() picks the delay: the larger of the key's
//   exponential backoff (base_delay * 2^failures, capped at max_delay; every
//   call counts a failure) and an overall token bucket (qps, burst), so a
//   storm of failures cannot flood the API server. forget() resets the key's
//   failure count (call it after a success).
// - shut_down() (or the stop_token given to get()) makes every get() return
//   nullopt at once, pending keys or not; adds after shut_down are ignored.
//
// Thread-safe. Delayed keys are moved into the queue by get() (and depth()),
// so no thread of its own is needed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace garage::op {

class metrics;

struct queue_options {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{300000};
  double qps = 10;
  int burst = 100;
};

// The delay policy of add_rate_limited(), usable on its own. Thread-safe.
class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  // `now` is for tests; the steady clock by default.
  explicit rate_limiter(queue_options o, std::function<clock::time_point()> now = {});

  // The delay before retrying `key`, counting one more failure of it.
  std::chrono::milliseconds when(const std::string& key);
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

 private:
  queue_options o_;
  std::function<clock::time_point()> now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
  double tokens_;
  clock::time_point last_;
};

class work_queue {
 public:
  // `m`, when given, receives the workqueue metrics labelled `name`; it must
  // outlive the queue.
  work_queue(std::string name, queue_options options = {}, metrics* m = nullptr);
  work_queue(const work_queue&) = delete;
  work_queue& operator=(const work_queue&) = delete;

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  void add_rate_limited(const std::string& key);
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // Blocks until a key is ready (then the caller owns it until done(key)),
  // or until shut_down() or `stop`: nullopt.
  std::optional<std::string> get(std::stop_token stop = {});
  void done(const std::string& key);
  void shut_down();
  bool shutting_down() const;

  // Keys ready to be taken (not those held by workers or still delayed).
  size_t depth() const;
  const std::string& name() const { return name_; }

 private:
  using clock = std::chrono::steady_clock;
  void add_locked(const std::string& key);
  void promote_ready_locked(clock::time_point now);

  std::string name_;
  metrics* metrics_;
  rate_limiter limiter_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued, or re-added while processing
  std::unordered_set<std::string> processing_;  // held by a worker
  std::unordered_map<std::string, clock::time_point> added_at_;  // for queue latency
  std::unordered_map<std::string, clock::time_point> taken_at_;  // for work time
  std::map<std::string, clock::time_point> waiting_;             // add_after: key -> when
  std::set<std::pair<clock::time_point, std::string>> waiting_by_time_;
  bool shutting_down_ = false;
};

}  // namespace garage::op
