// The cluster layout endpoints, in the JSON shapes of Garage's admin API v2
// (GetClusterLayoutResponse, ...), over rpc::layout_manager.
#include "api/admin/layout_handlers.h"

#include <sstream>

#include "api/admin/json_views.h"
#include "rpc/layout_manager.h"

namespace garage::admin {
namespace {

using layout::layout_history;
using layout::layout_version;

// Every layout error the caller can fix is a 400, as in Garage; failing to
// store the layout is ours.
api_error layout_error(const error& e) {
  switch (e.code) {
    case errc::io_error:
    case errc::internal:
    case errc::corrupted:
      return internal_error(e.message);
    case errc::unavailable:
      return api_error{503, "ServiceUnavailable", e.message};
    default:
      return bad_request(e.message);
  }
}

api_result<layout::node_id> parse_node_id(const std::string& hex) {
  layout::node_id id{};
  if (!hash256::from_hex(hex, id))
    return bad_request("invalid node id '" + hex + "': expected 64 hex digits (the full id)");
  return id;
}

ojson parameters_json(const layout::layout_parameters& p) {
  ojson zr = p.redundancy.is_maximum() ? ojson("maximum")
                                       : ojson{{"atLeast", p.redundancy.at_least_zones()}};
  return ojson{{"zoneRedundancy", std::move(zr)}};
}

ojson role_json(const layout::node_id& id, const layout::node_role& role, const layout_version* v) {
  ojson j;
  j["id"] = id.hex();
  j["zone"] = role.zone;
  j["tags"] = role.tags;
  if (role.capacity) {
    j["capacity"] = *role.capacity;
  } else {
    j["capacity"] = nullptr;
  }
  if (v && role.capacity && v->has_assignment()) {
    uint32_t parts = v->partitions_of(id);
    j["storedPartitions"] = parts;
    j["usableCapacity"] = static_cast<uint64_t>(parts) * v->partition_size();
  } else {
    j["storedPartitions"] = nullptr;
    j["usableCapacity"] = nullptr;
  }
  return j;
}

// GetClusterLayoutResponse of `v` with the staging of `h` (nullptr: none).
ojson layout_json(const layout_version& v, const layout_history* h,
                  const std::vector<rpc::layout_conflict>& conflicts = {}) {
  ojson j;
  j["version"] = v.version();
  ojson roles = ojson::array();
  for (const auto& [id, role] : v.roles()) roles.push_back(role_json(id, role, &v));
  j["roles"] = std::move(roles);
  j["partitionSize"] = v.partition_size();
  j["parameters"] = parameters_json(v.parameters());
  ojson staged = ojson::array();
  ojson staged_params = nullptr;
  if (h) {
    for (const auto& [id, role] : h->staging().roles()) {
      ojson c;
      c["id"] = id.hex();
      if (role) {
        c["zone"] = role->zone;
        c["capacity"] = role->capacity ? ojson(*role->capacity) : ojson(nullptr);
        c["tags"] = role->tags;
      } else {
        c["remove"] = true;
      }
      staged.push_back(std::move(c));
    }
    if (h->staging().parameters()) staged_params = parameters_json(*h->staging().parameters());
  }
  j["stagedRoleChanges"] = std::move(staged);
  j["stagedParameters"] = std::move(staged_params);
  // Not in Garage: versions this node holds with other contents than a peer
  // (two applies of one version number); see docs/layout.md.
  ojson conf = ojson::array();
  for (const auto& c : conflicts)
    conf.push_back(ojson{{"version", c.version}, {"nodeId", c.peer.hex()}});
  j["conflicts"] = std::move(conf);
  return j;
}

ojson current_layout_json(const rpc::layout_manager& m) {
  layout_history h = m.history();
  return layout_json(h.current(), &h, m.conflicts());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

api_result<reply> handle(rpc::layout_manager& m, const get_cluster_layout_request&) {
  return ok_reply(to_body(current_layout_json(m)));
}

api_result<reply> handle(rpc::layout_manager& m, const get_cluster_layout_history_request&) {
  layout_history h = m.history();
  ojson j;
  j["currentVersion"] = h.current().version();
  j["minAck"] = h.ack_min();
  ojson versions = ojson::array();
  // Newest first, as Garage lists them.
  for (auto it = h.versions().rbegin(); it != h.versions().rend(); ++it) {
    ojson v;
    v["version"] = it->version();
    v["status"] = it->version() == h.current().version() ? "Current" : "Draining";
    v["storageNodes"] = it->storage_nodes().size();
    v["gatewayNodes"] = it->all_nodes().size() - it->storage_nodes().size();
    versions.push_back(std::move(v));
  }
  j["versions"] = std::move(versions);
  ojson trackers = ojson::object();
  auto value = [&](const std::map<layout::node_id, uint64_t>& t, const layout::node_id& n) {
    auto it = t.find(n);
    return std::max(h.min_stored(), it == t.end() ? uint64_t{0} : it->second);
  };
  for (const auto& n : h.all_nodes()) {
    trackers[n.hex()] = ojson{{"ack", value(h.trackers().ack, n)},
                              {"sync", value(h.trackers().sync, n)},
                              {"syncAck", value(h.trackers().sync_ack, n)}};
  }
  j["updateTrackers"] = std::move(trackers);
  return ok_reply(to_body(j));
}

api_result<reply> handle(rpc::layout_manager& m, const update_cluster_layout_request& r) {
  // Parse everything first: a bad item leaves the staging untouched.
  std::vector<std::pair<layout::node_id, const layout_role_change*>> changes;
  for (const auto& c : r.roles) {
    auto id = parse_node_id(c.id);
    if (!id) return std::move(id).error();
    changes.emplace_back(*id, &c);
  }
  auto staged = m.stage([&](layout_history& h) -> result<void> {
    for (const auto& [id, c] : changes) {
      if (c->remove) {
        GARAGE_TRY(h.stage_remove(id));
      } else {
        GARAGE_TRY(h.stage_role(id, layout::node_role{c->zone, c->capacity, c->tags}));
      }
    }
    if (r.zone_redundancy) {
      layout::layout_parameters p = h.staged_parameters();
      p.redundancy = *r.zone_redundancy == 0
                         ? layout::zone_redundancy::maximum()
                         : layout::zone_redundancy::at_least(*r.zone_redundancy);
      GARAGE_TRY(h.stage_parameters(p));
    }
    return ok();
  });
  if (!staged) return layout_error(staged.error());
  return ok_reply(to_body(current_layout_json(m)));
}

api_result<reply> handle(rpc::layout_manager& m, const preview_cluster_layout_changes_request&) {
  auto p = m.preview();
  ojson j;
  if (!p) {
    // As Garage: a computation that fails is a 200 with the reason.
    j["error"] = p.error().message;
    return ok_reply(to_body(j));
  }
  j["message"] = lines_of(p->report.to_string());
  j["newLayout"] = layout_json(p->version, nullptr);
  return ok_reply(to_body(j));
}

api_result<reply> handle(rpc::layout_manager& m, const apply_cluster_layout_request& r) {
  auto rep = m.apply(r.version);
  if (!rep) return layout_error(rep.error());
  ojson j;
  j["message"] = lines_of(rep->to_string());
  j["layout"] = current_layout_json(m);
  return ok_reply(to_body(j));
}

api_result<reply> handle(rpc::layout_manager& m, const cluster_layout_skip_dead_nodes_request& r,
                         size_t write_quorum) {
  auto rep = m.skip_dead_nodes(r.version, r.allow_missing_data, write_quorum);
  if (!rep) return layout_error(rep.error());
  auto ids = [](const std::vector<layout::node_id>& v) {
    ojson a = ojson::array();
    for (const auto& id : v) a.push_back(id.hex());
    return a;
  };
  ojson j;
  j["ackUpdated"] = ids(rep->ack_raised);
  j["syncUpdated"] = ids(rep->sync_raised);
  // Not in Garage: dead nodes whose sync was not raised because some of
  // their partitions lost a write quorum (allowMissingData gives them up).
  j["syncNotUpdated"] = ids(rep->sync_kept);
  return ok_reply(to_body(j));
}

api_result<reply> handle(rpc::layout_manager& m, const revert_cluster_layout_request&) {
  auto done = m.revert();
  if (!done) return layout_error(done.error());
  return ok_reply(to_body(current_layout_json(m)));
}

}  // namespace garage::admin
