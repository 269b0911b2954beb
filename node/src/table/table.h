// table<S>: a table of CRDT entries keyed by (partition key, sort key), stored
// in the db tree S::name. Inserting merges the new entry with the stored one
// (see schema.h for what S and its entries provide), so inserts commute and
// may be repeated.
//
// Placement and quorums come from a `replication`, consulted on every insert
// and get; for now only a single local node is supported and anything else
// fails with errc::unavailable. Tombstones are kept until collect_tombstones
// forgets them.
//
// Errors: errc::io_error / corrupted from the db; errc::corrupted naming the
// table when stored bytes do not decode; whatever the schema's hook returns.
// Thread-safety: every method may be called from any thread; inserts are
// serialised by the database's transaction lock. The database, the
// replication and whatever the schema refers to must outlive the table.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/db.h"
#include "table/replication.h"
#include "table/schema.h"
#include "table/table_store.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::table {

template <table_schema S>
class table {
 public:
  using entry = typename S::entry;
  using schema_type = S;

  struct range_query {
    // First sort key (inclusive). In reverse order the last one, inclusive;
    // empty then means from the end of the partition.
    std::string start_sk{};
    bool reverse = false;
    size_t limit = 1000;
    // Keeps an entry when it returns true; null keeps all.
    std::function<bool(const entry&)> filter{};
    bool include_tombstones = false;
  };

  // Opens (creating if absent) the trees of S::name.
  static result<std::unique_ptr<table>> open(db::database& db, S schema, const replication& repl) {
    GARAGE_ASSIGN_OR_RETURN(auto store, table_store::open(db, S::name, repl));
    return std::unique_ptr<table>(new table(std::move(store), std::move(schema)));
  }

  // Merges e with what is stored and writes the result, in its own transaction.
  // Must not be called from a schema hook (use the transaction overload).
  result<void> insert(const entry& e) {
    auto tx = store_->db().begin();
    GARAGE_TRY(insert(*tx, e));
    return tx->commit();
  }

  // The same inside the caller's transaction; the caller commits. When the
  // stored bytes do not change nothing is written and the hook is not called.
  result<void> insert(db::transaction& tx, const entry& e) {
    const hash256 partition = blake2b_256(e.partition_key());
    GARAGE_TRY(store_->check_local_write(partition));
    const std::string key = table_store::storage_key(partition, e.sort_key());
    GARAGE_ASSIGN_OR_RETURN(auto old_bytes, store_->get(&tx, key));
    std::optional<entry> old;
    if (old_bytes) {
      GARAGE_ASSIGN_OR_RETURN(old, decode(key, *old_bytes));
    }
    entry now = old ? *old : e;
    if (old) now.merge(e);
    const std::string bytes = now.encode();
    if (old_bytes && *old_bytes == bytes) return ok();
    store_->put(tx, key, bytes, now.is_tombstone(), now_msec());
    return schema_.updated(tx, old ? &*old : nullptr, now);
  }

  // Inserts all of es in one transaction: all or nothing.
  result<void> insert_many(std::span<const entry> es) {
    auto tx = store_->db().begin();
    for (const auto& e : es) GARAGE_TRY(insert(*tx, e));
    return tx->commit();
  }

  // The entry at (pk, sk), tombstones included; nullopt when there is none.
  result<std::optional<entry>> get(std::string_view pk, std::string_view sk) {
    return get_at(nullptr, pk, sk);
  }
  // The same through the caller's transaction (sees its uncommitted writes).
  result<std::optional<entry>> get(db::transaction& tx, std::string_view pk, std::string_view sk) {
    return get_at(&tx, pk, sk);
  }

