// layout_report: what a layout computation decided, and why, for humans (the
// CLI, the admin API, the operator's Events) and for programs (the fields).
//
// Plain value; to_string() renders the explanation documented in
// docs/layout.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "layout/role.h"

namespace garage::layout {

struct node_report {
  node_id id;
  std::string zone;
  std::vector<std::string> tags;
  std::optional<uint64_t> capacity;  // nullopt for a gateway
  uint32_t partitions = 0;           // partition replicas stored in the new layout
  uint32_t new_partitions = 0;       // of which the node did not hold before (to copy in)
  uint32_t previous_partitions = 0;  // replicas held in the previous layout
  uint64_t usable = 0;               // partitions * partition size, bytes
  // Holds as many partitions as its capacity allows (and fewer than all):
  // one of the nodes that limit the partition size.
  bool saturated = false;
};

struct zone_report {
  std::string zone;
  uint32_t storage_nodes = 0;
  uint32_t gateways = 0;
  uint64_t capacity = 0;             // sum of storage capacities, bytes
  uint32_t partitions = 0;           // partition replicas stored in the zone
  uint32_t distinct_partitions = 0;  // partitions with at least one replica in the zone
  uint64_t usable = 0;               // partitions * partition size, bytes
};

// Replicas that leave a node of zone `from` for a node of zone `to`. `from` is
// empty for a copy that replaces nothing (first layout, higher replication
// factor, node removed without successor is in `to` empty).
struct zone_transfer {
  std::string from;
  std::string to;
  uint32_t replicas = 0;
};

struct layout_report {
  uint64_t version = 0;
  layout_parameters parameters;
  uint32_t zone_redundancy = 0;          // the number of zones actually required
  uint64_t partition_size = 0;           // bytes per partition replica
  uint64_t previous_partition_size = 0;  // 0 if the previous version had no assignment
  uint64_t total_capacity = 0;           // sum of storage capacities, bytes
  uint64_t usable_capacity = 0;          // partition_size * 256 * replication factor
  uint64_t effective_capacity = 0;       // partition_size * 256: user data the cluster holds
  uint64_t replicas_moved = 0;           // (partition, node) pairs new in this layout
  uint64_t replicas_total = 0;           // 256 * replication factor
  std::vector<node_report> nodes;        // by zone, then id
  std::vector<zone_report> zones;        // by name
  std::vector<zone_transfer> transfers;  // by (from, to)

  // usable_capacity / total_capacity in percent (display only).
  double usable_percent() const;
  std::string to_string() const;
};

// "1.5 TB": SI units, one decimal.
std::string format_bytes(uint64_t bytes);

}  // namespace garage::layout
