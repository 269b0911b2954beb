// replication: which nodes store a partition, and how many of them a write or
// a read must reach. A table consults it on every insert and get.
//
// Only local_replication (this node stores everything) exists for now; the
// cluster work adds sharded and fully replicated strategies behind the same
// interface. Implementations are immutable after construction and thread-safe.
#pragma once

#include <cstddef>
#include <vector>

#include "util/hash.h"

namespace garage::table {

using node_id = garage::hash256;

class replication {
 public:
  virtual ~replication() = default;
  // The nodes that store the partition of `partition_hash` (blake2b_256 of a
  // partition key), in preference order.
  virtual std::vector<node_id> storage_nodes(const hash256& partition_hash) const = 0;
  // How many storage nodes must acknowledge a write / answer a read.
  virtual size_t write_quorum() const = 0;
  virtual size_t read_quorum() const = 0;
};

// A single node that stores every partition: writes and reads are local.
class local_replication final : public replication {
 public:
  explicit local_replication(node_id self) : self_(self) {}
  const node_id& self() const { return self_; }
  std::vector<node_id> storage_nodes(const hash256& partition_hash) const override;
  size_t write_quorum() const override { return 1; }
  size_t read_quorum() const override { return 1; }

 private:
  node_id self_;
};

}  // namespace garage::table
