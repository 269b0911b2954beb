#include "garage/cluster_metrics.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <set>
#include <string>

#include "block/block_net.h"
#include "layout/health.h"

namespace garage {

namespace {

using family = prometheus::Family<prometheus::Gauge>;

family& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

prometheus::Gauge& single(prometheus::Registry& r, const char* name, const char* help) {
  return gauge(r, name, help).Add({});
}

constexpr const char* kWorkerStates[] = {"busy", "idle", "done", "error", "stopped"};

}  // namespace

struct cluster_metrics::rep {
  explicit rep(prometheus::Registry& r)
      : table_gets(gauge(r, "garage_table_gets",
                         "Quorum reads of a replicated table since start (a get or a range page)")),
        table_get_errors(
            gauge(r, "garage_table_get_errors", "Quorum reads of a replicated table that failed")),
        table_puts(gauge(r, "garage_table_puts",
                         "Entries written to a replicated table with a write quorum since start")),
        table_put_errors(
            gauge(r, "garage_table_put_errors", "Quorum writes to a replicated table that failed")),
        table_repairs(gauge(r, "garage_table_read_repairs",
                            "Read repairs sent to replicas that answered an older entry")),
        sync_rounds(gauge(r, "garage_table_sync_rounds", "Anti-entropy rounds of a table")),
        sync_pushed(gauge(r, "garage_table_sync_items_pushed",
                          "Entries pushed to other replicas by anti-entropy")),
        sync_offloaded(gauge(r, "garage_table_sync_items_offloaded",
                             "Entries handed over to their new nodes after a layout change")),
        sync_errors(gauge(r, "garage_table_sync_errors",
                          "Anti-entropy steps that failed (peer down, call failed)")),
        merkle_pending(gauge(r, "garage_table_merkle_pending",
                             "Changes not yet folded into a table's Merkle trie")),
        table_entries(gauge(r, "garage_table_entries",
                            "Local entries of a table (RocksDB estimate), tombstones included")),
        insert_queue(single(r, "garage_table_insert_queue_length",
                            "Entries queued by hooks for tables stored on other nodes")),
        resync_queue(single(r, "garage_block_resync_queue_length",
                            "Blocks waiting in the resync queue (due now or later)")),
        resync_fetched(single(r, "garage_block_resync_fetched",
                              "Blocks this node lacked and fetched from a peer")),
        resync_offloaded(single(r, "garage_block_resync_offloaded",
                                "Blocks handed over to their owners and deleted here")),
        resync_errors(single(r, "garage_block_resync_errors",
                             "Resync attempts that failed (the block is retried later)")),
        scrub_checked(single(r, "garage_block_scrub_checked", "Block references checked by scrub")),
        scrub_corrupted(
            single(r, "garage_block_scrub_corrupted", "Corrupt local block copies found by scrub")),
        scrub_missing(single(r, "garage_block_scrub_missing",
                             "Referenced blocks whose local copy was missing at scrub")),
        worker_queue(gauge(r, "garage_worker_queue_length",
                           "Items waiting for a background worker (workers with a queue)")),
        worker_errors(
            gauge(r, "garage_worker_errors", "Failed steps of a background worker since start")),
        worker_consecutive(gauge(r, "garage_worker_consecutive_errors",
                                 "Failed steps of a background worker since its last success")),
        worker_state(gauge(r, "garage_worker_state",
                           "1 for a background worker's current state (busy, idle, done, error, "
                           "stopped), 0 for the others")),
        layout_version(
            single(r, "garage_cluster_layout_version", "Current cluster layout version")),
        storage_nodes(single(r, "garage_cluster_storage_nodes",
                             "Storage nodes of the current layout version")),
        storage_nodes_ok(single(r, "garage_cluster_storage_nodes_ok",
                                "Storage nodes of the current layout that are up")),
        partitions(single(r, "garage_cluster_partitions",
                          "Partitions of the layout (256, 0 before a layout is applied)")),
        partitions_quorum(single(r, "garage_cluster_partitions_quorum",
                                 "Partitions with a write quorum of nodes up in every live layout "
                                 "version (writable)")),
        partitions_all_ok(single(r, "garage_cluster_partitions_all_ok",
                                 "Partitions with every node of every live layout version up")),
        healthy(single(r, "garage_cluster_healthy",
                       "1 if every partition has a quorum and every storage node is up")),
        available(
            single(r, "garage_cluster_available", "1 if every partition has a write quorum up")) {}

