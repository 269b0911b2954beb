// replication: which nodes store a partition, and how many of them a write or
// a read must reach. A table consults it on every insert and get.
//
//   local_replication    one node stores everything (a single-node server, tests)
//   sharded_replication  a partition lives on the replication-factor nodes the
//                        layout gives it (objects, versions, block references)
//   full_replication     every node of the layout stores everything (buckets,
//                        keys, aliases): reads are local, writes go to all
//
// During a layout transition several versions are live: writes must reach a
// quorum in every write set (one per live version), reads go to the nodes of
// the newest version whose data is synced (layout_history::read_nodes_of).
// Quorums follow the consistency mode (rpc/quorum.h): with replication factor rf,
//   consistent  write rf/2+1, read ceil(rf/2)  (they intersect: read-after-write)
//   degraded    write rf/2+1, read 1           (reads survive more failures)
//   dangerous   write 1,      read 1
// Implementations are thread-safe; sharded and full read the layout through a
// source that returns the current snapshot.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "layout/history.h"
#include "rpc/quorum.h"
#include "rpc/write_tracker.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::table {

using node_id = garage::hash256;

using rpc::consistency_mode;
using rpc::parse_consistency_mode;
using rpc::read_quorum_of;
using rpc::write_quorum_of;

class replication {
 public:
  virtual ~replication() = default;
  // The nodes a read of the partition of `partition_hash` (blake2b_256 of a
  // partition key) asks.
  virtual std::vector<node_id> storage_nodes(const hash256& partition_hash) const = 0;
  // The node sets a write must reach a quorum in (one per live layout version).
  virtual std::vector<std::vector<node_id>> write_sets(const hash256& partition_hash) const {
    return {storage_nodes(partition_hash)};
  }
  // Every node that should hold the partition (union of the write sets): the
  // replicas anti-entropy compares.
  virtual std::vector<node_id> sync_nodes(const hash256& partition_hash) const {
    return storage_nodes(partition_hash);
  }
  // How many nodes of each write set must acknowledge a write / of the read
  // nodes must answer a read.
  virtual size_t write_quorum() const = 0;
  virtual size_t read_quorum() const = 0;
  // A write about to compute its write sets: held until its quorum call is
  // over, so that this node acknowledges a newer layout version only once no
  // write that ignores it is in flight (rpc/write_tracker.h). Counts nothing
  // without a tracker.
  virtual rpc::write_tracker::guard begin_write() const { return {}; }
  // Whether anti-entropy may pass over `node` while it is down (it left the
  // layout and synced: layout_history::sync_can_skip).
  virtual bool sync_can_skip(const node_id&) const { return false; }
};

using rpc::layout_source;

class sharded_replication final : public replication {
 public:
  // `writes` (may be null: nothing counted) must outlive this object.
  sharded_replication(layout_source source, consistency_mode mode,
                      rpc::write_tracker* writes = nullptr)
      : source_(std::move(source)), mode_(mode), writes_(writes) {}
  std::vector<node_id> storage_nodes(const hash256& partition_hash) const override;
  std::vector<std::vector<node_id>> write_sets(const hash256& partition_hash) const override;
  std::vector<node_id> sync_nodes(const hash256& partition_hash) const override;
  size_t write_quorum() const override;
  size_t read_quorum() const override;
  rpc::write_tracker::guard begin_write() const override;
  bool sync_can_skip(const node_id& node) const override;

 private:
  size_t replication_factor() const;
  layout_source source_;
  consistency_mode mode_;
  rpc::write_tracker* writes_;
};

// Every node with a role in a live layout version stores everything. A read
// is served by this node alone (read quorum 1 on {self}: ListBuckets and key
// lookups cost no round trip); a write goes to every node and waits for a
// majority of them. A node that missed a write learns it from anti-entropy;
// a reader that finds nothing locally can ask a majority
// (replicated_table::get_from_majority) before answering "no such thing".
class full_replication final : public replication {
 public:
  full_replication(node_id self, layout_source source, rpc::write_tracker* writes = nullptr)
      : self_(self), source_(std::move(source)), writes_(writes) {}
  std::vector<node_id> storage_nodes(const hash256& partition_hash) const override;
  std::vector<std::vector<node_id>> write_sets(const hash256& partition_hash) const override;
  std::vector<node_id> sync_nodes(const hash256& partition_hash) const override;
  // A majority of the nodes (1 while there is no layout).
  size_t write_quorum() const override;
  size_t read_quorum() const override { return 1; }
  rpc::write_tracker::guard begin_write() const override;
  bool sync_can_skip(const node_id& node) const override;
  // All nodes and the majority quorum, for a read that must not miss a write.
  std::vector<node_id> all_nodes() const;

 private:
  node_id self_;
  layout_source source_;
  rpc::write_tracker* writes_;
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
