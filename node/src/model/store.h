// The data of one node: the metadata database, the model's tables and the
// block store, opened together from the configuration. The composition root
// (garage main) owns one store; the API layers use it through the *_ops
// functions.
//
// Thread-safety: all members are thread-safe. Their calls block (RocksDB,
// file I/O): from a coroutine, call them through http::run_blocking.
#pragma once

#include <memory>
#include <string>

#include "block/block_manager.h"
#include "db/db.h"
#include "model/tables.h"
#include "table/replication.h"
#include "util/config.h"
#include "util/result.h"

namespace garage::model {

class store {
 public:
  static result<std::unique_ptr<store>> open(const config& cfg);
  ~store();

  const config& cfg() const { return cfg_; }
  // This node's identifier (hex), persisted in the metadata database.
  const std::string& node_id() const { return node_id_; }

  db::database& db() { return *db_; }
  block::block_manager& blocks() { return *blocks_; }
  bucket_table& buckets() { return *buckets_; }
  alias_table& aliases() { return *aliases_; }
  key_table& keys() { return *keys_; }
  counter_table& counters() { return *counters_; }
  block_ref_table& block_refs() { return *block_refs_; }
  version_table& versions() { return *versions_; }
  object_table& objects() { return *objects_; }

  // One pass of background maintenance: aborts single-part uploads idle for
  // upload_timeout_secs (no block added for that long), drops old tombstones, deletes unreferenced
  // blocks after block_gc_delay_secs. Returns a one-line summary for the log.
  result<std::string> maintenance(uint64_t now_msec);

 private:
  explicit store(const config& cfg) : cfg_(cfg) {}
  config cfg_;
  std::string node_id_;
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
};

}  // namespace garage::model
