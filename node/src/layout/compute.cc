#include "layout/compute.h"

#include <algorithm>
#include <string>
#include <utility>

#include "layout/assignment.h"

namespace garage::layout {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

error constraint_error(std::string message) {
  return error(errc::invalid_argument, std::move(message));
}

// Per zone, how many partition replicas its nodes could hold with 1-byte
// partitions; used to explain why capacities are too small.
std::string capacity_shortfall(const assignment_input& in,
                               const std::vector<std::string>& zone_names) {
  std::vector<uint64_t> per_zone(in.zone_count, 0);
  uint64_t total = 0;
  for (size_t n = 0; n < in.capacity.size(); ++n) {
    uint64_t c = std::min<uint64_t>(in.partition_count, in.capacity[n]);
    per_zone[in.zone[n]] += c;
    total += c;
  }
  std::string msg = "capacities are too small to place " + std::to_string(in.partition_count) +
                    " partitions x replication factor " + std::to_string(in.replication_factor) +
                    ": at 1 byte per partition the nodes " + "hold " + std::to_string(total) +
                    " of " + std::to_string(uint64_t{in.partition_count} * in.replication_factor) +
                    " replicas (per zone:";
  for (uint32_t z = 0; z < in.zone_count; ++z)
    msg += " " + zone_names[z] + "=" + std::to_string(per_zone[z]);
  msg += "); capacities are in bytes: give each node its real capacity";
  return msg;
}

// Pairs the replicas a partition loses with those it gains, same zone first,
// so that the report can say between which zones data moves.
void count_transfers(const std::vector<std::string>& lost, const std::vector<std::string>& gained,
                     std::map<std::pair<std::string, std::string>, uint32_t>& out) {
  std::vector<std::string> from = lost, to = gained;
  std::sort(from.begin(), from.end());
  std::sort(to.begin(), to.end());
  std::vector<std::string> rest_from, rest_to;
  std::set_difference(from.begin(), from.end(), to.begin(), to.end(),
                      std::back_inserter(rest_from));
  std::set_difference(to.begin(), to.end(), from.begin(), from.end(), std::back_inserter(rest_to));
  std::vector<std::string> same;
  std::set_intersection(to.begin(), to.end(), from.begin(), from.end(), std::back_inserter(same));
  for (const auto& z : same) ++out[{z, z}];
  size_t i = 0;
  for (; i < rest_to.size(); ++i)
    ++out[{i < rest_from.size() ? rest_from[i] : std::string(), rest_to[i]}];
  for (; i < rest_from.size(); ++i) ++out[{rest_from[i], std::string()}];
}

}  // namespace

