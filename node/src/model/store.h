// The data of one node: the metadata database, the model's tables and the
// block store, opened together from the configuration. The composition root
// (garage main) owns one store; the API layers use it through the *_ops
// functions.
//
// Standalone (no cluster_options): every table and block is local, and an
// operation is one database transaction. Cluster node: the tables are
// replicated (model/meta.h) and blocks live on the nodes of their partition
// (block/block_net.h). Hooks that reach a table stored on other nodes
// (object → version → block reference) go through insert queues drained by
// a background worker (drain_queues).
//
// Thread-safety: all members are thread-safe. Their calls block (RocksDB,
// file I/O): from a coroutine, call them through http::run_blocking.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "block/block_manager.h"
#include "db/db.h"
#include "model/meta.h"
#include "model/tables.h"
#include "rpc/quorum.h"
#include "rpc/transport.h"
#include "rpc/write_tracker.h"
#include "table/replication.h"
#include "util/config.h"
#include "util/result.h"

namespace garage::block {
class block_net;
}
namespace garage::table {
class table_sync;
}

namespace garage::model {

// What a cluster node's store needs from the layers above it.
struct cluster_options {
  rpc::transport* net = nullptr;  // must outlive the store's use (stop it first)
  rpc::layout_source layout;
  rpc::consistency_mode mode = rpc::consistency_mode::consistent;
  // Counts table inserts and block puts in flight per layout version (for
  // the layout acknowledgement); may be null; must outlive the store.
  rpc::write_tracker* writes = nullptr;
};

// Counters of one replicated table since start (cluster node), for metrics.
struct table_counters {
  std::string name;
  uint64_t gets = 0, get_errors = 0;  // quorum reads
  uint64_t puts = 0, put_errors = 0;  // entries written with a quorum; failed writes
  uint64_t read_repairs = 0;
  uint64_t sync_rounds = 0, sync_pushed = 0, sync_offloaded = 0, sync_errors = 0;
  uint64_t merkle_pending = 0;  // changes not yet in the Merkle trie
  uint64_t entries = 0;         // local entries (a RocksDB estimate)
};

template <class T>
using mtable_of = mtable<typename T::schema_type>;

class store {
 public:
  static result<std::unique_ptr<store>> open(const config& cfg,
                                             std::optional<cluster_options> cluster = {});
  ~store();

  const config& cfg() const { return cfg_; }
  // This node's identifier (hex): its rpc node id in a cluster, else one drawn
  // once and persisted in the metadata database.
  const std::string& node_id() const { return node_id_; }
  bool clustered() const { return net_ != nullptr; }

  db::database& db() { return *db_; }
  // This node's blocks (local files and reference counts).
  block::block_manager& blocks() { return *blocks_; }
  // A block by id, wherever it is stored (this node first); verified.
  result<std::string> get_block(const hash256& id);
  // Stores a block (already sealed: compressed/encrypted as the caller wants)
  // on the nodes that own it, waiting for a write quorum in a cluster.
  result<void> put_block(const hash256& id, std::string_view data);

  // One operation's reads and writes (model/meta.h).
  std::unique_ptr<meta_tx> begin();

  mtable_of<bucket_table>& buckets() { return *m_buckets_; }
  mtable_of<alias_table>& aliases() { return *m_aliases_; }
  mtable_of<key_table>& keys() { return *m_keys_; }
  mtable_of<counter_table>& counters() { return *m_counters_; }
  mtable_of<block_ref_table>& block_refs() { return *m_block_refs_; }
  mtable_of<version_table>& versions() { return *m_versions_; }
  mtable_of<object_table>& objects() { return *m_objects_; }

  // ---- cluster node only (null / empty / zero when standalone) ----
  block::block_net* block_network() { return block_net_.get(); }
  // The anti-entropy of every replicated table.
  std::vector<table::table_sync*> sync_tables();
  // Sends up to `max` entries from each insert queue; returns how many left
  // the queues (errors: the first failed quorum write; the rest stay queued).
  result<size_t> drain_queues(size_t max = 100);
  uint64_t queued_inserts() const;
  // One per replicated table.
  std::vector<table_counters> table_metrics();

  // One pass of background maintenance: aborts single-part uploads idle for
  // upload_timeout_secs (no block added for that long), drops old tombstones, deletes unreferenced
  // blocks after block_gc_delay_secs. Returns a one-line summary for the log.
  result<std::string> maintenance(uint64_t now_msec);

 private:
  explicit store(const config& cfg);
  result<void> open_cluster(const cluster_options& c);
  struct cluster_parts;

  config cfg_;
  std::string node_id_;
  rpc::transport* net_ = nullptr;
  std::unique_ptr<db::database> db_;
  std::unique_ptr<table::replication> replication_;
  std::unique_ptr<block::block_manager> blocks_;
  std::unique_ptr<bucket_table> buckets_;
  std::unique_ptr<alias_table> aliases_;
  std::unique_ptr<key_table> keys_;
  std::unique_ptr<counter_table> counters_;
  std::unique_ptr<block_ref_table> block_refs_;
  std::unique_ptr<version_table> versions_;
  std::unique_ptr<object_table> objects_;
  std::unique_ptr<cluster_parts> cluster_;
  std::unique_ptr<block::block_net> block_net_;
  uint64_t last_orphan_sweep_msec_ = 0;  // maintenance(): the orphan-version sweep
  std::unique_ptr<mtable_of<bucket_table>> m_buckets_;
  std::unique_ptr<mtable_of<alias_table>> m_aliases_;
  std::unique_ptr<mtable_of<key_table>> m_keys_;
  std::unique_ptr<mtable_of<counter_table>> m_counters_;
  std::unique_ptr<mtable_of<block_ref_table>> m_block_refs_;
  std::unique_ptr<mtable_of<version_table>> m_versions_;
  std::unique_ptr<mtable_of<object_table>> m_objects_;
};

}  // namespace garage::model