  family& table_gets;
  family& table_get_errors;
  family& table_puts;
  family& table_put_errors;
  family& table_repairs;
  family& sync_rounds;
  family& sync_pushed;
  family& sync_offloaded;
  family& sync_errors;
  family& merkle_pending;
  family& table_entries;
  prometheus::Gauge& insert_queue;
  prometheus::Gauge& resync_queue;
  prometheus::Gauge& resync_fetched;
  prometheus::Gauge& resync_offloaded;
  prometheus::Gauge& resync_errors;
  prometheus::Gauge& scrub_checked;
  prometheus::Gauge& scrub_corrupted;
  prometheus::Gauge& scrub_missing;
  family& worker_queue;
  family& worker_errors;
  family& worker_consecutive;
  family& worker_state;
  prometheus::Gauge& layout_version;
  prometheus::Gauge& storage_nodes;
  prometheus::Gauge& storage_nodes_ok;
  prometheus::Gauge& partitions;
  prometheus::Gauge& partitions_quorum;
  prometheus::Gauge& partitions_all_ok;
  prometheus::Gauge& healthy;
  prometheus::Gauge& available;
};

cluster_metrics::cluster_metrics(prometheus::Registry& r) : rep_(std::make_unique<rep>(r)) {}
cluster_metrics::~cluster_metrics() = default;

void cluster_metrics::refresh(model::store& store, const rpc::transport& net,
                              const layout::layout_history* layout, rpc::consistency_mode mode,
                              const std::vector<worker_status>& workers) {
  auto& m = *rep_;
  auto d = [](uint64_t v) { return static_cast<double>(v); };

  for (const auto& t : store.table_metrics()) {
    std::map<std::string, std::string> l{{"table", t.name}};
    m.table_gets.Add(l).Set(d(t.gets));
    m.table_get_errors.Add(l).Set(d(t.get_errors));
    m.table_puts.Add(l).Set(d(t.puts));
    m.table_put_errors.Add(l).Set(d(t.put_errors));
    m.table_repairs.Add(l).Set(d(t.read_repairs));
    m.sync_rounds.Add(l).Set(d(t.sync_rounds));
    m.sync_pushed.Add(l).Set(d(t.sync_pushed));
    m.sync_offloaded.Add(l).Set(d(t.sync_offloaded));
    m.sync_errors.Add(l).Set(d(t.sync_errors));
    m.merkle_pending.Add(l).Set(d(t.merkle_pending));
    m.table_entries.Add(l).Set(d(t.entries));
  }
  m.insert_queue.Set(d(store.queued_inserts()));

  if (auto* bn = store.block_network()) {
    auto b = bn->totals();
    m.resync_queue.Set(d(store.blocks().resync_queue_length()));
    m.resync_fetched.Set(d(b.resync_fetched));
    m.resync_offloaded.Set(d(b.resync_offloaded));
    m.resync_errors.Set(d(b.resync_errors));
    m.scrub_checked.Set(d(b.scrub_checked));
    m.scrub_corrupted.Set(d(b.scrub_corrupted));
    m.scrub_missing.Set(d(b.scrub_missing));
  }

  for (const auto& w : workers) {
    std::map<std::string, std::string> l{{"worker", w.name}};
    if (w.queue_length) m.worker_queue.Add(l).Set(d(*w.queue_length));
    m.worker_errors.Add(l).Set(d(w.errors));
    m.worker_consecutive.Add(l).Set(d(w.consecutive_errors));
    for (const char* s : kWorkerStates)
      m.worker_state.Add({{"worker", w.name}, {"state", s}}).Set(w.state == s ? 1 : 0);
  }

  // A standalone node keeps everything local: no partitions to count.
  if (layout && store.clustered()) {
    std::set<rpc::node_id> up{net.self()};
    for (const auto& p : net.peers())
      if (p.connected) up.insert(p.id);
    const auto& cur = layout->current();
    auto h = layout::compute_partition_health(
        *layout, [&](const rpc::node_id& n) { return up.count(n) > 0; },
        rpc::write_quorum_of(cur.replication_factor(), mode));
    m.layout_version.Set(d(cur.version()));
    m.storage_nodes.Set(d(h.storage_nodes));
    m.storage_nodes_ok.Set(d(h.storage_nodes_up));
    m.partitions.Set(d(h.partitions));
    m.partitions_quorum.Set(d(h.partitions_quorum));
    m.partitions_all_ok.Set(d(h.partitions_all_ok));
    m.healthy.Set(h.status() == "healthy" ? 1 : 0);
    m.available.Set(h.status() != "unavailable" ? 1 : 0);
  }
}

}  // namespace garage
