#include "table/table_store.h"

#include "util/codec.h"
#include "util/encoding.h"
#include "util/log.h"

namespace garage::table {
namespace {

constexpr uint8_t gc_record_version = 1;
constexpr size_t gc_batch = 1000;

std::string gc_key(uint64_t time, std::string_view storage_key) {
  encoder e;
  e.u64be(time);
  e.raw(storage_key);
  return e.take();
}

std::string gc_value(std::string_view bytes) {
  encoder e;
  e.u8(gc_record_version);
  e.raw(blake2b_256(bytes).view());
  return e.take();
}

}  // namespace

table_store::table_store(db::database& db, std::string name, const replication& repl,
                         db::tree* data, db::tree* gc)
    : db_(db), name_(std::move(name)), repl_(repl), data_(data), gc_(gc) {}

result<std::unique_ptr<table_store>> table_store::open(db::database& db, std::string_view name,
                                                       const replication& repl) {
  GARAGE_ASSIGN_OR_RETURN(db::tree * data, db.open_tree(name));
  GARAGE_ASSIGN_OR_RETURN(db::tree * gc, db.open_tree(std::string(name) + ":gc_todo"));
  return std::unique_ptr<table_store>(new table_store(db, std::string(name), repl, data, gc));
}

std::string table_store::storage_key(const hash256& partition_hash, std::string_view sort_key) {
  std::string k;
  k.reserve(32 + sort_key.size());
  k.append(partition_hash.view());
  k.append(sort_key);
  return k;
}

std::string table_store::partition_prefix(const hash256& partition_hash) {
  return std::string(partition_hash.view());
}

std::optional<std::string> table_store::partition_end(const hash256& partition_hash) {
  std::string end(partition_hash.view());
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c != 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

result<void> table_store::check_local(const hash256& partition_hash, size_t quorum,
                                      const char* what) const {
  auto nodes = repl_.storage_nodes(partition_hash);
  if (nodes.size() != 1 || quorum != 1)
    return error(errc::unavailable, "table " + name_ + ": " + what + " on " +
                                        std::to_string(nodes.size()) + " nodes with quorum " +
                                        std::to_string(quorum) +
                                        " is not supported (single node only)");
  return ok();
}

result<void> table_store::check_local_write(const hash256& partition_hash) const {
  return check_local(partition_hash, repl_.write_quorum(), "write");
}

result<void> table_store::check_local_read(const hash256& partition_hash) const {
  return check_local(partition_hash, repl_.read_quorum(), "read");
}

result<std::optional<std::string>> table_store::get(db::transaction* tx,
                                                    std::string_view key) const {
  return tx ? tx->get(data_, key) : db_.get(data_, key);
}

result<std::vector<db::kv>> table_store::scan(const db::range& r) const {
  return db_.scan(data_, r);
}

void table_store::put(db::transaction& tx, std::string_view key, std::string_view bytes,
                      bool tombstone, uint64_t now_msec) const {
  tx.put(data_, key, bytes);
  if (merkle_) merkle_->note_change(tx, key, bytes);
  // A record per tombstone write; one left behind by a later change no longer
  // matches the stored bytes and is dropped by collect_tombstones.
  if (tombstone) tx.put(gc_, gc_key(now_msec, key), gc_value(bytes));
}

result<size_t> table_store::collect_tombstones(uint64_t now_msec, uint64_t delay_msec,
                                               const confirm_fn& confirm) const {
  if (now_msec < delay_msec) return size_t{0};
  const uint64_t cutoff = now_msec - delay_msec;  // records stamped at or before it are due
  db::range due;
  if (cutoff != UINT64_MAX) due.end = gc_key(cutoff + 1, "");
  due.limit = gc_batch;
  size_t removed = 0;
  if (confirm) {
    // Replicated: confirm each due tombstone with the other replicas first
    // (network, so outside any transaction), then delete it if unchanged.
    std::string after;
    for (;;) {
      db::range page = due;
      if (!after.empty()) page.start = after + '\0';
      GARAGE_ASSIGN_OR_RETURN(auto records, db_.scan(gc_, page));
      for (const auto& rec : records) {
        decoder d(rec.value);
        bool valid = rec.key.size() >= 8 && d.u8() == gc_record_version;
        auto want = d.raw(32);
        auto key =
            std::string(std::string_view(rec.key).substr(std::min<size_t>(8, rec.key.size())));
        GARAGE_ASSIGN_OR_RETURN(auto current, db_.get(data_, key));
        bool live = valid && d.complete() && current && blake2b_256(*current).view() == want;
        if (live) {
          if (auto c = confirm(key, *current); !c) {
            LOG_DEBUG("table {}: tombstone {} kept for now: {}", name_, hex_encode(key),
                      c.error().to_string());
            continue;  // the record stays: retried next round
          }
          GARAGE_ASSIGN_OR_RETURN(bool gone, remove_if_unchanged(key, hash256::from_raw(want)));
          removed += gone;
        }
        auto tx = db_.begin();
        tx->del(gc_, rec.key);
        GARAGE_TRY(tx->commit());
      }
      if (records.size() < gc_batch) break;
      after = records.back().key;
    }
    return removed;
  }
  for (;;) {
    auto tx = db_.begin();
    GARAGE_ASSIGN_OR_RETURN(auto records, tx->scan(gc_, due));
    for (const auto& rec : records) {
      tx->del(gc_, rec.key);
      decoder d(rec.value);
      bool valid = rec.key.size() >= 8 && d.u8() == gc_record_version;
      auto want = d.raw(32);
      if (!valid || !d.complete()) {
        LOG_WARN("table {}: dropping malformed tombstone record {}", name_, hex_encode(rec.key));
        continue;
      }
      auto key = std::string_view(rec.key).substr(8);
      GARAGE_ASSIGN_OR_RETURN(auto current, tx->get(data_, key));
      if (current && blake2b_256(*current).view() == want) {
        tx->del(data_, key);
        if (merkle_) merkle_->note_change(*tx, key, std::nullopt);
        ++removed;
      }
    }
    GARAGE_TRY(tx->commit());
    if (records.size() < gc_batch) break;
  }
  return removed;
}

result<bool> table_store::remove_if_unchanged(std::string_view key,
                                              const hash256& bytes_hash) const {
  auto tx = db_.begin();
  GARAGE_ASSIGN_OR_RETURN(auto current, tx->get(data_, key));
  if (!current || blake2b_256(*current) != bytes_hash) return false;
  tx->del(data_, key);
  if (merkle_) merkle_->note_change(*tx, key, std::nullopt);
  if (on_drop_) GARAGE_TRY(on_drop_(*tx, *current));
  GARAGE_TRY(tx->commit());
  return true;
}

result<merkle_tree*> table_store::enable_merkle() {
  if (!merkle_) {
    GARAGE_ASSIGN_OR_RETURN(merkle_, merkle_tree::open(db_, name_));
  }
  return merkle_.get();
}

result<void> table_store::rebuild_merkle() const {
  if (!merkle_) return error(errc::internal, "table " + name_ + ": no Merkle tree");
  db::range r;
  r.limit = 1000;
  for (;;) {
    GARAGE_ASSIGN_OR_RETURN(auto batch, db_.scan(data_, r));
    auto tx = db_.begin();
    for (const auto& kv : batch) merkle_->note_change(*tx, kv.key, kv.value);
    GARAGE_TRY(tx->commit());
    if (batch.size() < r.limit) return ok();
    r.start = batch.back().key + '\0';
  }
}

error table_store::corrupted(std::string_view key, std::string_view why) const {
  return error(errc::corrupted,
               "table " + name_ + ": entry " + hex_encode(key) + ": " + std::string(why));
}

}  // namespace garage::table
