// Helpers shared by the layout tests: node ids, role maps, invariant checks
// and an independent max-flow used as an oracle.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "layout/layout.h"

namespace garage::layout::testing {

// A node id whose sort order is unrelated to n (ids come from a hash).
inline node_id make_id(uint32_t n) { return blake2b_256("node-" + std::to_string(n)); }

constexpr uint64_t GB = 1000ull * 1000 * 1000;
constexpr uint64_t TB = 1000 * GB;

// Checks every invariant of a computed version against its inputs; returns ""
// when all hold, else a description of the first violation.
inline std::string check_invariants(const layout_version& v,
                                    const std::map<node_id, node_role>& roles,
                                    const layout_parameters& params) {
  const uint32_t rf = params.replication_factor;
  std::set<std::string> zones;
  for (const auto& [id, r] : roles)
    if (!r.is_gateway()) zones.insert(r.zone);
  const uint32_t zr = params.redundancy.is_maximum()
                          ? std::min<uint32_t>(rf, static_cast<uint32_t>(zones.size()))
                          : params.redundancy.at_least_zones();
  if (v.roles() != roles) return "roles differ";
  if (v.partition_size() == 0) return "zero partition size";
  std::map<node_id, uint64_t> load;
  for (uint32_t p = 0; p < partition_count; ++p) {
    auto nodes = v.nodes_of(p);
    if (nodes.size() != rf) return "partition " + std::to_string(p) + " has wrong replica count";
    std::set<node_id> distinct(nodes.begin(), nodes.end());
    if (distinct.size() != rf) return "partition " + std::to_string(p) + " repeats a node";
    std::set<std::string> pz;
    for (const auto& n : nodes) {
      auto it = roles.find(n);
      if (it == roles.end() || it->second.is_gateway())
        return "partition " + std::to_string(p) + " on a non-storage node";
      pz.insert(it->second.zone);
      ++load[n];
    }
    if (pz.size() < zr) return "partition " + std::to_string(p) + " spans too few zones";
  }
  for (const auto& [n, l] : load)
    if (l * v.partition_size() > *roles.at(n).capacity) return "node over capacity";
  return "";
}

// (partition, node) pairs of `now` absent from `before`.
inline uint64_t new_pairs(const layout_version& before, const layout_version& now) {
  uint64_t count = 0;
  for (uint32_t p = 0; p < partition_count; ++p) {
    auto b = before.nodes_of(p);
    for (const auto& n : now.nodes_of(p))
      if (std::find(b.begin(), b.end(), n) == b.end()) ++count;
  }
  return count;
}

// An independent oracle: Garage's feasibility graph (source -> partition up/down
// -> (partition, zone) -> node -> sink) solved by a plain Edmonds-Karp
// max-flow, sharing no code with the engine.
class oracle_flow {
 public:
  explicit oracle_flow(int n) : adj_(n) {}
  void edge(int a, int b, int c) {
    adj_[a].push_back(static_cast<int>(to_.size()));
    to_.push_back(b);
    cap_.push_back(c);
    adj_[b].push_back(static_cast<int>(to_.size()));
    to_.push_back(a);
    cap_.push_back(0);
  }
  int64_t max_flow(int s, int t) {
    int64_t total = 0;
    for (;;) {
      std::vector<int> via(adj_.size(), -1);
      std::vector<int> queue{s};
      via[s] = -2;
      for (size_t i = 0; i < queue.size() && via[t] == -1; ++i)
        for (int e : adj_[queue[i]])
          if (cap_[e] > 0 && via[to_[e]] == -1) {
            via[to_[e]] = e;
            queue.push_back(to_[e]);
          }
      if (via[t] == -1) return total;
      int push = 1 << 30;
      for (int v = t; v != s; v = to_[via[v] ^ 1]) push = std::min(push, cap_[via[v]]);
      for (int v = t; v != s; v = to_[via[v] ^ 1]) {
        cap_[via[v]] -= push;
        cap_[via[v] ^ 1] += push;
      }
      total += push;
    }
  }

 private:
  std::vector<std::vector<int>> adj_;
  std::vector<int> to_, cap_;
};

// Whether an assignment with partitions of `size` bytes exists, by max-flow.
inline bool oracle_feasible(const std::map<node_id, node_role>& roles,
                            const layout_parameters& params, uint64_t size) {
  std::vector<uint64_t> caps;
  std::vector<std::string> zone_of;
  std::set<std::string> zone_set;
  for (const auto& [id, r] : roles)
    if (!r.is_gateway()) {
      caps.push_back(*r.capacity);
      zone_of.push_back(r.zone);
      zone_set.insert(r.zone);
    }
  std::vector<std::string> zones(zone_set.begin(), zone_set.end());
  const int P = partition_count, Z = static_cast<int>(zones.size()), N = static_cast<int>(caps.size());
  const int rf = static_cast<int>(params.replication_factor);
  const int zr = params.redundancy.is_maximum() ? std::min(rf, Z)
                                                : static_cast<int>(params.redundancy.at_least_zones());
  if (N < rf || Z < zr) return false;
  const int S = 0, T = 1;
  auto up = [&](int p) { return 2 + p; };
  auto down = [&](int p) { return 2 + P + p; };
  auto pz = [&](int p, int z) { return 2 + 2 * P + p * Z + z; };
  auto nv = [&](int n) { return 2 + 2 * P + P * Z + n; };
  oracle_flow g(2 + 2 * P + P * Z + N);
  for (int p = 0; p < P; ++p) {
    g.edge(S, up(p), zr);
    g.edge(S, down(p), rf - zr);
    for (int z = 0; z < Z; ++z) {
      g.edge(up(p), pz(p, z), 1);
      g.edge(down(p), pz(p, z), rf);
    }
    for (int n = 0; n < N; ++n) {
      int z = static_cast<int>(std::lower_bound(zones.begin(), zones.end(), zone_of[n]) - zones.begin());
      g.edge(pz(p, z), nv(n), 1);
    }
  }
  for (int n = 0; n < N; ++n)
    g.edge(nv(n), T, static_cast<int>(std::min<uint64_t>(P, caps[n] / size)));
  return g.max_flow(S, T) == int64_t{P} * rf;
}

}  // namespace garage::layout::testing
