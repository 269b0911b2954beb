// table_store: the byte-level half of a table, shared by every table<S>
// instantiation so that the template stays small. It owns nothing but two
// trees of a database:
//   <name>          storage key → encoded entry
//   <name>:gc_todo  u64be(time it became a tombstone) + storage key
//                   → version byte + blake2b_256 of the tombstone's bytes
// A storage key is blake2b_256(partition key) (32 raw bytes) followed by the
// sort key, so a partition is one contiguous range in sort-key order.
//
// Thread-safety: as db::database. Lifetime: the database and the replication
// must outlive the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/db.h"
#include "table/merkle.h"
#include "table/replication.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::table {

class table_store {
 public:
  static result<std::unique_ptr<table_store>> open(db::database& db, std::string_view name,
                                                   const replication& repl);

  static std::string storage_key(const hash256& partition_hash, std::string_view sort_key);
  // The bounds of one partition's storage keys: [prefix, end); end is nullopt
  // only for the all-0xff hash.
  static std::string partition_prefix(const hash256& partition_hash);
  static std::optional<std::string> partition_end(const hash256& partition_hash);

  const std::string& name() const { return name_; }
  db::database& db() const { return db_; }
  const replication& repl() const { return repl_; }

  // errc::unavailable unless this node alone stores the partition with a
  // quorum of one: writes and reads that need other nodes are not built yet.
  result<void> check_local_write(const hash256& partition_hash) const;
  result<void> check_local_read(const hash256& partition_hash) const;

  // Reads a stored entry: committed state when tx is null, else through tx.
  result<std::optional<std::string>> get(db::transaction* tx, std::string_view key) const;
  result<std::vector<db::kv>> scan(const db::range& r) const;
  // Writes an entry's new bytes; a tombstone also gets a GC record stamped now_msec.
  void put(db::transaction& tx, std::string_view key, std::string_view bytes, bool tombstone,
           uint64_t now_msec) const;
  // See table::collect_tombstones. With `confirm` (replicated tables), a due
  // tombstone is deleted only after confirm(storage key, bytes) succeeded,
  // which makes every other replica hold it and drop it; confirm runs outside
  // any transaction. A tombstone whose confirmation fails stays for a later round.
  using confirm_fn = std::function<result<void>(const std::string& key, const std::string& bytes)>;
  result<size_t> collect_tombstones(uint64_t now_msec, uint64_t delay_msec,
                                    const confirm_fn& confirm = nullptr) const;
  // Deletes the entry at key if its stored bytes still hash to `bytes_hash`
  // (nothing newer arrived); returns whether it did. For offloading and for a
  // peer's tombstone collection. No hook runs.
  result<bool> remove_if_unchanged(std::string_view key, const hash256& bytes_hash) const;
  // Runs in the transaction that drops an entry through remove_if_unchanged
  // (offload to new owners, tombstone GC), with the dropped bytes: the effects
  // an entry had on this node (a block reference count) go with it. Set once,
  // before the store is used.
  using drop_fn = std::function<result<void>(db::transaction&, std::string_view bytes)>;
  void on_drop(drop_fn fn) { on_drop_ = std::move(fn); }

  // Keeps a Merkle tree of the entries from now on (replicated tables; call
  // before the table is used). Entries stored before are added by
  // rebuild_merkle().
  result<merkle_tree*> enable_merkle();
  merkle_tree* merkle() const { return merkle_.get(); }
  // Queues every stored entry for the Merkle tree (after enabling it on a
  // table that has data and no tree yet).
  result<void> rebuild_merkle() const;
  uint64_t approximate_count() const { return db_.approximate_count(data_); }

  // errc::corrupted naming the table and the key.
  error corrupted(std::string_view key, std::string_view why) const;

 private:
  table_store(db::database& db, std::string name, const replication& repl, db::tree* data,
              db::tree* gc);
  result<void> check_local(const hash256& partition_hash, size_t quorum, const char* what) const;

  db::database& db_;
  std::string name_;
  const replication& repl_;
  db::tree* data_;
  db::tree* gc_;
  std::unique_ptr<merkle_tree> merkle_;
  drop_fn on_drop_;
};

}  // namespace garage::table
