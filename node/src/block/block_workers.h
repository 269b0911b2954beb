// The background workers of replicated blocks (util/worker.h):
//   resync_worker  works through the resync queue (fetch what this node must
//                  hold, hand over what it no longer owns);
//   scrub_worker   reads every referenced local block once per period, slowly
//                  (tranquility), sending corrupt copies to resync.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "block/block_net.h"
#include "util/clock.h"
#include "util/worker.h"

namespace garage::block {

class resync_worker final : public worker {
 public:
  resync_worker(block_net& net, block_manager& mgr) : net_(net), mgr_(mgr) {}
  std::string name() const override { return "block resync"; }
  result<worker_state> step() override {
    GARAGE_ASSIGN_OR_RETURN(resync_stats st, net_.resync(now_msec(), 100));
    fetched_ += st.fetched;
    offloaded_ += st.offloaded;
    errors_ += st.errors;
    if (st.errors && st.checked == st.errors) return error(errc::unavailable, st.last_error);
    return st.checked ? worker_state::busy : worker_state::idle;
  }
  std::optional<uint64_t> queue_length() const override { return mgr_.resync_queue_length(); }
  std::string progress() const override {
    return std::to_string(fetched_.load()) + " fetched, " + std::to_string(offloaded_.load()) +
           " handed over, " + std::to_string(errors_.load()) + " retried";
  }
  std::chrono::milliseconds idle_interval() const override { return std::chrono::seconds(1); }

 private:
  block_net& net_;
  block_manager& mgr_;
  std::atomic<uint64_t> fetched_{0}, offloaded_{0}, errors_{0};
};

class scrub_worker final : public worker {
 public:
  scrub_worker(block_net& net, std::chrono::milliseconds period) : net_(net), period_(period) {}
  std::string name() const override { return "block scrub"; }
  result<worker_state> step() override {
    GARAGE_ASSIGN_OR_RETURN(scrub_stats st, net_.scrub(&cursor_, 100, now_msec()));
    checked_ += st.checked;
    corrupted_ += st.corrupted;
    if (cursor_) return worker_state::busy;
    ++passes_;
    return worker_state::idle;  // a full pass done: wait for the next period
  }
  std::string progress() const override {
    return std::to_string(passes_.load()) + " passes, " + std::to_string(checked_.load()) +
           " checked, " + std::to_string(corrupted_.load()) + " corrupt";
  }
  std::chrono::milliseconds idle_interval() const override { return period_; }

 private:
  block_net& net_;
  std::chrono::milliseconds period_;
  std::optional<hash256> cursor_;
  std::atomic<uint64_t> checked_{0}, corrupted_{0}, passes_{0};
};

}  // namespace garage::block
