// Dispatch of a parsed request, and the cluster endpoints of this one node:
// GetClusterHealth, GetClusterStatus, GetNodeInfo.
#include "api/admin/handlers.h"

#include <sys/statvfs.h>

#include <set>

#include "api/admin/handler_set.h"
#include "api/admin/layout_handlers.h"
#include "api/admin/stats_handlers.h"
#include "api/admin/worker_handlers.h"
#include "layout/health.h"
#include "model/store.h"
#include "rpc/layout_manager.h"
#include "rpc/quorum.h"

namespace garage::admin {
namespace {

// Partitions in Garage's layout; a single node holds all of them.
constexpr int kPartitions = 256;

ojson free_space_json(const std::string& dir) {
  struct statvfs st {};
  if (dir.empty() || ::statvfs(dir.c_str(), &st) != 0) return nullptr;
  ojson j;
  j["available"] = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  j["total"] = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  return j;
}

// Node counts come from the RPC network. On a cluster node, storage nodes
// and partitions come from the layout and the peers that are up (the same
// computation as the garage_cluster_partitions_* metrics); a standalone node
// holds every partition itself.
api_result<reply> cluster_health(const node_facts& f, const model::store& s,
                                 rpc::layout_manager* layout) {
  int known = 1, connected = 1;
  std::set<std::string> up{f.node_id};
  if (f.cluster && f.cluster->peers) {
    for (const auto& p : f.cluster->peers()) {
      known++;
      if (p.is_up) {
        connected++;
        up.insert(p.id);
      }
    }
  }
  ojson j;
  if (layout && s.clustered()) {
    auto snap = layout->snapshot();
    auto mode = rpc::parse_consistency_mode(s.cfg().consistency_mode);
    auto h = layout::compute_partition_health(
        *snap, [&](const layout::node_id& n) { return up.count(n.hex()) > 0; },
        rpc::write_quorum_of(snap->current().replication_factor(),
                             mode ? *mode : rpc::consistency_mode::consistent));
    j["status"] = h.status();
    j["knownNodes"] = known;
    j["connectedNodes"] = connected;
    j["storageNodes"] = h.storage_nodes;
    j["storageNodesOk"] = h.storage_nodes_up;
    j["partitions"] = h.partitions;
    j["partitionsQuorum"] = h.partitions_quorum;
    j["partitionsAllOk"] = h.partitions_all_ok;
    return ok_reply(to_body(j));
  }
  j["status"] = "healthy";
  j["knownNodes"] = known;
  j["connectedNodes"] = connected;
  j["storageNodes"] = 1;
  j["storageNodesOk"] = 1;
  j["partitions"] = kPartitions;
  j["partitionsQuorum"] = kPartitions;
  j["partitionsAllOk"] = kPartitions;
  return ok_reply(to_body(j));
}

// The role a node has in the current layout version (null when none; a
// standalone node, without layout, describes itself as zone "local").
ojson role_json(const std::string& id_hex, const layout::layout_history* h) {
  if (!h)
    return ojson{
        {"id", id_hex}, {"zone", "local"}, {"tags", ojson::array()}, {"capacity", nullptr}};
  hash256 id;
  if (!hash256::from_hex(id_hex, id)) return nullptr;
  const auto& roles = h->current().roles();
  auto it = roles.find(id);
  if (it == roles.end()) return nullptr;
  ojson r;
  r["id"] = id_hex;
  r["zone"] = it->second.zone;
  r["tags"] = it->second.tags;
  r["capacity"] = it->second.capacity ? ojson(*it->second.capacity) : ojson(nullptr);
  return r;
}

api_result<reply> cluster_status(const node_facts& f, const model::store& s,
                                 rpc::layout_manager* layout) {
  std::shared_ptr<const layout::layout_history> hist;
  if (layout && s.clustered()) hist = layout->snapshot();
  ojson node;
  node["id"] = f.node_id;
  node["garageVersion"] = f.version;
  node["addr"] = f.cluster ? f.cluster->rpc_public_addr : f.s3_addr;
  node["hostname"] = f.hostname;
  node["isUp"] = true;
  node["lastSeenSecsAgo"] = nullptr;
  node["role"] = role_json(f.node_id, hist.get());
  node["draining"] = false;
  node["dataPartition"] = free_space_json(f.data_dir);
  node["metadataPartition"] = free_space_json(f.metadata_dir);
  ojson nodes = ojson::array({std::move(node)});
  // The other nodes this one knows, as the RPC network sees them.
  if (f.cluster && f.cluster->peers) {
    for (const auto& p : f.cluster->peers()) {
      ojson n;
      n["id"] = p.id;
      n["garageVersion"] = nullptr;
      n["addr"] = p.addr;
      n["hostname"] = nullptr;
      n["isUp"] = p.is_up;
      n["lastSeenSecsAgo"] = nullptr;
      n["role"] = hist ? role_json(p.id, hist.get()) : ojson(nullptr);
      n["draining"] = false;
      n["dataPartition"] = nullptr;
      n["metadataPartition"] = nullptr;
      if (p.rtt_ms) n["rttMs"] = *p.rtt_ms;
      nodes.push_back(std::move(n));
    }
  }
  ojson j;
  j["layoutVersion"] = hist ? hist->current().version() : 1;
  j["nodes"] = std::move(nodes);
  return ok_reply(to_body(j));
}

// Garage v2 shape: one {success, error} per node asked, in order.
api_result<reply> connect_nodes(const node_facts& f, const connect_cluster_nodes_request& r) {
  if (!f.cluster || !f.cluster->connect)
    return api_error{503, "ServiceUnavailable", "this node has no RPC network"};
  ojson out = ojson::array();
  for (const auto& n : r.nodes) {
    auto res = f.cluster->connect(n);
    ojson item;
    item["success"] = res.has_value();
    if (res) {
      item["error"] = nullptr;
    } else {
      item["error"] = res.error().message;
    }
    out.push_back(std::move(item));
  }
  return ok_reply(to_body(out));
}

api_result<reply> node_info(const node_facts& f, const get_node_info_request& r) {
  ojson success = ojson::object();
  ojson errors = ojson::object();
  if (r.node == "self" || r.node == "*" || r.node == f.node_id) {
    ojson info;
    info["nodeId"] = f.node_id;
    info["garageVersion"] = f.version;
    info["garageFeatures"] = ojson::array();
    info["rustVersion"] = std::string("none (C++ ") + __VERSION__ + ")";
    info["dbEngine"] = "RocksDB";
    success[f.node_id] = std::move(info);
  } else {
    errors[r.node] = "no such node in this cluster (a single node: " + f.node_id + ")";
  }
  ojson j;
  j["success"] = std::move(success);
  j["error"] = std::move(errors);
  return ok_reply(to_body(j));
}

}  // namespace

api_result<reply> execute(model::store& s, const node_facts& facts, const admin_request& req,
                          rpc::layout_manager* layout, worker_runner* workers) {
  return std::visit(
      [&](const auto& r) -> api_result<reply> {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, health_request> || std::is_same_v<T, metrics_request>) {
          return internal_error("health and metrics are answered by the HTTP front end");
        } else if constexpr (std::is_same_v<T, get_cluster_health_request>) {
          return cluster_health(facts, s, layout);
        } else if constexpr (std::is_same_v<T, get_cluster_status_request>) {
          return cluster_status(facts, s, layout);
        } else if constexpr (std::is_same_v<T, get_node_info_request>) {
          return node_info(facts, r);
        } else if constexpr (std::is_same_v<T, get_node_statistics_request>) {
          return node_statistics(s, facts, r, layout);
        } else if constexpr (std::is_same_v<T, connect_cluster_nodes_request>) {
          return connect_nodes(facts, r);
        } else if constexpr (std::is_same_v<T, cluster_layout_skip_dead_nodes_request>) {
          if (!layout)
            return api_error{503, "ServiceUnavailable", "this node has no cluster layout service"};
          auto mode = rpc::parse_consistency_mode(s.cfg().consistency_mode);
          const size_t rf = layout->history().current().replication_factor();
          return handle(*layout, r,
                        rpc::write_quorum_of(rf, mode ? *mode : rpc::consistency_mode::consistent));
        } else if constexpr (is_layout_request<T>) {
          if (!layout)
            return api_error{503, "ServiceUnavailable", "this node has no cluster layout service"};
          return handle(*layout, r);
        } else if constexpr (is_worker_request<T>) {
          if (!workers) return api_error{503, "ServiceUnavailable", "no workers on this node"};
          return handle(*workers, facts, r);
        } else if constexpr (std::is_same_v<T, unimplemented_request>) {
          return not_implemented(r.name +
                                 " is a Garage admin API v2 endpoint that this version "
                                 "does not implement");
        } else {
          return handle(s, r);
        }
      },
      req);
}

}  // namespace garage::admin
