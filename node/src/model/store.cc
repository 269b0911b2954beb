#include "model/store.h"

#include <filesystem>

#include "block/block_net.h"
#include "model/object_ops.h"
#include "table/insert_queue.h"
#include "table/sync.h"
#include "util/clock.h"
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

// The replicated side of a cluster node's tables.
struct store::cluster_parts {
  std::unique_ptr<table::sharded_replication> sharded;
  std::unique_ptr<table::full_replication> full;
  std::unique_ptr<table::replicated_table<bucket_table::schema_type>> buckets;
  std::unique_ptr<table::replicated_table<alias_table::schema_type>> aliases;
  std::unique_ptr<table::replicated_table<key_table::schema_type>> keys;
  std::unique_ptr<table::replicated_table<counter_table::schema_type>> counters;
  std::unique_ptr<table::replicated_table<block_ref_schema>> block_refs;
  std::unique_ptr<table::replicated_table<version_schema>> versions;
  std::unique_ptr<table::replicated_table<object_schema>> objects;
  std::unique_ptr<table::insert_queue<version_schema>> version_queue;
  std::unique_ptr<table::insert_queue<block_ref_schema>> block_ref_queue;
  std::vector<table::table_sync*> syncs;
};

store::store(const config& cfg) : cfg_(cfg) {}
store::~store() = default;

