// The background workers of a cluster node (replication factor 2 and more),
// added to the node's worker_runner (`garage worker list`):
//
//   insert queue    sends the entries that hooks queued for tables stored on
//                   other nodes (object → version → block reference);
//   layout          after every layout change: acknowledges the new version
//                   (this node's update trackers) once no write that ignores
//                   it is in flight (rpc/write_tracker.h), queues every local
//                   block for a resync check (blocks move with their
//                   partitions), and wakes the table sync (also when every
//                   node has acknowledged a version);
//   merkle <table>  keeps each table's Merkle trie up to date;
//   table sync      anti-entropy with the other replicas, every
//                   sync_interval and after a layout change; reports the
//                   layout version it synced, so reads move to a new layout
//                   version and old versions retire. A round synces for the
//                   newest version every node has acknowledged (ack_min, as
//                   in Garage): writes that ignore a newer one may still run;
//   tombstone gc    drops tombstones every replica has, after a delay;
//   block resync    fetches missing blocks, hands over blocks no longer owned;
//   block scrub     re-reads every local block once per scrub period.
#pragma once

#include <chrono>

#include "model/store.h"
#include "rpc/layout_manager.h"
#include "rpc/write_tracker.h"
#include "util/config.h"
#include "util/worker.h"

namespace garage {

struct cluster_worker_options {
  std::chrono::milliseconds sync_interval{std::chrono::minutes(1)};
  std::chrono::milliseconds scrub_period{std::chrono::hours(24 * 7)};
  uint64_t tombstone_delay_msec = 24ull * 3600 * 1000;
};

// `writes` is the tracker the store's tables and blocks count their writes
// in (model::cluster_options::writes).
void add_cluster_workers(worker_runner& runner, model::store& store, rpc::layout_manager& layout,
                         rpc::write_tracker& writes, const cluster_worker_options& opts);

}  // namespace garage
