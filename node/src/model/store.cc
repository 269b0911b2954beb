#include "model/store.h"

#include <filesystem>

#include "model/object_ops.h"
#include "util/log.h"
#include "util/random.h"

namespace garage::model {

namespace {

result<void> make_dir(const std::string& path, const char* what) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return error(errc::io_error, fmt::format("cannot create {} {}: {}", what, path, ec.message()));
  return ok();
}

// The node id is drawn once and kept in the metadata database.
result<std::string> load_node_id(db::database& db) {
  GARAGE_ASSIGN_OR_RETURN(auto* tree, db.open_tree("node"));
  GARAGE_ASSIGN_OR_RETURN(auto existing, db.get(tree, "id"));
  if (existing) return *existing;
  auto id = random_hex(32);
  auto tx = db.begin();
  tx->put(tree, "id", id);
  GARAGE_TRY(tx->commit());
  return id;
}

}  // namespace

store::~store() = default;

result<std::unique_ptr<store>> store::open(const config& cfg) {
  std::unique_ptr<store> s(new store(cfg));
  GARAGE_TRY(make_dir(cfg.metadata_dir, "metadata_dir"));
  GARAGE_TRY(make_dir(cfg.data_dir, "data_dir"));
  GARAGE_ASSIGN_OR_RETURN(s->db_,
                          db::database::open(cfg.metadata_dir + "/db", {cfg.metadata_fsync}));
  GARAGE_ASSIGN_OR_RETURN(s->node_id_, load_node_id(*s->db_));
  hash256 self;
  hash256::from_hex(s->node_id_, self);
  s->replication_ = std::make_unique<table::local_replication>(self);
  block::block_config bc;
  bc.data_dir = cfg.data_dir;
  bc.fsync = cfg.data_fsync;
  bc.compression_level = cfg.compression_level;
  bc.gc_delay_msec = cfg.block_gc_delay_secs * 1000;
  GARAGE_ASSIGN_OR_RETURN(s->blocks_, block::block_manager::open(bc, *s->db_));

  auto& db = *s->db_;
  auto& repl = *s->replication_;
  GARAGE_ASSIGN_OR_RETURN(s->buckets_, bucket_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->aliases_, alias_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->keys_, key_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->counters_, counter_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->block_refs_,
                          block_ref_table::open(db, block_ref_schema{s->blocks_.get()}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->versions_,
                          version_table::open(db, version_schema{s->block_refs_.get()}, repl));
  GARAGE_ASSIGN_OR_RETURN(
      s->objects_,
      object_table::open(db, object_schema{s->versions_.get(), s->counters_.get(), s->node_id_},
                         repl));
  return s;
}

result<std::string> store::maintenance(uint64_t now) {
  // Uploads that never finished (a crash, a client gone without a trace).
  size_t aborted = 0;
  uint64_t timeout_msec = cfg_.upload_timeout_secs * 1000;
  std::string cursor;
  while (true) {
    std::string last;
    GARAGE_ASSIGN_OR_RETURN(auto page, objects_->scan_all(cursor, 500, &last));
    for (const auto& o : page) {
      for (const auto& v : o.versions) {
        // Multipart uploads may legitimately wait for days between parts;
        // they are aborted by the client (or, later, lifecycle rules).
        if (v.state != version_state::uploading || v.multipart) continue;
        uint64_t last_activity = v.timestamp;
        GARAGE_ASSIGN_OR_RETURN(auto ver, versions_->get(v.id, ""));
        if (ver) last_activity = std::max(last_activity, ver->updated_msec);
        if (last_activity + timeout_msec <= now) {
          GARAGE_TRY(abort_upload(*this, o.bucket_id, o.key, v.id));
          ++aborted;
        }
      }
    }
    if (page.size() < 500) break;
    cursor = last;
  }
  uint64_t delay = cfg_.block_gc_delay_secs * 1000;
  size_t tombstones = 0;
  GARAGE_ASSIGN_OR_RETURN(auto t1, objects_->collect_tombstones(now, delay));
  GARAGE_ASSIGN_OR_RETURN(auto t2, versions_->collect_tombstones(now, delay));
  GARAGE_ASSIGN_OR_RETURN(auto t3, block_refs_->collect_tombstones(now, delay));
  tombstones = t1 + t2 + t3;
  GARAGE_ASSIGN_OR_RETURN(auto blocks, blocks_->collect_garbage(now));
  return fmt::format("aborted {} stale uploads, dropped {} tombstones, deleted {} blocks", aborted,
                     tombstones, blocks);
}

}  // namespace garage::model
