// The assignment solver: which nodes store which partitions.
//
// Pure function of its input, deterministic (no hashing, no randomness, no
// floating point). Nodes are plain indices here; layout_version and
// compute_layout (compute.h) map node ids and zone names onto them and turn
// failures into messages with names. The partition count is a parameter so
// that tests can check small instances exhaustively; the cluster uses 256.
//
// Objectives, in order:
//  1. every partition gets `replication_factor` distinct nodes spanning at
//     least `zone_redundancy` distinct zones;
//  2. the partition size s is the largest for which every node n holds at most
//     floor(capacity_n / s) partitions;
//  3. among those assignments, the fewest (partition, node) pairs that were
//     not in `previous` (replicas that must be copied);
//  4. among those, new replicas spread over the nodes of a zone in proportion
//     to their capacity (a tie-break, not an optimum over all assignments).
#pragma once

#include <cstdint>
#include <vector>

#include "util/result.h"

namespace garage::layout {

struct assignment_input {
  uint32_t partition_count = 256;
  uint32_t replication_factor = 3;
  uint32_t zone_redundancy = 1;    // resolved: 1 <= zone_redundancy <= replication_factor
  std::vector<uint64_t> capacity;  // per node, bytes; 0 = stores nothing
  std::vector<uint32_t> zone;      // per node, zone index < zone_count
  uint32_t zone_count = 0;
  // Per partition (empty, or partition_count entries): node indices that held
  // it before. Indices out of range are ignored.
  std::vector<std::vector<uint32_t>> previous;
};

struct assignment_output {
  uint64_t partition_size = 0;
  // Per partition, the replication_factor node indices storing it, ascending.
  std::vector<std::vector<uint32_t>> replicas;
  // (partition, node) pairs not present in input.previous.
  uint64_t new_replicas = 0;
};

// Whether some assignment exists with partitions of `size` bytes.
// Closed form (see assignment.cc): O(nodes).
bool partition_size_feasible(const assignment_input& in, uint64_t size);

// The largest feasible partition size, or 0 when none is (not enough nodes,
// zones or capacity).
uint64_t optimal_partition_size(const assignment_input& in);

// Errors: invalid_argument when the input is inconsistent or no assignment
// exists (callers check feasibility first to give a useful message).
result<assignment_output> compute_assignment(const assignment_input& in);

}  // namespace garage::layout
