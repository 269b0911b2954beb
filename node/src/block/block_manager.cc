#include "block/block_manager.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

#include "block/block_file.h"
#include "block/block_rc.h"
#include "block/block_store.h"
#include "util/clock.h"
#include "util/log.h"

namespace garage::block {

namespace {

// Per-block locks, striped: they serialise put(), the move-aside of get() and
// the deletion of collect_garbage() on one id. Always taken before a
// transaction is begun, never while one is open.
constexpr size_t lock_stripes = 64;

// Decodes and verifies a stored file against its id.
result<std::string> verify(std::string_view file, const hash256& id) {
  GARAGE_ASSIGN_OR_RETURN(std::string plain, decode_block_file(file));
  if (blake2b_256(plain) != id)
    return error(errc::corrupted, "block " + id.hex() + ": content does not match its hash");
  return plain;
}

result<std::optional<rc_entry>> read_rc(db::transaction& tx, db::tree* rc, const hash256& id) {
  GARAGE_ASSIGN_OR_RETURN(std::optional<std::string> v, tx.get(rc, id.view()));
  if (!v) return std::optional<rc_entry>();
  auto e = decode_rc_entry(*v);
  if (!e) return error(errc::corrupted, "block_rc entry of " + id.hex() + " does not decode");
  return std::optional<rc_entry>(*e);
}

}  // namespace

static std::string resync_key(uint64_t due_msec, const hash256& id) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = static_cast<char>(due_msec >> (56 - 8 * i));
  k.append(id.view());
  return k;
}

struct block_manager::rep {
  block_config cfg;
  db::database& db;
  db::tree* rc = nullptr;
  db::tree* gc = nullptr;
  db::tree* resync = nullptr;
  std::unique_ptr<block_store> store;
  std::array<std::mutex, lock_stripes> stripes;
  std::atomic<uint64_t> corrupted_reads{0};

  rep(const block_config& c, db::database& d) : cfg(c), db(d) {}

  std::mutex& stripe(const hash256& id) { return stripes[id.bytes[0] % lock_stripes]; }
  uint64_t now() const { return cfg.clock ? cfg.clock() : now_msec(); }

  // Restarts the GC delay of a block whose count is zero (creating its entry
  // when it has none); leaves a referenced block alone. Caller holds the stripe.
  result<void> touch(const hash256& id) {
    auto tx = db.begin();
    GARAGE_ASSIGN_OR_RETURN(std::optional<rc_entry> cur, read_rc(*tx, rc, id));
    if (cur && cur->count > 0) return ok();
    rc_entry e;
    uint64_t t = now();
    if (cur) {
      tx->del(gc, encode_gc_key({cur->zero_since_msec, id}));
      t = std::max(t, cur->zero_since_msec);  // a clock step back must not hasten GC
    }
    e.zero_since_msec = t;
    tx->put(rc, id.view(), encode_rc_entry(e));
    tx->put(gc, encode_gc_key({t, id}), encode_gc_value());
    return tx->commit();
  }

  // Called when get() read a corrupted file: re-reads under the block's lock
  // (a concurrent put may have repaired it) and moves the file aside if it is
  // still bad.
  result<std::string> quarantine(const hash256& id, const error& first) {
    std::lock_guard lock(stripe(id));
    GARAGE_ASSIGN_OR_RETURN(std::string file, store->read(id));
    auto plain = verify(file, id);
    if (plain) return plain;
    GARAGE_ASSIGN_OR_RETURN(bool moved, store->move_aside(id));
    if (moved) {
      corrupted_reads.fetch_add(1, std::memory_order_relaxed);
      LOG_WARN("block {}: {}; file moved to {}", id.hex(), first.message, store->corrupted_dir());
    }
    return std::move(plain).error();
  }

  // Deletes one queued block if it is still garbage. Returns whether its file
  // was deleted. Caller holds no transaction.
  result<bool> collect_one(const std::string& key, const gc_key& k) {
    std::lock_guard lock(stripe(k.id));
    auto tx = db.begin();
    GARAGE_ASSIGN_OR_RETURN(std::optional<rc_entry> cur, read_rc(*tx, rc, k.id));
    bool deleted = false;
    // The queue entry is stale when the block was referenced again, or put
    // again (which queued a newer entry).
    if (cur && cur->count == 0 && cur->zero_since_msec == k.zero_since_msec) {
      auto removed = store->remove(k.id);
      if (!removed) {
        LOG_WARN("block gc: {}", removed.error().to_string());
        return false;  // leave it queued; the next pass retries
      }
      deleted = *removed;
      tx->del(rc, k.id.view());
    }
    tx->del(gc, key);
    GARAGE_TRY(tx->commit());
    return deleted;
  }
};

block_manager::block_manager(std::unique_ptr<rep> r) : rep_(std::move(r)) {}
block_manager::~block_manager() = default;

