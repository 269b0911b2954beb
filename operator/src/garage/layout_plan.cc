#include "garage/layout_plan.h"

#include <map>
#include <sstream>

#include "layout/compute.h"
#include "layout/role.h"

namespace garage::op::admin {

using nlohmann::json;

namespace {

role_change role_of(const json& j) {
  role_change r;
  if (auto it = j.find("id"); it != j.end() && it->is_string()) r.id = it->get<std::string>();
  if (auto it = j.find("remove"); it != j.end() && it->is_boolean()) r.remove = it->get<bool>();
  if (auto it = j.find("zone"); it != j.end() && it->is_string()) r.zone = it->get<std::string>();
  if (auto it = j.find("capacity"); it != j.end() && it->is_number_unsigned())
    r.capacity = it->get<uint64_t>();
  if (auto it = j.find("tags"); it != j.end() && it->is_array()) {
    for (const auto& t : *it)
      if (t.is_string()) r.tags.push_back(t.get<std::string>());
  }
  return r;
}

// id -> role after the staged changes (removed ids absent).
std::map<std::string, role_change> effective_map(const json& layout) {
  std::map<std::string, role_change> roles;
  if (!layout.is_object()) return roles;
  if (auto it = layout.find("roles"); it != layout.end() && it->is_array()) {
    for (const auto& r : *it) {
      auto rc = role_of(r);
      rc.remove = false;
      if (!rc.id.empty()) roles[rc.id] = std::move(rc);
    }
  }
  if (auto it = layout.find("stagedRoleChanges"); it != layout.end() && it->is_array()) {
    for (const auto& r : *it) {
      auto rc = role_of(r);
      if (rc.id.empty()) continue;
      if (rc.remove) {
        roles.erase(rc.id);
      } else {
        roles[rc.id] = std::move(rc);
      }
    }
  }
  return roles;
}

// "2 nodes" / "1 node".
std::string nodes(int n) { return std::to_string(n) + (n == 1 ? " node" : " nodes"); }

// "zone a" / "zones a, b".
std::string zones_text(const std::map<std::string, int>& per_zone, const char* prep) {
  std::string out;
  bool first = true;
  for (const auto& [zone, n] : per_zone) {
    if (!first) out += ", ";
    out += nodes(n) + " " + prep + " zone " + zone;
    first = false;
  }
  return out;
}

}  // namespace

std::vector<role_change> effective_roles(const json& current_layout) {
  std::vector<role_change> out;
  for (auto& [id, r] : effective_map(current_layout)) out.push_back(r);
  return out;
}

layout_plan plan_layout(const json& current_layout, const std::vector<desired_node>& want,
                        const std::set<std::string>& remove_ids) {
  auto roles = effective_map(current_layout);
  layout_plan plan;
  std::map<std::string, int> added, removed, updated;
  std::vector<std::string> what_changed;  // of the updates: "capacity", "zone", "tags"
  std::set<std::string> wanted;
  std::map<std::string, role_change> changes;  // by id, so the plan is ordered
  for (const auto& d : want) {
    wanted.insert(d.id);
    role_change target{d.id, false, d.zone, d.capacity, d.tags};
    auto it = roles.find(d.id);
    if (it != roles.end() && it->second == target) continue;
    if (it == roles.end()) {
      added[d.zone]++;
      plan.added++;
    } else {
      updated[d.zone]++;
      plan.updated++;
      const auto& cur = it->second;
      if (cur.zone != d.zone) what_changed.push_back("zone");
      if (cur.capacity != target.capacity) what_changed.push_back("capacity");
      if (cur.tags != d.tags) what_changed.push_back("tags");
    }
    changes[d.id] = std::move(target);
  }
  for (const auto& id : remove_ids) {
    if (wanted.count(id)) continue;
    auto it = roles.find(id);
    if (it == roles.end()) continue;
    removed[it->second.zone]++;
    plan.removed++;
    role_change rc;
    rc.id = id;
    rc.remove = true;
    changes[id] = std::move(rc);
  }
  for (auto& [id, c] : changes) plan.changes.push_back(std::move(c));

  std::vector<std::string> parts;
  if (!added.empty()) parts.push_back("add " + zones_text(added, "to"));
  if (!removed.empty()) parts.push_back("remove " + zones_text(removed, "from"));
  if (!updated.empty()) {
    std::set<std::string> kinds(what_changed.begin(), what_changed.end());
    std::string k;
    for (const auto& s : kinds) k += (k.empty() ? "" : "/") + s;
    parts.push_back("change " + (k.empty() ? std::string("role") : k) + " of " +
                    zones_text(updated, "in"));
  }
  for (size_t i = 0; i < parts.size(); ++i) plan.summary += (i ? "; " : "") + parts[i];
  return plan;
}

result<std::string> check_feasible(const std::vector<desired_node>& nodes_after,
                                   int replication_factor, std::optional<int> zone_redundancy) {
  if (replication_factor < 1 ||
      replication_factor > static_cast<int>(layout::max_replication_factor))
    return error(errc::invalid_argument,
                 "replication factor " + std::to_string(replication_factor) + " is outside 1.." +
                     std::to_string(layout::max_replication_factor));
  if (zone_redundancy && (*zone_redundancy < 1 || *zone_redundancy > replication_factor))
    return error(errc::invalid_argument, "zone redundancy " + std::to_string(*zone_redundancy) +
                                             " is outside 1..replication factor (" +
                                             std::to_string(replication_factor) + ")");
  std::map<layout::node_id, layout::node_role> roles;
  for (const auto& n : nodes_after) {
    layout::node_id id{};
    if (!hash256::from_hex(n.id, id))
      return error(errc::invalid_argument,
                   "invalid node id '" + n.id + "': expected 64 hex digits (the full id)");
    if (roles.count(id)) return error(errc::invalid_argument, "node " + n.id + " is listed twice");
    roles[id] = layout::node_role::storage(n.zone, n.capacity, n.tags);
  }
  layout::layout_parameters params;
  params.replication_factor = static_cast<uint32_t>(replication_factor);
  params.redundancy =
      zone_redundancy ? layout::zone_redundancy::at_least(static_cast<uint32_t>(*zone_redundancy))
                      : layout::zone_redundancy::maximum();
  auto computed = layout::preview_layout(roles, params);
  if (!computed) {
    auto e = std::move(computed).error();
    return error(errc::invalid_argument, std::move(e.message));
  }
  return computed->report.to_string();
}

}  // namespace garage::op::admin
