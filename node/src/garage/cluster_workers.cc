#include "garage/cluster_workers.h"

#include <atomic>

#include "block/block_net.h"
#include "block/block_workers.h"
#include "table/sync_worker.h"
#include "util/clock.h"
#include "util/log.h"

namespace garage {

namespace {

class insert_queue_worker final : public worker {
 public:
  explicit insert_queue_worker(model::store& s) : s_(s) {}
  std::string name() const override { return "insert queue"; }
  result<worker_state> step() override {
    GARAGE_ASSIGN_OR_RETURN(size_t n, s_.drain_queues(100));
    sent_ += n;
    return n ? worker_state::busy : worker_state::idle;
  }
  std::optional<uint64_t> queue_length() const override { return s_.queued_inserts(); }
  std::string progress() const override { return std::to_string(sent_.load()) + " sent"; }
  std::chrono::milliseconds idle_interval() const override {
    return std::chrono::milliseconds(200);
  }

 private:
  model::store& s_;
  std::atomic<uint64_t> sent_{0};
};

class layout_worker final : public worker {
 public:
  layout_worker(model::store& s, rpc::layout_manager& l, rpc::write_tracker& writes,
                worker_runner& runner)
      : s_(s), l_(l), writes_(writes), runner_(runner) {}
  std::string name() const override { return "layout"; }
  result<worker_state> step() override {
    auto h = l_.snapshot();
    const uint64_t v = h->current().version();
    const uint64_t oldest = h->versions().empty() ? v : h->versions().front().version();
    // Acknowledge the newest version no write in flight ignores (new writes
    // go to every live version: they read the layout as they start).
    const uint64_t max_ack = writes_.max_ack(*h);
    GARAGE_TRY(
        l_.update_trackers([max_ack](layout::layout_history& hist, const rpc::node_id& self) {
          return hist.update_local(self, max_ack);
        }));
    acked_ = max_ack;
    // Every node acknowledged a newer version: a sync round may now count
    // for it.
    const uint64_t ack_min = l_.snapshot()->ack_min();
    if (ack_min != ack_min_) {
      ack_min_ = ack_min;
      runner_.wake_all();
    }
    // Blocks move when a version is added (new owners fetch, per reference)
    // and when an old one retires (former owners hand over and drop): both
    // times every local block is checked again.
    if (v != seen_ || oldest != oldest_) {
      if (seen_ != 0 || v > 1) {
        LOG_INFO("layout versions {}..{}: checking where every local block belongs", oldest, v);
        if (auto* bn = s_.block_network()) GARAGE_TRY(bn->queue_all(now_msec()));
      }
      seen_ = v;
      oldest_ = oldest;
      runner_.wake_all();
    }
    return worker_state::idle;
  }
  std::string progress() const override {
    return "version " + std::to_string(seen_.load()) + ", acknowledged " +
           std::to_string(acked_.load()) + ", " + std::to_string(writes_.in_flight()) +
           " writes in flight";
  }
  std::chrono::milliseconds idle_interval() const override { return std::chrono::seconds(1); }

 private:
  model::store& s_;
  rpc::layout_manager& l_;
  rpc::write_tracker& writes_;
  worker_runner& runner_;
  std::atomic<uint64_t> seen_{0}, acked_{0};
  uint64_t oldest_ = 0;
  uint64_t ack_min_ = 0;
};

}  // namespace

void add_cluster_workers(worker_runner& runner, model::store& store, rpc::layout_manager& layout,
                         rpc::write_tracker& writes, const cluster_worker_options& opts) {
  runner.add(std::make_unique<insert_queue_worker>(store));
  runner.add(std::make_unique<layout_worker>(store, layout, writes, runner));
  auto syncs = store.sync_tables();
  for (auto* t : syncs) runner.add(std::make_unique<table::merkle_worker>(*t));
  rpc::layout_manager* lp = &layout;
  rpc::write_tracker* wp = &writes;
  // A round counts for the newest version every node has acknowledged at its
  // start: from then on every write reaches that version's nodes, so what the
  // round pushed plus those writes is all the version's nodes must hold.
  runner.add(std::make_unique<table::sync_worker>(
      syncs, [lp] { return lp->snapshot()->ack_min(); },
      [lp, wp](uint64_t v) {
        auto snap = lp->snapshot();
        const uint64_t max_ack = wp->max_ack(*snap);
        auto r =
            lp->update_trackers([v, max_ack](layout::layout_history& h, const rpc::node_id& self) {
              bool a = h.set_sync(self, v);
              bool b = h.update_local(self, max_ack);
              return a || b;
            });
        if (!r) LOG_WARN("layout: cannot record the synced version: {}", r.error().to_string());
      },
      opts.sync_interval));
  runner.add(std::make_unique<table::tombstone_gc_worker>(syncs, opts.tombstone_delay_msec,
                                                          std::chrono::minutes(1)));
  if (auto* bn = store.block_network()) {
    runner.add(std::make_unique<block::resync_worker>(*bn, store.blocks()));
    runner.add(std::make_unique<block::scrub_worker>(*bn, opts.scrub_period), 4);
  }
}

}  // namespace garage
