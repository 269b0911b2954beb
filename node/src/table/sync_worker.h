// The background workers of replicated tables (util/worker.h):
//
//   merkle_worker   folds recorded changes into a table's Merkle trie as
//                   they come (busy while changes are pending);
//   sync_worker     runs an anti-entropy round over every table now and then
//                   and right after a layout change (wake it); when a whole
//                   round went through without an error it reports the layout
//                   version it synced for (the layout's sync tracker: reads
//                   move to a new version once every node synced it). A round
//                   with errors (a replica down) is not a worker error: it
//                   shows in progress() and the next round comes after the
//                   usual interval;
//   tombstone_gc_worker  collects tombstones confirmed by every replica.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "table/sync.h"
#include "util/clock.h"
#include "util/worker.h"

namespace garage::table {

class merkle_worker final : public worker {
 public:
  explicit merkle_worker(table_sync& t) : t_(t) {}
  std::string name() const override { return "merkle " + t_.name(); }
  result<worker_state> step() override {
    GARAGE_ASSIGN_OR_RETURN(size_t n, t_.merkle().update(1000));
    return n ? worker_state::busy : worker_state::idle;
  }
  std::optional<uint64_t> queue_length() const override { return t_.merkle().pending(); }
  std::chrono::milliseconds idle_interval() const override { return std::chrono::seconds(1); }

 private:
  table_sync& t_;
};

class sync_worker final : public worker {
 public:
  // current_version: the layout version now; synced(v): every table is in
  // sync with its replicas for version v.
  sync_worker(std::vector<table_sync*> tables, std::function<uint64_t()> current_version,
              std::function<void(uint64_t)> synced, std::chrono::milliseconds interval)
      : tables_(std::move(tables)),
        current_version_(std::move(current_version)),
        synced_(std::move(synced)),
        interval_(interval) {}

  std::string name() const override { return "table sync"; }
  result<worker_state> step() override {
    const uint64_t v = current_version_();
    uint64_t errors = 0, pushed = 0;
    std::string last;
    for (table_sync* t : tables_) {
      GARAGE_ASSIGN_OR_RETURN(sync_stats st, t->sync_all());
      errors += st.errors;
      pushed += st.items_pushed + st.items_offloaded;
      if (st.errors) last = t->name() + ": " + st.last_error;
    }
    rounds_++;
    items_ = pushed;
    {
      std::lock_guard lk(mu_);
      last_round_ = errors ? std::to_string(errors) + " errors, last " + last : "clean";
    }
    // A replica that is down is not this worker's failure: the next round
    // comes after the usual interval (not after an error backoff, which would
    // delay the catch-up of a node that comes back), and the synced version
    // is reported only after a clean round.
    if (errors) return worker_state::idle;
    synced_(v);
    return worker_state::idle;
  }
  std::string progress() const override {
    std::lock_guard lk(mu_);
    return std::to_string(rounds_.load()) +
           " rounds; last round: " + std::to_string(items_.load()) + " items sent, " + last_round_;
  }
  std::chrono::milliseconds idle_interval() const override { return interval_; }

 private:
  std::vector<table_sync*> tables_;
  std::function<uint64_t()> current_version_;
  std::function<void(uint64_t)> synced_;
  std::chrono::milliseconds interval_;
  std::atomic<uint64_t> rounds_{0}, items_{0};
  mutable std::mutex mu_;
  std::string last_round_ = "none yet";
};

class tombstone_gc_worker final : public worker {
 public:
  tombstone_gc_worker(std::vector<table_sync*> tables, uint64_t delay_msec,
                      std::chrono::milliseconds interval)
      : tables_(std::move(tables)), delay_msec_(delay_msec), interval_(interval) {}
  std::string name() const override { return "tombstone gc"; }
  result<worker_state> step() override {
    for (table_sync* t : tables_) GARAGE_TRY(t->collect_tombstones(now_msec(), delay_msec_));
    return worker_state::idle;
  }
  std::chrono::milliseconds idle_interval() const override { return interval_; }

 private:
  std::vector<table_sync*> tables_;
  uint64_t delay_msec_;
  std::chrono::milliseconds interval_;
};

}  // namespace garage::table
