// table_sync: anti-entropy for one replicated table.
//
// Each round, for every partition (0..255):
//   - this node is one of the partition's nodes (replication::sync_nodes):
//     for each other node, compare Merkle trees from the root down, one node
//     per call, descending only into subtrees whose hashes differ, and push
//     our entries of the differing leaves to that node. The other node does
//     the same towards us in its own round, so both converge (entries are
//     CRDTs: pushing merges, never overwrites).
//   - this node no longer stores the partition (a layout change moved it):
//     push its entries to every node that should hold it, all of them
//     acknowledging, then drop the local copies that did not change meanwhile.
// Tombstones are collected only after every node of the partition holds the
// tombstone and agrees to drop it (collect_tombstones), so that a replica that
// missed the deletion cannot bring the entry back.
//
// Endpoints: "table/<name>/merkle" (a node of our tree) and
// "table/<name>/gc_delete" (drop these tombstones if unchanged).
// Thread-safety: one round at a time per table (rounds are serialised
// internally); the handlers may run concurrently with a round.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "rpc/transport.h"
#include "table/merkle.h"
#include "table/replication.h"
#include "table/table_store.h"
#include "util/result.h"

namespace garage::table {

struct sync_stats {
  uint64_t partitions_compared = 0;  // (partition, peer) pairs whose roots were compared
  uint64_t partitions_differing = 0;
  uint64_t items_pushed = 0;
  uint64_t items_offloaded = 0;
  uint64_t errors = 0;
  std::string last_error;
};

// sync_stats summed over every round since start (for metrics).
struct sync_totals {
  uint64_t rounds = 0;
  uint64_t items_pushed = 0;
  uint64_t items_offloaded = 0;
  uint64_t errors = 0;
};

class table_sync {
 public:
  // Enables the store's Merkle tree (queuing entries stored before, the first
  // time) and registers the handlers. put_endpoint is the replicated table's
  // "put" endpoint, which merges a list of encoded entries.
  static result<std::unique_ptr<table_sync>> create(table_store& store, const replication& repl,
                                                    rpc::transport& net, std::string put_endpoint,
                                                    rpc::call_options opts = {});

  // Folds pending changes into the Merkle tree, then syncs every partition.
  // Errors with one peer are counted and the round goes on.
  result<sync_stats> sync_all();
  // Our entries that differ from `peer`'s, pushed to it; returns how many.
  result<size_t> sync_partition(uint8_t partition, const node_id& peer);
  // Moves a partition this node no longer stores to its nodes; returns how
  // many entries were dropped locally.
  result<size_t> offload_partition(uint8_t partition);
  // Tombstone GC, confirmed with every node of the partition.
  result<size_t> collect_tombstones(uint64_t now_msec, uint64_t delay_msec);

  merkle_tree& merkle() { return *merkle_; }
  const std::string& name() const { return store_.name(); }
  // Any thread.
  sync_totals totals() const {
    return {rounds_.load(), pushed_.load(), offloaded_.load(), errors_.load()};
  }

 private:
  table_sync(table_store& store, merkle_tree* merkle, const replication& repl, rpc::transport& net,
             std::string put_endpoint, rpc::call_options opts);
  result<std::string> handle_merkle(std::string_view body);
  result<std::string> handle_gc_delete(std::string_view body);
  result<void> push(const node_id& peer, const std::vector<std::string>& items);
  result<void> confirm_tombstone(const std::string& key, const std::string& bytes);
  static hash256 partition_hash(uint8_t partition) {
    hash256 h{};
    h.bytes[0] = partition;
    return h;
  }

  table_store& store_;
  merkle_tree* merkle_;
  const replication& repl_;
  rpc::transport& net_;
  std::string put_ep_, merkle_ep_, gc_ep_;
  rpc::call_options opts_;
  std::mutex round_mu_;
  std::atomic<uint64_t> rounds_{0}, pushed_{0}, offloaded_{0}, errors_{0};
};

}  // namespace garage::table