result<computed_layout> compute_layout(const layout_version& previous,
                                       const std::map<node_id, node_role>& roles,
                                       const layout_parameters& params) {
  GARAGE_TRY(validate(params));
  for (const auto& [id, role] : roles) {
    if (auto r = validate(role); !r)
      return constraint_error("node " + short_id(id) + ": " + r.error().message);
  }
  const uint32_t rf = params.replication_factor;

  // Storage nodes in id order (std::map), zones in name order: the
  // canonical order that makes the result independent of insertion order.
  std::vector<node_id> storage;
  std::vector<std::string> zone_names;
  for (const auto& [id, role] : roles) {
    if (role.is_gateway()) continue;
    storage.push_back(id);
    zone_names.push_back(role.zone);
  }
  std::sort(zone_names.begin(), zone_names.end());
  zone_names.erase(std::unique(zone_names.begin(), zone_names.end()), zone_names.end());
  const auto zones = static_cast<uint32_t>(zone_names.size());

  if (storage.size() < rf)
    return constraint_error(
        "replication factor " + std::to_string(rf) + " needs at least " + std::to_string(rf) +
        " storage nodes (nodes with a capacity), the layout has " + std::to_string(storage.size()) +
        "; give a capacity to " + std::to_string(rf - storage.size()) +
        " more node(s) or lower the replication factor");
  uint64_t total_capacity = 0;
  for (const auto& id : storage)
    if (__builtin_add_overflow(total_capacity, *roles.at(id).capacity, &total_capacity))
      return constraint_error(
          "the capacities add up to more than 2^64 bytes; capacities are in "
          "bytes: give each node its real capacity");
  if (storage.size() > 65535)
    return constraint_error("at most 65535 storage nodes are supported, the layout has " +
                            std::to_string(storage.size()));
  uint32_t zr =
      params.redundancy.is_maximum() ? std::min(rf, zones) : params.redundancy.at_least_zones();
  if (zones < zr)
    return constraint_error(
        "zone redundancy \"" + params.redundancy.to_string() + "\" needs storage nodes in " +
        std::to_string(zr) + " distinct zones, the layout has " + std::to_string(zones) + " (" +
        join(zone_names) + "); add storage nodes in " + std::to_string(zr - zones) +
        " more zone(s) or lower the zone redundancy to " + std::to_string(zones));

  assignment_input in;
  in.partition_count = partition_count;
  in.replication_factor = rf;
  in.zone_redundancy = zr;
  in.zone_count = zones;
  std::map<node_id, uint32_t> index_of;
  for (const auto& id : storage) {
    const node_role& role = roles.at(id);
    index_of[id] = static_cast<uint32_t>(in.capacity.size());
    in.capacity.push_back(*role.capacity);
    in.zone.push_back(static_cast<uint32_t>(
        std::lower_bound(zone_names.begin(), zone_names.end(), role.zone) - zone_names.begin()));
  }
  if (previous.has_assignment()) {
    in.previous.assign(partition_count, {});
    for (uint32_t p = 0; p < partition_count; ++p)
      for (const auto& id : previous.nodes_of(p))
        if (auto it = index_of.find(id); it != index_of.end()) in.previous[p].push_back(it->second);
  }
  if (optimal_partition_size(in) == 0) return constraint_error(capacity_shortfall(in, zone_names));

  GARAGE_ASSIGN_OR_RETURN(assignment_output out, compute_assignment(in));

  std::vector<uint16_t> raw;
  raw.reserve(size_t{partition_count} * rf);
  for (const auto& nodes : out.replicas)
    for (uint32_t n : nodes) raw.push_back(static_cast<uint16_t>(n));
  GARAGE_ASSIGN_OR_RETURN(layout_version version,
                          layout_version::from_parts(previous.version() + 1, params, roles, storage,
                                                     out.partition_size, std::move(raw)));

  // The explanation.
  layout_report rep;
  rep.version = version.version();
  rep.parameters = params;
  rep.zone_redundancy = zr;
  rep.partition_size = out.partition_size;
  rep.previous_partition_size = previous.partition_size();
  rep.total_capacity = total_capacity;
  rep.replicas_total = uint64_t{partition_count} * rf;
  rep.usable_capacity = out.partition_size * rep.replicas_total;
  rep.effective_capacity = out.partition_size * partition_count;
  rep.replicas_moved = out.new_replicas;

  std::map<node_id, node_report> nodes;
  std::map<std::string, zone_report> zone_reports;
  for (const auto& [id, role] : roles) {
    node_report& nr = nodes[id];
    nr.id = id;
    nr.zone = role.zone;
    nr.tags = role.tags;
    nr.capacity = role.capacity;
    nr.previous_partitions = previous.partitions_of(id);
    zone_report& zrep = zone_reports[role.zone];
    zrep.zone = role.zone;
    if (role.is_gateway()) {
      ++zrep.gateways;
    } else {
      ++zrep.storage_nodes;
      zrep.capacity += *role.capacity;
    }
  }
  std::map<std::pair<std::string, std::string>, uint32_t> transfers;
  for (uint32_t p = 0; p < partition_count; ++p) {
    std::vector<node_id> now = version.nodes_of(p);
    std::vector<node_id> before = previous.nodes_of(p);
    std::vector<std::string> lost, gained, zones_here;
    for (const auto& id : now) {
      node_report& nr = nodes[id];
      ++nr.partitions;
      zones_here.push_back(nr.zone);
      if (!std::binary_search(before.begin(), before.end(), id)) {
        ++nr.new_partitions;
        gained.push_back(nr.zone);
      }
    }
    for (const auto& id : before) {
      if (std::binary_search(now.begin(), now.end(), id)) continue;
      auto it = previous.roles().find(id);
      lost.push_back(it == previous.roles().end() ? std::string("?") : it->second.zone);
    }
    std::sort(zones_here.begin(), zones_here.end());
    zones_here.erase(std::unique(zones_here.begin(), zones_here.end()), zones_here.end());
    for (const auto& z : zones_here) ++zone_reports[z].distinct_partitions;
    count_transfers(lost, gained, transfers);
  }
  for (auto& [id, nr] : nodes) {
    nr.usable = nr.partitions * out.partition_size;
    if (nr.capacity) {
      // Full: one more byte per partition would not fit.
      nr.saturated = nr.partitions > 0 && nr.partitions > *nr.capacity / (out.partition_size + 1);
      zone_reports[nr.zone].partitions += nr.partitions;
      zone_reports[nr.zone].usable += nr.usable;
    }
    rep.nodes.push_back(nr);
  }
  std::stable_sort(rep.nodes.begin(), rep.nodes.end(),
                   [](const node_report& a, const node_report& b) { return a.zone < b.zone; });
  for (auto& [name, zrep] : zone_reports) rep.zones.push_back(zrep);
  for (auto& [key, count] : transfers)
    if (!(key.first == key.second && count == 0))
      rep.transfers.push_back({key.first, key.second, count});
  return computed_layout{std::move(version), std::move(rep)};
}

result<computed_layout> preview_layout(const std::map<node_id, node_role>& roles,
                                       const layout_parameters& params) {
  return compute_layout(layout_version(params), roles, params);
}

}  // namespace garage::layout
