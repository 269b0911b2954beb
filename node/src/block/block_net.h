// block_net: blocks stored on the nodes of their partition (the partition of
// the block id, placed by the layout like the table partitions).
//
//   put      sends the block to every node of every live layout version's
//            node set and returns once each set has a write quorum.
//   get      this node's copy when it has a good one, else the other nodes
//            one after the other: same zone first, then by round-trip time.
//            Every copy is verified against the id before it is returned or
//            stored.
//   resync   the queue of blocks to check (filled when a block gains its
//            first reference, when scrub finds a corrupt copy and after a
//            layout change): a node that must hold a referenced block and
//            lacks it fetches it; a node that holds a block it no longer owns
//            hands it to the owners that lack it, then deletes its copy.
//   scrub    reads every referenced local block; a corrupt copy is moved
//            aside (by block_manager) and queued for resync, which fetches a
//            good one.
// Endpoints "block/put" (a streamed request: head = id and u64be size, then
// the data, written to a temp file as it arrives and made visible once its
// hash is checked), "block/get" (a streamed response read from the file as it
// goes) and "block/has"; background priority for the transfers, so table
// traffic overtakes them.
//
// Thread-safety: all members may be called from any thread; the manager,
// the layout source and the transport must outlive this object.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "block/block_manager.h"
#include "rpc/quorum.h"
#include "rpc/transport.h"
#include "rpc/write_tracker.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::block {

struct resync_stats {
  uint64_t checked = 0;
  uint64_t fetched = 0;    // blocks this node lacked and got from a peer
  uint64_t offloaded = 0;  // local copies handed over and deleted
  uint64_t errors = 0;     // re-queued for later
  std::string last_error;
};

struct scrub_stats {
  uint64_t checked = 0;
  uint64_t corrupted = 0;  // found corrupt (then queued for resync)
  uint64_t missing = 0;    // referenced, no file (queued for resync)
};

// resync_stats and scrub_stats summed since start (for metrics).
struct block_net_totals {
  uint64_t resync_fetched = 0;
  uint64_t resync_offloaded = 0;
  uint64_t resync_errors = 0;
  uint64_t scrub_checked = 0;
  uint64_t scrub_corrupted = 0;
  uint64_t scrub_missing = 0;
};

class block_net {
 public:
  block_net(block_manager& mgr, rpc::layout_source layout, rpc::consistency_mode mode,
            rpc::transport& net,
            rpc::call_options opts = {rpc::priority::background, std::chrono::seconds(60)});
  block_net(const block_net&) = delete;
  block_net& operator=(const block_net&) = delete;

  // Blocks larger than this are refused from peers.
  static constexpr uint64_t max_block_size = 64 << 20;

  result<void> put(const hash256& id, std::string_view data);
  result<std::string> get(const hash256& id);
  // get(), handing the data to `sink` in pieces as it arrives from a peer
  // (a local copy is verified first, then handed over). A remote copy is
  // verified at the end: an error after the sink got some pieces (corrupted:
  // the data did not match the id; or the transfer failed) means those
  // pieces must be thrown away; before any piece, the next node is tried.
  using piece_sink = block_manager::piece_sink;
  result<void> get_stream(const hash256& id, const piece_sink& sink);
  // Counts each put in `writes` while it runs (rpc/write_tracker.h), so the
  // node acknowledges a new layout version only once no put that ignores it
  // is in flight. Call before serving; `writes` must outlive this object.
  void track_writes(rpc::write_tracker* writes) { writes_ = writes; }

  // Processes up to `max` due entries of the resync queue. A block that
  // cannot be handled now is re-queued `retry_msec` later.
  result<resync_stats> resync(uint64_t now_msec, size_t max = 100, uint64_t retry_msec = 10'000);
  // Queues every counted local block (after a layout change).
  result<size_t> queue_all(uint64_t due_msec);
  // Verifies up to `max` referenced blocks after `*cursor` (advanced; reset
  // to nullopt at the end of a full pass).
  result<scrub_stats> scrub(std::optional<hash256>* cursor, size_t max, uint64_t now_msec);

  // For block_manager::collect_garbage: whether this node must keep an
  // unreferenced block for now. A node that owns the block may delete it (its
  // references are gone). A node that does not (the block's partition moved
  // away, and its references with it) deletes it only once every owner holds
  // it; until then the block is queued for resync, which hands it over.
  bool keep_for_owners(const hash256& id, uint64_t now_msec);

  // Nodes that must hold the block (every live layout version).
  std::vector<rpc::node_id> owners(const hash256& id) const;
  // Any thread.
  block_net_totals totals() const;

 private:
  std::vector<rpc::node_id> read_order(const hash256& id) const;
  result<std::string> fetch_remote(const hash256& id);
  // `restart` (may be empty): the sink can forget what it got, so a bad
  // transfer from one node is retried with the next.
  result<void> fetch_remote_stream(const hash256& id, const piece_sink& sink,
                                   const std::function<void()>& restart);
  result<void> upload_to(const rpc::node_id& n, const hash256& id, std::string_view data);

  block_manager& mgr_;
  rpc::layout_source layout_;
  rpc::consistency_mode mode_;
  rpc::transport& net_;
  rpc::call_options opts_;
  rpc::write_tracker* writes_ = nullptr;
  struct {
    std::atomic<uint64_t> resync_fetched{0}, resync_offloaded{0}, resync_errors{0};
    std::atomic<uint64_t> scrub_checked{0}, scrub_corrupted{0}, scrub_missing{0};
  } totals_;
};

}  // namespace garage::block