  // Entries of partition pk with sort key >= q.start_sk (<= in reverse), in
  // sort-key order (reversed in reverse), kept by q.filter, at most q.limit.
  // Tombstones are skipped unless q.include_tombstones.
  result<std::vector<entry>> get_range(std::string_view pk, const range_query& q) {
    std::vector<entry> out;
    const hash256 partition = blake2b_256(pk);
    GARAGE_TRY(store_->check_local_read(partition));
    if (q.limit == 0) return out;
    db::range r;
    r.reverse = q.reverse;
    if (!q.reverse) {
      r.start = table_store::storage_key(partition, q.start_sk);
      r.end = table_store::partition_end(partition);
    } else {
      r.start = table_store::partition_prefix(partition);
      if (q.start_sk.empty()) {
        r.end = table_store::partition_end(partition);
      } else {
        r.end = table_store::storage_key(partition, q.start_sk);
        r.end->push_back('\0');  // inclusive of start_sk
      }
    }
    // Filtered-out entries do not count: read in batches until full.
    r.limit = std::max<size_t>(q.limit, 64);
    for (;;) {
      GARAGE_ASSIGN_OR_RETURN(auto batch, store_->scan(r));
      for (const auto& kv : batch) {
        GARAGE_ASSIGN_OR_RETURN(entry e, decode(kv.key, kv.value));
        if (!q.include_tombstones && e.is_tombstone()) continue;
        if (q.filter && !q.filter(e)) continue;
        out.push_back(std::move(e));
        if (out.size() == q.limit) return out;
      }
      if (batch.size() < r.limit) return out;
      if (!q.reverse) {
        r.start = batch.back().key;
        r.start.push_back('\0');
      } else {
        r.end = batch.back().key;
      }
    }
  }

  // Every entry in storage order (tombstones included), starting after the
  // storage key `after_storage_key` (empty: from the start), at most limit of
  // them. *last_storage_key (if not null) receives the key of the last entry
  // returned, to pass as `after_storage_key` for the next page; it is left
  // unchanged when the page is empty.
  result<std::vector<entry>> scan_all(std::string_view after_storage_key, size_t limit,
                                      std::string* last_storage_key) {
    std::vector<entry> out;
    if (limit == 0) return out;
    db::range r;
    r.start = std::string(after_storage_key);
    if (!after_storage_key.empty()) r.start.push_back('\0');
    r.limit = limit;
    GARAGE_ASSIGN_OR_RETURN(auto batch, store_->scan(r));
    out.reserve(batch.size());
    for (const auto& kv : batch) {
      GARAGE_ASSIGN_OR_RETURN(entry e, decode(kv.key, kv.value));
      out.push_back(std::move(e));
    }
    if (last_storage_key && !batch.empty()) *last_storage_key = std::move(batch.back().key);
    return out;
  }

  // Deletes the entries that became tombstones at least delay_msec before
  // now_msec and are unchanged since; returns how many. The schema's hook is
  // not called: a tombstone's effects were applied when it was written.
  result<size_t> collect_tombstones(uint64_t now_msec, uint64_t delay_msec) {
    return store_->collect_tombstones(now_msec, delay_msec);
  }

  // blake2b_256(pk) as 32 raw bytes, then sk.
  static std::string storage_key(std::string_view pk, std::string_view sk) {
    return table_store::storage_key(blake2b_256(pk), sk);
  }

  std::string_view name() const { return store_->name(); }
  // The byte-level store (for anti-entropy, which works on stored bytes).
  table_store& store() { return *store_; }
  const replication& repl() const { return store_->repl(); }
  S& schema() { return schema_; }
  const S& schema() const { return schema_; }
  // An estimate of the number of stored entries, tombstones included.
  uint64_t approximate_count() const { return store_->approximate_count(); }

 private:
  table(std::unique_ptr<table_store> store, S schema)
      : store_(std::move(store)), schema_(std::move(schema)) {}

  result<std::optional<entry>> get_at(db::transaction* tx, std::string_view pk,
                                      std::string_view sk) {
    const hash256 partition = blake2b_256(pk);
    GARAGE_TRY(store_->check_local_read(partition));
    const std::string key = table_store::storage_key(partition, sk);
    GARAGE_ASSIGN_OR_RETURN(auto bytes, store_->get(tx, key));
    if (!bytes) return std::optional<entry>();
    GARAGE_ASSIGN_OR_RETURN(entry e, decode(key, *bytes));
    return std::optional<entry>(std::move(e));
  }

  result<entry> decode(std::string_view key, std::string_view bytes) const {
    auto r = entry::decode(bytes);
    if (!r) return store_->corrupted(key, r.error().message);
    return r;
  }

  std::unique_ptr<table_store> store_;
  S schema_;
};

}  // namespace garage::table