result<std::unique_ptr<store>> store::open(const config& cfg,
                                           std::optional<cluster_options> cluster) {
  std::unique_ptr<store> s(new store(cfg));
  GARAGE_TRY(make_dir(cfg.metadata_dir, "metadata_dir"));
  GARAGE_TRY(make_dir(cfg.data_dir, "data_dir"));
  GARAGE_ASSIGN_OR_RETURN(s->db_,
                          db::database::open(cfg.metadata_dir + "/db", {cfg.metadata_fsync}));
  if (cluster) {
    if (!cluster->net || !cluster->layout)
      return error(errc::invalid_argument, "store: a cluster node needs a transport and a layout");
    s->net_ = cluster->net;
    s->node_id_ = cluster->net->self().hex();
  } else {
    GARAGE_ASSIGN_OR_RETURN(s->node_id_, load_node_id(*s->db_));
  }
  hash256 self;
  hash256::from_hex(s->node_id_, self);
  // The local tables always hold this node's copy, whatever the layout says.
  s->replication_ = std::make_unique<table::local_replication>(self);
  block::block_config bc;
  bc.data_dir = cfg.data_dir;
  bc.fsync = cfg.data_fsync;
  bc.compression_level = cfg.compression_level;
  bc.gc_delay_msec = cfg.block_gc_delay_secs * 1000;
  bc.resync_queue = cluster.has_value();
  GARAGE_ASSIGN_OR_RETURN(s->blocks_, block::block_manager::open(bc, *s->db_));

  auto& db = *s->db_;
  auto& repl = *s->replication_;
  store* sp = s.get();
  emit_fn<block_ref> emit_ref = [sp](db::transaction& tx, const block_ref& r) {
    if (sp->cluster_) return sp->cluster_->block_ref_queue->push(tx, r);
    return sp->block_refs_->insert(tx, r);
  };
  emit_fn<version> emit_version = [sp](db::transaction& tx, const version& v) {
    if (sp->cluster_) return sp->cluster_->version_queue->push(tx, v);
    return sp->versions_->insert(tx, v);
  };
  GARAGE_ASSIGN_OR_RETURN(s->buckets_, bucket_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->aliases_, alias_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->keys_, key_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->counters_, counter_table::open(db, {}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->block_refs_,
                          block_ref_table::open(db, block_ref_schema{s->blocks_.get()}, repl));
  GARAGE_ASSIGN_OR_RETURN(s->versions_, version_table::open(db, version_schema{emit_ref}, repl));
  GARAGE_ASSIGN_OR_RETURN(
      s->objects_,
      object_table::open(db, object_schema{emit_version, s->counters_.get(), s->node_id_}, repl));
  if (cluster) {
    // A live block reference dropped from this node (its partition moved to
    // other nodes) no longer counts here: the block can then be handed over
    // and, once unreferenced everywhere, collected.
    block::block_manager* blocks = s->blocks_.get();
    s->block_refs_->store().on_drop(
        [blocks](db::transaction& tx, std::string_view bytes) -> result<void> {
          auto r = block_ref::decode(bytes);
          if (!r) return ok();  // undecodable: counted nothing
          if (r->deleted) return ok();
          return blocks->decref(tx, r->block, now_msec());
        });
    GARAGE_TRY(s->open_cluster(*cluster));
    auto& c = *s->cluster_;
    auto* full = c.full.get();
    auto all = [full] { return full->all_nodes(); };
    s->m_buckets_ =
        std::make_unique<mtable_of<bucket_table>>(*s->buckets_, c.buckets.get(), true, all);
    s->m_aliases_ =
        std::make_unique<mtable_of<alias_table>>(*s->aliases_, c.aliases.get(), true, all);
    s->m_keys_ = std::make_unique<mtable_of<key_table>>(*s->keys_, c.keys.get(), true, all);
    s->m_counters_ =
        std::make_unique<mtable_of<counter_table>>(*s->counters_, c.counters.get(), false);
    s->m_block_refs_ =
        std::make_unique<mtable_of<block_ref_table>>(*s->block_refs_, c.block_refs.get(), false);
    s->m_versions_ =
        std::make_unique<mtable_of<version_table>>(*s->versions_, c.versions.get(), false);
    s->m_objects_ = std::make_unique<mtable_of<object_table>>(*s->objects_, c.objects.get(), false);
  } else {
    s->m_buckets_ = std::make_unique<mtable_of<bucket_table>>(*s->buckets_, nullptr, true);
    s->m_aliases_ = std::make_unique<mtable_of<alias_table>>(*s->aliases_, nullptr, true);
    s->m_keys_ = std::make_unique<mtable_of<key_table>>(*s->keys_, nullptr, true);
    s->m_counters_ = std::make_unique<mtable_of<counter_table>>(*s->counters_, nullptr, false);
    s->m_block_refs_ =
        std::make_unique<mtable_of<block_ref_table>>(*s->block_refs_, nullptr, false);
    s->m_versions_ = std::make_unique<mtable_of<version_table>>(*s->versions_, nullptr, false);
    s->m_objects_ = std::make_unique<mtable_of<object_table>>(*s->objects_, nullptr, false);
  }
  return s;
}

result<void> store::open_cluster(const cluster_options& co) {
  auto c = std::make_unique<cluster_parts>();
  hash256 self;
  hash256::from_hex(node_id_, self);
  c->sharded = std::make_unique<table::sharded_replication>(co.layout, co.mode, co.writes);
  c->full = std::make_unique<table::full_replication>(self, co.layout, co.writes);
  rpc::transport& net = *co.net;
  // Table traffic is small and latency-bound: normal priority, so it is never
  // queued behind block transfers (background).
  rpc::call_options opts{rpc::priority::normal, std::chrono::seconds(10)};
  auto make = [&](auto& local, const table::replication& r) {
    using S = typename std::remove_reference_t<decltype(local)>::schema_type;
    return std::make_unique<table::replicated_table<S>>(local, r, net, opts);
  };
  c->buckets = make(*buckets_, *c->full);
  c->aliases = make(*aliases_, *c->full);
  c->keys = make(*keys_, *c->full);
  c->counters = make(*counters_, *c->sharded);
  c->block_refs = make(*block_refs_, *c->sharded);
  c->versions = make(*versions_, *c->sharded);
  c->objects = make(*objects_, *c->sharded);
  auto enable = [&](auto& rt) -> result<void> {
    GARAGE_ASSIGN_OR_RETURN(auto* sy, rt->enable_sync());
    c->syncs.push_back(sy);
    return ok();
  };
  GARAGE_TRY(enable(c->buckets));
  GARAGE_TRY(enable(c->aliases));
  GARAGE_TRY(enable(c->keys));
  GARAGE_TRY(enable(c->counters));
  GARAGE_TRY(enable(c->block_refs));
  GARAGE_TRY(enable(c->versions));
  GARAGE_TRY(enable(c->objects));
  GARAGE_ASSIGN_OR_RETURN(c->version_queue,
                          table::insert_queue<version_schema>::open(*db_, *c->versions));
  GARAGE_ASSIGN_OR_RETURN(c->block_ref_queue,
                          table::insert_queue<block_ref_schema>::open(*db_, *c->block_refs));
  block_net_ = std::make_unique<block::block_net>(*blocks_, co.layout, co.mode, net);
  block_net_->track_writes(co.writes);
  cluster_ = std::move(c);
  return ok();
}

std::unique_ptr<meta_tx> store::begin() {
  if (cluster_) return std::make_unique<meta_tx>();
  return std::make_unique<meta_tx>(db_->begin());
}

result<std::string> store::get_block(const hash256& id) {
  if (block_net_) return block_net_->get(id);
  return blocks_->get(id);
}

result<void> store::put_block(const hash256& id, std::string_view data) {
  if (block_net_) return block_net_->put(id, data);
  return blocks_->put(id, data);
}

std::vector<table::table_sync*> store::sync_tables() {
  if (!cluster_) return {};
  return cluster_->syncs;
}

result<size_t> store::drain_queues(size_t max) {
  if (!cluster_) return size_t{0};
  // Versions first: their hooks queue block references.
  GARAGE_ASSIGN_OR_RETURN(size_t a, cluster_->version_queue->drain(max));
  GARAGE_ASSIGN_OR_RETURN(size_t b, cluster_->block_ref_queue->drain(max));
  return a + b;
}

std::vector<table_counters> store::table_metrics() {
  std::vector<table_counters> out;
  if (!cluster_) return out;
  auto add = [&](auto& rt) {
    table_counters t;
    t.name = rt->local().store().name();
    t.gets = rt->gets();
    t.get_errors = rt->get_errors();
    t.puts = rt->puts();
    t.put_errors = rt->put_errors();
    t.read_repairs = rt->repairs_sent();
    if (auto* sy = rt->sync()) {
      auto tot = sy->totals();
      t.sync_rounds = tot.rounds;
      t.sync_pushed = tot.items_pushed;
      t.sync_offloaded = tot.items_offloaded;
      t.sync_errors = tot.errors;
      t.merkle_pending = sy->merkle().pending();
    }
    t.entries = rt->local().store().approximate_count();
    out.push_back(std::move(t));
  };
  auto& c = *cluster_;
  add(c.buckets);
  add(c.aliases);
  add(c.keys);
  add(c.counters);
  add(c.block_refs);
  add(c.versions);
  add(c.objects);
  return out;
}

uint64_t store::queued_inserts() const {
  if (!cluster_) return 0;
  return cluster_->version_queue->length() + cluster_->block_ref_queue->length();
}

result<std::string> store::maintenance(uint64_t now) {
  // Uploads that never finished (a crash, a client gone without a trace).
  size_t aborted = 0;
  uint64_t timeout_msec = cfg_.upload_timeout_secs * 1000;
  std::string cursor;
  while (true) {
    std::string last;
    // This node's copy: in a cluster each replica sweeps its own (an abort is
    // idempotent).
    GARAGE_ASSIGN_OR_RETURN(auto page, objects_->scan_all(cursor, 500, &last));
    for (const auto& o : page) {
      for (const auto& v : o.versions) {
        // Multipart uploads may legitimately wait for days between parts;
        // they are aborted by the client (or, later, lifecycle rules).
        if (v.state != version_state::uploading || v.multipart) continue;
        uint64_t last_activity = v.timestamp;
        GARAGE_ASSIGN_OR_RETURN(auto ver, m_versions_->get(v.id, ""));
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
  // Versions whose object entry never arrived (cluster only: a PUT writes
  // its blocks' version side by side with the upload's object entry, and a
  // crash in between leaves a version that holds references nothing would
  // release). Such a version is idle for upload_timeout_secs and its object
  // does not list it: every other way out of an object entry (a newer
  // version, a delete, an abort) deletes the version. The object is asked of
  // a quorum before anything is deleted.
  // It reads every local version, so it runs once per upload_timeout_secs,
  // not at every pass: an orphan waits that long anyway.
  size_t orphans = 0;
  if (cluster_ && (last_orphan_sweep_msec_ == 0 || now >= last_orphan_sweep_msec_ + timeout_msec)) {
    last_orphan_sweep_msec_ = now;
    std::string vcursor;
    while (true) {
      std::string last;
      GARAGE_ASSIGN_OR_RETURN(auto page, versions_->scan_all(vcursor, 500, &last));
      for (const auto& ver : page) {
        if (ver.deleted || (ver.blocks.empty() && ver.parts.empty())) continue;
        if (ver.updated_msec == 0 || ver.updated_msec + timeout_msec > now) continue;
        auto listed = [&](const std::optional<object>& o) {
          return o && o->find(ver.id) != nullptr;
        };
        GARAGE_ASSIGN_OR_RETURN(auto local, m_objects_->get_local(ver.bucket_id, ver.key));
        if (listed(local)) continue;
        auto remote = m_objects_->get(ver.bucket_id, ver.key);
        if (!remote) {
          LOG_WARN("maintenance: version {}: object not readable: {}", ver.id,
                   remote.error().to_string());
          continue;
        }
        if (listed(*remote)) continue;
        version tomb;
        tomb.id = ver.id;
        tomb.deleted = true;
        tomb.bucket_id = ver.bucket_id;
        tomb.key = ver.key;
        auto tx = begin();
        GARAGE_TRY(m_versions_->insert(*tx, tomb));
        GARAGE_TRY(tx->commit());
        ++orphans;
      }
      if (page.size() < 500) break;
      vcursor = last;
    }
  }
  uint64_t delay = cfg_.block_gc_delay_secs * 1000;
  size_t tombstones = 0;
  // In a cluster, tombstones go only once every replica has them (the
  // tombstone GC worker, through table_sync).
  if (!cluster_) {
    GARAGE_ASSIGN_OR_RETURN(auto t1, objects_->collect_tombstones(now, delay));
    GARAGE_ASSIGN_OR_RETURN(auto t2, versions_->collect_tombstones(now, delay));
    GARAGE_ASSIGN_OR_RETURN(auto t3, block_refs_->collect_tombstones(now, delay));
    tombstones = t1 + t2 + t3;
  }
  std::function<bool(const hash256&)> keep;
  if (block_net_) {
    keep = [this, now](const hash256& id) { return block_net_->keep_for_owners(id, now); };
  }
  GARAGE_ASSIGN_OR_RETURN(auto blocks, blocks_->collect_garbage(now, keep));
  return fmt::format(
      "aborted {} stale uploads, deleted {} orphan versions, dropped {} tombstones, deleted {} "
      "blocks",
      aborted, orphans, tombstones, blocks);
}

}  // namespace garage::model
