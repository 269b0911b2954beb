// write_tracker: the layout versions that this node's writes in flight took
// their node sets from, so that the node acknowledges a new layout version
// (its ack tracker, layout/history.h: "uses version v for new writes and has
// no write in flight that ignores it") only once every write that started
// under an older version has finished.
//
//   auto g = tracker.begin();        // a table insert, a block put
//   auto sets = g.layout()->write_sets_of(p);   // or any newer snapshot
//   ... quorum call ...
//   // ~guard: the write is over
//
//   uint64_t v = tracker.max_ack(*snapshot);    // the layout worker
//
// begin() reads the layout under the tracker's lock, so a write that begins
// after max_ack() returned sees a layout at least as new as the snapshot
// max_ack() was given (it was read before): such a write cannot ignore the
// version acknowledged. Cheap: one mutex and a small map that only gains an
// entry when a write first runs under a new version.
//
// Thread-safety: every member may be called from any thread. The tracker
// must outlive its guards.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "layout/history.h"
#include "rpc/quorum.h"

namespace garage::rpc {

class write_tracker {
 public:
  explicit write_tracker(layout_source layout) : layout_(std::move(layout)) {}
  write_tracker(const write_tracker&) = delete;
  write_tracker& operator=(const write_tracker&) = delete;

  // A write in flight, counted under layout()->current().version() until it
  // is destroyed (or moved from). A default guard counts nothing.
  class guard {
   public:
    guard() = default;
    guard(guard&& o) noexcept;
    guard& operator=(guard&& o) noexcept;
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { release(); }
    // The layout the write uses (null for a default guard).
    const std::shared_ptr<const layout::layout_history>& layout() const { return layout_; }
    uint64_t version() const { return version_; }

   private:
    friend class write_tracker;
    guard(write_tracker* t, std::shared_ptr<const layout::layout_history> l, uint64_t v)
        : tracker_(t), layout_(std::move(l)), version_(v) {}
    void release();
    write_tracker* tracker_ = nullptr;
    std::shared_ptr<const layout::layout_history> layout_;
    uint64_t version_ = 0;
  };

  // Starts a write under the current layout.
  guard begin();

  // The newest live version of `h` this node may acknowledge: the oldest
  // version a write in flight started under, or h.current() when none is
  // older. `h` must have been read before the call.
  uint64_t max_ack(const layout::layout_history& h) const;

  // Writes in flight (all versions), and those started under `version`.
  uint64_t in_flight() const;
  uint64_t in_flight(uint64_t version) const;

 private:
  void end(uint64_t version);

  layout_source layout_;
  mutable std::mutex mu_;
  // version -> writes in flight; entries at zero are kept (no allocation for
  // the next write) and pruned by max_ack once older than the current version.
  mutable std::map<uint64_t, uint64_t> counts_;
};

}  // namespace garage::rpc
