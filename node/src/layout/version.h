// layout_version: one numbered, immutable cluster layout: the roles, the
// parameters, and the partition -> nodes assignment computed from them.
//
// This is what the node routes with: nodes_of(partition) answers "who stores
// this partition in this version". Version 0 is the empty layout every cluster
// starts from (no roles, no assignment). Values are immutable after
// construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "layout/partition.h"
#include "layout/role.h"
#include "util/result.h"

namespace garage::layout {

class layout_version {
 public:
  // The empty version 0 with the given parameters.
  layout_version() = default;
  explicit layout_version(layout_parameters params) : params_(params) {}

  // Assembles a version from its parts (the computation and the decoder use
  // this). `storage_nodes` are the ids the assignment indexes, ascending;
  // `assignment` holds partition_count * replication_factor indices, or is
  // empty for a layout without storage. Errors (corrupted): indices out of
  // range, duplicate nodes in a partition, storage nodes without a storage
  // role, wrong sizes.
  static result<layout_version> from_parts(uint64_t version, layout_parameters params,
                                           std::map<node_id, node_role> roles,
                                           std::vector<node_id> storage_nodes,
                                           uint64_t partition_size,
                                           std::vector<uint16_t> assignment);

  uint64_t version() const { return version_; }
  const layout_parameters& parameters() const { return params_; }
  uint32_t replication_factor() const { return params_.replication_factor; }
  const std::map<node_id, node_role>& roles() const { return roles_; }
  // Bytes per partition replica; 0 when the version has no assignment.
  uint64_t partition_size() const { return partition_size_; }
  bool has_assignment() const { return !assignment_.empty(); }

  // Nodes storing partition p (p < 256), ascending by id; empty without an
  // assignment.
  std::vector<node_id> nodes_of(uint32_t partition) const;
  std::vector<node_id> nodes_of(const hash256& key) const { return nodes_of(partition_of(key)); }
  // Storage nodes (those with a capacity), ascending; the assignment indexes them.
  const std::vector<node_id>& storage_nodes() const { return storage_nodes_; }
  // Every node with a role (storage and gateway), ascending.
  std::vector<node_id> all_nodes() const;
  // How many partitions node `id` stores (0 for gateways and unknown nodes).
  uint32_t partitions_of(const node_id& id) const;
  // Raw assignment: partition p's nodes are storage_nodes()[raw[p*rf + i]].
  const std::vector<uint16_t>& raw_assignment() const { return assignment_; }

  bool operator==(const layout_version&) const = default;

 private:
  uint64_t version_ = 0;
  layout_parameters params_;
  std::map<node_id, node_role> roles_;
  std::vector<node_id> storage_nodes_;
  uint64_t partition_size_ = 0;
  std::vector<uint16_t> assignment_;
};

}  // namespace garage::layout
