#include "layout/health.h"

#include <map>

namespace garage::layout {

std::string partition_health::status() const {
  if (partitions_quorum < partitions || !has_assignment) return "unavailable";
  if (storage_nodes_up < storage_nodes) return "degraded";
  return "healthy";
}

partition_health compute_partition_health(const layout_history& h,
                                          const std::function<bool(const node_id&)>& is_up,
                                          uint64_t write_quorum) {
  partition_health out;
  const layout_version& cur = h.current();
  out.has_assignment = cur.has_assignment();
  for (const auto& n : cur.storage_nodes()) {
    ++out.storage_nodes;
    if (is_up(n)) ++out.storage_nodes_up;
  }
  if (!out.has_assignment) return out;
  out.partitions = partition_count;
  // Up status of each node once, not once per partition.
  std::map<node_id, bool> up;
  for (const auto& n : h.all_storage_nodes()) up[n] = is_up(n);
  auto node_up = [&](const node_id& n) {
    auto it = up.find(n);
    return it != up.end() ? it->second : is_up(n);
  };
  for (uint32_t p = 0; p < partition_count; ++p) {
    bool quorum = true, all_ok = true;
    for (const auto& set : h.write_sets_of(p)) {
      uint64_t n_up = 0;
      for (const auto& n : set) n_up += node_up(n);
      if (n_up < write_quorum) quorum = false;
      if (n_up < set.size()) all_ok = false;
    }
    out.partitions_quorum += quorum;
    out.partitions_all_ok += all_ok;
  }
  return out;
}

}  // namespace garage::layout
