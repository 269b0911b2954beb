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
  const int P = partition_count, Z = static_cast<int>(zones.size()),
            N = static_cast<int>(caps.size());
  const int rf = static_cast<int>(params.replication_factor);
  const int zr = params.redundancy.is_maximum()
                     ? std::min(rf, Z)
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
      int z = static_cast<int>(std::lower_bound(zones.begin(), zones.end(), zone_of[n]) -
                               zones.begin());
      g.edge(pz(p, z), nv(n), 1);
    }
  }
  for (int n = 0; n < N; ++n)
    g.edge(nv(n), T, static_cast<int>(std::min<uint64_t>(P, caps[n] / size)));
  return g.max_flow(S, T) == int64_t{P} * rf;
}

// An independent optimality certificate for objective 3 (fewest moves): turns
// the assignment `now` into a flow on the graph above (with a (p, z) -> n edge
// costing 1 unless n held p in `before`) and looks for a negative-cost cycle
// in its residual graph with Bellman-Ford. A flow is min-cost iff there is
// none, so `true` proves that no assignment at the same partition size moves
// fewer replicas.
inline bool oracle_moves_minimal(const std::map<node_id, node_role>& roles,
                                 const layout_parameters& params, const layout_version& before,
                                 const layout_version& now) {
  std::vector<node_id> ids;
  std::vector<uint64_t> caps;
  std::vector<std::string> zone_of;
  std::set<std::string> zone_set;
  for (const auto& [id, r] : roles)
    if (!r.is_gateway()) {
      ids.push_back(id);
      caps.push_back(*r.capacity);
      zone_of.push_back(r.zone);
      zone_set.insert(r.zone);
    }
  std::vector<std::string> zones(zone_set.begin(), zone_set.end());
  const int P = partition_count, Z = static_cast<int>(zones.size()),
            N = static_cast<int>(ids.size());
  const int rf = static_cast<int>(params.replication_factor);
  const int zr = params.redundancy.is_maximum()
                     ? std::min(rf, Z)
                     : static_cast<int>(params.redundancy.at_least_zones());
  const uint64_t size = now.partition_size();
  auto zone_index = [&](int n) {
    return static_cast<int>(std::lower_bound(zones.begin(), zones.end(), zone_of[n]) -
                            zones.begin());
  };
  auto node_index = [&](const node_id& id) {
    return static_cast<int>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
  };
  const int S = 0, T = 1;
  auto up = [&](int p) { return 2 + p; };
  auto down = [&](int p) { return 2 + P + p; };
  auto pz = [&](int p, int z) { return 2 + 2 * P + p * Z + z; };
  auto nv = [&](int n) { return 2 + 2 * P + P * Z + n; };
  const int V = 2 + 2 * P + P * Z + N;
  struct arc {
    int from, to, cost;
  };
  std::vector<arc> residual;
  // An edge of capacity `cap` carrying `flow` contributes its residual arcs.
  auto edge = [&](int a, int b, int cap, int flow, int cost) {
    if (flow < cap) residual.push_back({a, b, cost});
    if (flow > 0) residual.push_back({b, a, -cost});
  };
  std::vector<int> load(N, 0);
  for (int p = 0; p < P; ++p) {
    std::vector<int> per_zone(Z, 0);
    std::vector<bool> held(N, false);
    for (const auto& id : now.nodes_of(static_cast<uint32_t>(p))) held[node_index(id)] = true;
    for (int n = 0; n < N; ++n)
      if (held[n]) ++per_zone[zone_index(n)], ++load[n];
    // Route zr units through "up", one per zone (first zones that hold one).
    int up_left = zr;
    std::vector<int> up_flow(Z, 0);
    for (int z = 0; z < Z && up_left > 0; ++z)
      if (per_zone[z] > 0) up_flow[z] = 1, --up_left;
    if (up_left > 0) return false;  // not even a valid assignment
    edge(S, up(p), zr, zr, 0);
    edge(S, down(p), rf - zr, rf - zr, 0);
    auto prev = before.nodes_of(static_cast<uint32_t>(p));
    for (int z = 0; z < Z; ++z) {
      edge(up(p), pz(p, z), 1, up_flow[z], 0);
      edge(down(p), pz(p, z), rf, per_zone[z] - up_flow[z], 0);
    }
    for (int n = 0; n < N; ++n) {
      const bool was = std::find(prev.begin(), prev.end(), ids[n]) != prev.end();
      edge(pz(p, zone_index(n)), nv(n), 1, held[n] ? 1 : 0, was ? 0 : 1);
    }
  }
  for (int n = 0; n < N; ++n)
    edge(nv(n), T, static_cast<int>(std::min<uint64_t>(P, caps[n] / size)), load[n], 0);
  // Bellman-Ford from a virtual source joined to every vertex at cost 0.
  std::vector<int64_t> dist(V, 0);
  for (int round = 0; round < V; ++round) {
    bool changed = false;
    for (const auto& a : residual)
      if (dist[a.from] + a.cost < dist[a.to]) {
        dist[a.to] = dist[a.from] + a.cost;
        changed = true;
      }
    if (!changed) return true;
  }
  return false;
}

}  // namespace garage::layout::testing
