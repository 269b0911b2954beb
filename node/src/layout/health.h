// Partition health of a cluster: given the live layout versions and which
// nodes are up, how many partitions can take writes (a write quorum up in
// the node set of every live version) and how many have every replica up.
// The same computation answers the admin API's GetClusterHealth and the
// garage_cluster_partitions_* metrics.
//
// Pure: the caller says which nodes are up (itself included).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "layout/history.h"

namespace garage::layout {

struct partition_health {
  bool has_assignment = false;  // false: no layout applied yet (all counts 0)
  uint64_t storage_nodes = 0;   // storage nodes of the current version
  uint64_t storage_nodes_up = 0;
  uint64_t partitions = 0;         // 256 with an assignment
  uint64_t partitions_quorum = 0;  // a write quorum up in every live version's set
  uint64_t partitions_all_ok = 0;  // every node of every live version's set up
  // "healthy": every partition has a quorum and every storage node is up;
  // "degraded": every partition has a quorum; "unavailable": otherwise.
  std::string status() const;
};

// write_quorum: the quorum a write needs in each node set (rpc::write_quorum_of
// for the current replication factor and consistency mode).
partition_health compute_partition_health(const layout_history& h,
                                          const std::function<bool(const node_id&)>& is_up,
                                          uint64_t write_quorum);

}  // namespace garage::layout
