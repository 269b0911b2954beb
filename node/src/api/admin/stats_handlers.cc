#include "api/admin/stats_handlers.h"

#include <fmt/format.h>

#include <algorithm>

#include "api/admin/json_views.h"
#include "block/block_manager.h"
#include "rpc/layout_manager.h"
#include "table/sync.h"
#include "util/hash.h"

namespace garage::admin {

namespace {

// Partitions of which this node holds at least one entry (tombstones
// included): one single-key scan per partition.
template <class T>
result<ojson> partitions_held(T& t) {
  ojson out = ojson::array();
  for (int p = 0; p < 256; ++p) {
    db::range r;
    r.start = std::string(1, static_cast<char>(p));
    if (p < 255) r.end = std::string(1, static_cast<char>(p + 1));
    r.limit = 1;
    GARAGE_ASSIGN_OR_RETURN(auto kv, t.local().store().scan(r));
    if (!kv.empty()) out.push_back(p);
  }
  return out;
}

template <class T>
ojson table_json(T& t, table::table_sync* sync, bool with_partitions) {
  ojson j;
  j["name"] = std::string(t.name());
  j["entries"] = t.local().approximate_count();
  if (with_partitions) {
    auto held = partitions_held(t);
    j["partitions"] = held ? *held : ojson(nullptr);
  }
  if (sync) {
    // One hash over the 256 partition roots: equal on two nodes exactly when
    // they hold the same entries in every partition.
    std::string roots;
    for (int p = 0; p < 256; ++p) {
      auto h = sync->merkle().root_hash(static_cast<uint8_t>(p));
      if (!h) return j;  // reported as missing below
      roots.append(reinterpret_cast<const char*>(h->bytes.data()), h->bytes.size());
    }
    j["merkleRoot"] = blake2b_256(roots).hex();
    j["merklePending"] = sync->merkle().pending();
  } else {
    j["merkleRoot"] = nullptr;
    j["merklePending"] = 0;
  }
  return j;
}

}  // namespace

api_result<reply> node_statistics(model::store& s, const node_facts& f,
                                  const get_node_statistics_request& r,
                                  rpc::layout_manager* layout) {
  ojson success = ojson::object();
  ojson errors = ojson::object();
  if (r.node == "self" || r.node == "*" || r.node == f.node_id) {
    auto syncs = s.sync_tables();
    auto sync_of = [&](std::string_view name) -> table::table_sync* {
      for (auto* t : syncs) {
        if (t->name() == name) return t;
      }
      return nullptr;
    };
    ojson tables = ojson::array();
    auto add = [&](auto& t) { tables.push_back(table_json(t, sync_of(t.name()), r.partitions)); };
    add(s.buckets());
    add(s.aliases());
    add(s.keys());
    add(s.counters());
    add(s.objects());
    add(s.versions());
    add(s.block_refs());
    auto bs = s.blocks().stats();
    ojson blocks;
    blocks["files"] = bs.blocks;
    blocks["bytesOnDisk"] = bs.bytes_on_disk;
    blocks["gcQueue"] = bs.gc_queue;
    blocks["resyncQueue"] = s.blocks().resync_queue_length();
    blocks["corruptedReads"] = bs.corrupted_reads;
    std::string text = fmt::format("{} node\n", s.clustered() ? "cluster" : "standalone");
    for (const auto& t : tables) {
      text += fmt::format("table {:<15} {:>10} entries\n", t["name"].get<std::string>(),
                          t["entries"].get<uint64_t>());
    }
    text += fmt::format("blocks: {} files, {} bytes, {} waiting for GC, {} queued for resync\n",
                        bs.blocks, bs.bytes_on_disk, bs.gc_queue, s.blocks().resync_queue_length());
    ojson info;
    info["freeform"] = text;
    info["clustered"] = s.clustered();
    info["tables"] = std::move(tables);
    info["blocks"] = std::move(blocks);
    info["insertQueue"] = s.queued_inserts();
    if (r.partitions && layout && s.clustered()) {
      // What the layout gives this node: the partitions of every live
      // version (during a transition a node keeps the old ones too).
      auto h = layout->snapshot();
      hash256 self;
      hash256::from_hex(f.node_id, self);
      ojson assigned = ojson::array();
      for (uint32_t p = 0; p < 256; ++p) {
        bool mine = false;
        for (const auto& set : h->write_sets_of(p)) {
          mine = mine || std::find(set.begin(), set.end(), self) != set.end();
        }
        if (mine) assigned.push_back(p);
      }
      info["partitionsAssigned"] = std::move(assigned);
      info["layoutVersions"] = h->versions().size();
    }
    success[f.node_id] = std::move(info);
  } else {
    errors[r.node] =
        "statistics are served for this node only (" + f.node_id + "): ask that node's admin API";
  }
  ojson j;
  j["success"] = std::move(success);
  j["error"] = std::move(errors);
  return ok_reply(to_body(j));
}

}  // namespace garage::admin