result<std::unique_ptr<block_manager>> block_manager::open(const block_config& cfg,
                                                           db::database& db) {
  auto r = std::make_unique<rep>(cfg, db);
  GARAGE_ASSIGN_OR_RETURN(r->rc, db.open_tree(rc_tree_name));
  GARAGE_ASSIGN_OR_RETURN(r->gc, db.open_tree(gc_tree_name));
  GARAGE_ASSIGN_OR_RETURN(r->resync, db.open_tree("block_resync"));
  GARAGE_ASSIGN_OR_RETURN(r->store, block_store::open(cfg.data_dir, cfg.fsync));
  return std::unique_ptr<block_manager>(new block_manager(std::move(r)));
}

result<void> block_manager::put(const hash256& id, std::string_view data) {
#ifndef NDEBUG
  if (blake2b_256(data) != id)
    return error(errc::invalid_argument, "block put: data does not hash to " + id.hex());
#endif
  rep& r = *rep_;
  std::lock_guard lock(r.stripe(id));
  GARAGE_TRY(r.touch(id));
  auto existing = r.store->read(id);
  if (existing) {
    if (verify(*existing, id)) return ok();
    LOG_WARN("block {}: stored file is corrupted; moved aside and rewritten", id.hex());
    GARAGE_ASSIGN_OR_RETURN(bool moved, r.store->move_aside(id));
    if (moved) r.corrupted_reads.fetch_add(1, std::memory_order_relaxed);
  } else if (existing.error().code != errc::not_found) {
    return std::move(existing).error();
  }
  return r.store->write(id, encode_block_file(data, r.cfg.compression_level));
}

result<std::string> block_manager::get(const hash256& id) {
  GARAGE_ASSIGN_OR_RETURN(std::string file, rep_->store->read(id));
  auto plain = verify(file, id);
  if (plain || plain.error().code != errc::corrupted) return plain;
  return rep_->quarantine(id, plain.error());
}

result<void> block_manager::get_stream(const hash256& id, const piece_sink& sink) {
  block_file_reader reader;
  blake2b_256_hasher hasher;
  bool sink_failed = false;
  auto r = rep_->store->read_pieces(id, 64 * 1024, [&](std::string_view file_bytes) {
    return reader.update(file_bytes, [&](std::string_view plain) -> result<void> {
      hasher.update(plain);
      auto s = sink(plain);
      if (!s) sink_failed = true;
      return s;
    });
  });
  if (r) r = reader.finish();
  if (r && hasher.finish() != id) {
    r = error(errc::corrupted, "block " + id.hex() + ": content does not match its hash");
  }
  if (r || sink_failed || r.error().code != errc::corrupted) return r;
  // Bad bytes on disk: moved aside (unless a concurrent put repaired it).
  auto q = rep_->quarantine(id, r.error());
  return q ? r : std::move(q).error();
}

result<void> block_manager::put_stream(const hash256& id, uint64_t size,
                                       const piece_source& source) {
  rep& r = *rep_;
  // A valid copy is kept as is: nothing to receive.
  if (r.store->exists(id)) {
    auto existing = r.store->read(id);
    if (existing && verify(*existing, id)) {
      std::lock_guard lock(r.stripe(id));
      return r.touch(id);
    }
  }
  // Received into a temp file without the block's lock (a transfer may be
  // slow); the lock is taken only to make it visible.
  GARAGE_ASSIGN_OR_RETURN(auto file, r.store->begin_write(id));
  block_file_writer writer(r.cfg.compression_level, size);
  blake2b_256_hasher hasher;
  uint64_t got = 0;
  for (;;) {
    GARAGE_ASSIGN_OR_RETURN(std::optional<std::string> piece, source());
    if (!piece) break;
    got += piece->size();
    if (got > size) {
      return error(errc::invalid_argument,
                   "block " + id.hex() + ": more data than its size of " + std::to_string(size));
    }
    hasher.update(*piece);
    GARAGE_ASSIGN_OR_RETURN(std::string bytes, writer.update(*piece));
    GARAGE_TRY(file->append(bytes));
  }
  GARAGE_ASSIGN_OR_RETURN(std::string tail, writer.finish());
  if (hasher.finish() != id) {
    return error(errc::invalid_argument, "block " + id.hex() + ": data does not hash to its id");
  }
  GARAGE_TRY(file->append(tail));
  std::lock_guard lock(r.stripe(id));
  GARAGE_TRY(r.touch(id));
  auto existing = r.store->read(id);
  if (existing) {
    if (verify(*existing, id)) return ok();  // written meanwhile: keep it
    LOG_WARN("block {}: stored file is corrupted; moved aside and rewritten", id.hex());
    GARAGE_ASSIGN_OR_RETURN(bool moved, r.store->move_aside(id));
    if (moved) r.corrupted_reads.fetch_add(1, std::memory_order_relaxed);
  } else if (existing.error().code != errc::not_found) {
    return std::move(existing).error();
  }
  return file->commit();
}

bool block_manager::exists(const hash256& id) { return rep_->store->exists(id); }

