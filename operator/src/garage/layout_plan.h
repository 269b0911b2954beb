// Layout planning: which role changes bring a cluster's layout to what the
// operator wants, and whether the engine (node/src/layout) can place the
// resulting role set at all. Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "garage/admin_client.h"
#include "util/result.h"

namespace garage::op::admin {

// A storage node the operator wants in the layout.
struct desired_node {
  std::string id{};  // full node id, 64 hex digits
  std::string zone{};
  uint64_t capacity = 0;  // bytes
  std::vector<std::string> tags{};
};

struct layout_plan {
  std::vector<role_change> changes{};  // for admin_client::stage_roles, by id
  // "add 2 nodes to zone a; remove 1 node from zone b; change capacity of 1
  // node in zone c" (empty when there is nothing to do).
  std::string summary{};
  // Counts behind the summary.
  int added = 0, updated = 0, removed = 0;

  bool empty() const { return changes.empty(); }
};

// The role changes that make `current_layout` (the GetClusterLayout answer:
// its roles with the staged changes on top) have every node of `want` with
// that zone, capacity and tags, and no role for the ids of `remove_ids`.
// Nodes mentioned in neither are left alone. A node whose role (staged or
// current) already matches is not changed; a removal already staged or of a
// node without role is not repeated. An id in both `want` and `remove_ids`
// is kept (want wins).
layout_plan plan_layout(const nlohmann::json& current_layout, const std::vector<desired_node>& want,
                        const std::set<std::string>& remove_ids);

// The roles a GetClusterLayout answer leads to once its staged changes are
// applied: id -> role (capacity nullopt for gateways).
std::vector<role_change> effective_roles(const nlohmann::json& current_layout);

// Runs the layout engine on exactly these storage nodes (from scratch, as a
// preview) with this replication factor and zone redundancy (nullopt =
// maximum). The engine's explanation (partition size, usable capacity per
// node and zone) when a layout can be computed; errc::invalid_argument with
// the engine's reason when it cannot (fewer nodes than the replication
// factor, fewer zones than the zone redundancy, a bad id or parameter).
result<std::string> check_feasible(const std::vector<desired_node>& nodes_after,
                                   int replication_factor, std::optional<int> zone_redundancy);

}  // namespace garage::op::admin
