// The metrics of a cluster node's replication on /metrics (prometheus-cpp,
// the node's shared registry), refreshed from snapshots by a periodic thread
// like the RPC gauges in server.cc:
//
//   garage_table_*      per replicated table: quorum reads and writes and
//                       their errors, read repairs, anti-entropy rounds and
//                       items, Merkle backlog, local entries, insert queue;
//   garage_block_*      resync queue, blocks fetched / handed over / retried,
//                       scrub checks and corrupt or missing copies;
//   garage_worker_*     per background worker: queue length, errors, state;
//   garage_cluster_*    partition health from the layout and the peers that
//                       are up (layout::compute_partition_health, the same
//                       computation as GetClusterHealth).
// Counters that only grow are exported as gauges set to the running total
// (as garage_rpc_peer_calls), since the values are read from the components.
//
// Thread-safety: refresh() from one thread at a time (the periodic thread).
#pragma once

#include <memory>
#include <vector>

#include "layout/history.h"
#include "model/store.h"
#include "rpc/quorum.h"
#include "rpc/transport.h"
#include "util/worker.h"

namespace prometheus {
class Registry;
}

namespace garage {

class cluster_metrics {
 public:
  explicit cluster_metrics(prometheus::Registry& r);
  ~cluster_metrics();
  cluster_metrics(const cluster_metrics&) = delete;
  cluster_metrics& operator=(const cluster_metrics&) = delete;

  // layout: the current snapshot (null: none yet); workers: worker_runner::list().
  void refresh(model::store& store, const rpc::transport& net, const layout::layout_history* layout,
               rpc::consistency_mode mode, const std::vector<worker_status>& workers);

 private:
  struct rep;
  std::unique_ptr<rep> rep_;
};

}  // namespace garage