result<void> block_manager::incref(db::transaction& tx, const hash256& id) {
  rep& r = *rep_;
  GARAGE_ASSIGN_OR_RETURN(std::optional<rc_entry> cur, read_rc(tx, r.rc, id));
  rc_entry e = cur.value_or(rc_entry{});
  if (cur && e.count == 0) tx.del(r.gc, encode_gc_key({e.zero_since_msec, id}));
  if (e.count == 0 && r.cfg.resync_queue) tx.put(r.resync, resync_key(r.now(), id), "");
  e.count += 1;
  e.zero_since_msec = 0;
  tx.put(r.rc, id.view(), encode_rc_entry(e));
  return ok();
}

result<void> block_manager::decref(db::transaction& tx, const hash256& id, uint64_t now_msec) {
  rep& r = *rep_;
  GARAGE_ASSIGN_OR_RETURN(std::optional<rc_entry> cur, read_rc(tx, r.rc, id));
  if (!cur || cur->count == 0) {
    LOG_WARN("block {}: decref of a zero reference count ignored", id.hex());
    return ok();
  }
  rc_entry e = *cur;
  e.count -= 1;
  if (e.count == 0) {
    e.zero_since_msec = now_msec;
    tx.put(r.gc, encode_gc_key({now_msec, id}), encode_gc_value());
  }
  tx.put(r.rc, id.view(), encode_rc_entry(e));
  return ok();
}

result<uint64_t> block_manager::refcount(const hash256& id) {
  GARAGE_ASSIGN_OR_RETURN(std::optional<std::string> v, rep_->db.get(rep_->rc, id.view()));
  if (!v) return uint64_t{0};
  auto e = decode_rc_entry(*v);
  if (!e) return error(errc::corrupted, "block_rc entry of " + id.hex() + " does not decode");
  return e->count;
}

result<size_t> block_manager::collect_garbage(uint64_t now_msec,
                                              const std::function<bool(const hash256&)>& keep) {
  rep& r = *rep_;
  if (now_msec < r.cfg.gc_delay_msec) return size_t{0};
  constexpr size_t batch = 256;
  db::range range{.start = "", .end = gc_key_bound(now_msec - r.cfg.gc_delay_msec), .limit = batch};
  size_t deleted = 0;
  for (;;) {
    GARAGE_ASSIGN_OR_RETURN(std::vector<db::kv> entries, r.db.scan(r.gc, range));
    for (const db::kv& entry : entries) {
      auto k = decode_gc_key(entry.key);
      if (!k) {
        LOG_WARN("block gc: dropping a queue key that does not decode");
        auto tx = r.db.begin();
        tx->del(r.gc, entry.key);
        GARAGE_TRY(tx->commit());
        continue;
      }
      if (keep && keep(k->id)) continue;  // stays queued: asked again next pass
      GARAGE_ASSIGN_OR_RETURN(bool gone, r.collect_one(entry.key, *k));
      if (gone) ++deleted;
    }
    if (entries.size() < batch) break;
    // Continue after the last key seen, so an entry left queued (a file that
    // could not be deleted) is not read again in this pass.
    range.start = entries.back().key + '\0';
  }
  return deleted;
}

result<std::vector<hash256>> block_manager::list_counted(const std::optional<hash256>& after,
                                                         size_t limit) {
  db::range range;
  if (after) range.start = std::string(after->view()) + '\0';
  range.limit = limit;
  GARAGE_ASSIGN_OR_RETURN(auto entries, rep_->db.scan(rep_->rc, range));
  std::vector<hash256> out;
  for (const auto& e : entries)
    if (e.key.size() == 32) out.push_back(hash256::from_raw(e.key));
  return out;
}

result<void> block_manager::queue_resync(const hash256& id, uint64_t due_msec) {
  auto tx = rep_->db.begin();
  tx->put(rep_->resync, resync_key(due_msec, id), "");
  return tx->commit();
}

result<std::vector<hash256>> block_manager::take_resync(uint64_t now_msec, size_t limit) {
  db::range range;
  range.end = resync_key(now_msec + 1, hash256{});
  range.limit = limit;
  auto tx = rep_->db.begin();
  GARAGE_ASSIGN_OR_RETURN(auto entries, tx->scan(rep_->resync, range));
  std::vector<hash256> out;
  for (const auto& e : entries) {
    tx->del(rep_->resync, e.key);
    if (e.key.size() == 40) out.push_back(hash256::from_raw(std::string_view(e.key).substr(8)));
  }
  GARAGE_TRY(tx->commit());
  return out;
}

uint64_t block_manager::resync_queue_length() { return rep_->db.approximate_count(rep_->resync); }

result<bool> block_manager::drop_local(const hash256& id) {
  std::lock_guard lock(rep_->stripe(id));
  return rep_->store->remove(id);
}

block_stats block_manager::stats() {
  block_stats s;
  s.blocks = rep_->store->blocks();
  s.bytes_on_disk = rep_->store->bytes();
  s.gc_queue = rep_->db.approximate_count(rep_->gc);
  s.corrupted_reads = rep_->corrupted_reads.load(std::memory_order_relaxed);
  return s;
}

const block_config& block_manager::config() const { return rep_->cfg; }

}  // namespace garage::block
