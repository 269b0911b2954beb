#include "layout/version.h"

#include <algorithm>
#include <string>

namespace garage::layout {

result<layout_version> layout_version::from_parts(uint64_t version, layout_parameters params,
                                                  std::map<node_id, node_role> roles,
                                                  std::vector<node_id> storage_nodes,
                                                  uint64_t partition_size,
                                                  std::vector<uint16_t> assignment) {
  auto bad = [](const std::string& what) {
    return error(errc::corrupted, "layout version: " + what);
  };
  if (!validate(params)) return bad("invalid parameters");
  if (!std::is_sorted(storage_nodes.begin(), storage_nodes.end()) ||
      std::adjacent_find(storage_nodes.begin(), storage_nodes.end()) != storage_nodes.end())
    return bad("storage node list not strictly ascending");
  if (storage_nodes.size() > 65535) return bad("too many storage nodes");
  for (const auto& id : storage_nodes) {
    auto it = roles.find(id);
    if (it == roles.end() || it->second.is_gateway())
      return bad("storage node " + short_id(id) + " has no storage role");
  }
  const uint32_t rf = params.replication_factor;
  if (!assignment.empty()) {
    if (assignment.size() != size_t{partition_count} * rf) return bad("assignment size");
    if (partition_size == 0) return bad("zero partition size with an assignment");
    for (uint32_t p = 0; p < partition_count; ++p) {
      std::vector<uint16_t> set(assignment.begin() + p * rf, assignment.begin() + (p + 1) * rf);
      std::sort(set.begin(), set.end());
      if (set.back() >= storage_nodes.size()) return bad("node index out of range");
      if (std::adjacent_find(set.begin(), set.end()) != set.end())
        return bad("partition " + std::to_string(p) + " stored twice on one node");
    }
  }
  layout_version v(params);
  v.version_ = version;
  v.roles_ = std::move(roles);
  v.storage_nodes_ = std::move(storage_nodes);
  v.partition_size_ = assignment.empty() ? 0 : partition_size;
  v.assignment_ = std::move(assignment);
  return v;
}

std::vector<node_id> layout_version::nodes_of(uint32_t partition) const {
  std::vector<node_id> out;
  if (assignment_.empty() || partition >= partition_count) return out;
  const uint32_t rf = params_.replication_factor;
  for (uint32_t i = 0; i < rf; ++i) out.push_back(storage_nodes_[assignment_[partition * rf + i]]);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<node_id> layout_version::all_nodes() const {
  std::vector<node_id> out;
  for (const auto& [id, role] : roles_) out.push_back(id);
  return out;
}

uint32_t layout_version::partitions_of(const node_id& id) const {
  auto it = std::lower_bound(storage_nodes_.begin(), storage_nodes_.end(), id);
  if (it == storage_nodes_.end() || *it != id) return 0;
  const auto index = static_cast<uint16_t>(it - storage_nodes_.begin());
  return static_cast<uint32_t>(std::count(assignment_.begin(), assignment_.end(), index));
}

}  // namespace garage::layout
