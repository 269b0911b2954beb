#include "garage/node_workers.h"

#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "model/lifecycle_worker.h"
#include "model/store.h"
#include "util/clock.h"
#include "util/log.h"

namespace garage {
namespace {

// One pass of `pass` per interval; the pass returns a summary for progress().
class periodic_worker : public worker {
 public:
  periodic_worker(std::string name, std::chrono::milliseconds interval,
                  std::function<result<std::string>()> pass)
      : name_(std::move(name)), interval_(interval), pass_(std::move(pass)) {}

  std::string name() const override { return name_; }
  std::chrono::milliseconds idle_interval() const override { return interval_; }
  std::string progress() const override {
    std::lock_guard lk(mu_);
    return progress_;
  }

  result<worker_state> step() override {
    // The first step only waits: the first pass comes one interval after start.
    if (!started_) {
      started_ = true;
      return worker_state::idle;
    }
    auto summary = pass_();
    if (!summary) return std::move(summary).error();
    std::lock_guard lk(mu_);
    progress_ = "last pass: " + *summary;
    return worker_state::idle;
  }

 private:
  const std::string name_;
  const std::chrono::milliseconds interval_;
  std::function<result<std::string>()> pass_;
  bool started_ = false;  // step() thread only
  mutable std::mutex mu_;
  std::string progress_;
};

}  // namespace

std::unique_ptr<worker> make_maintenance_worker(model::store& s,
                                                std::chrono::milliseconds interval) {
  return std::make_unique<periodic_worker>("maintenance", interval, [&s]() -> result<std::string> {
    auto summary = s.maintenance(now_msec());
    if (!summary) return std::move(summary).error();
    LOG_INFO("maintenance: {}", *summary);
    return std::move(*summary);
  });
}

std::unique_ptr<worker> make_lifecycle_worker(model::store& s, std::chrono::milliseconds interval) {
  return std::make_unique<periodic_worker>("lifecycle", interval, [&s]() -> result<std::string> {
    auto stats = model::run_lifecycle(s, now_msec());
    if (!stats) return std::move(stats).error();
    if (stats->buckets > 0) {
      LOG_INFO("lifecycle: {} buckets processed, {} objects expired, {} uploads aborted",
               stats->buckets, stats->expired, stats->aborted);
    }
    return std::to_string(stats->buckets) + " buckets processed, " +
           std::to_string(stats->expired) + " objects expired, " + std::to_string(stats->aborted) +
           " uploads aborted";
  });
}

}  // namespace garage
