#include "layout/assignment.h"

#include <algorithm>
#include <string>

#include "layout/flow_graph.h"

// Why a closed form decides feasibility (objective 2).
//
// Garage tests each candidate partition size with a max-flow over the graph
//   source -> partition -> (partition, zone) -> node -> sink
// whose node->sink capacity is c_n = min(P, floor(capacity_n / s)). All
// capacities are integers, so an integral flow of value P*RF exists iff a
// fractional one does; and since partitions are interchangeable when only
// feasibility matters, a fractional flow exists iff a symmetric one does (the
// average of a flow over all permutations of partitions is a flow). A
// symmetric flow gives every node a share x_n in [0, min(1, c_n / P)] of each
// partition with sum x_n = RF, and needs zone shares y_z = sum_{n in z} x_n with
// sum_z min(1, y_z) >= ZR (ZR replicas in distinct zones). Lowering shares that
// are above 1 first, then the others, shows that this holds iff
//   sum_n c_n >= P * RF   and   sum_z min(P, sum_{n in z} c_n) >= P * ZR.
// So each test costs O(nodes) instead of a max-flow, and the dichotomy over s
// takes microseconds. The tests check it against an explicit max-flow and
// against exhaustive search on small instances.

namespace garage::layout {

namespace {

uint64_t slots(uint64_t capacity, uint64_t size, uint32_t partitions) {
  return std::min<uint64_t>(partitions, capacity / size);
}

result<void> check_input(const assignment_input& in) {
  const size_t n = in.capacity.size();
  if (in.partition_count == 0 || in.replication_factor == 0 || in.zone_redundancy == 0 ||
      in.zone_redundancy > in.replication_factor)
    return error(errc::invalid_argument,
                 "assignment: bad partition count, replication factor "
                 "or zone redundancy");
  if (in.zone.size() != n) return error(errc::invalid_argument, "assignment: zone per node");
  for (uint32_t z : in.zone)
    if (z >= in.zone_count) return error(errc::invalid_argument, "assignment: zone index");
  if (!in.previous.empty() && in.previous.size() != in.partition_count)
    return error(errc::invalid_argument, "assignment: previous needs one entry per partition");
  return ok();
}

// A dense (partition, node) bit matrix.
class pair_set {
 public:
  pair_set(uint32_t partitions, uint32_t nodes)
      : nodes_(nodes), bits_(size_t{partitions} * nodes) {}
  bool has(uint32_t p, uint32_t n) const { return bits_[size_t{p} * nodes_ + n] != 0; }
  void set(uint32_t p, uint32_t n, bool v) { bits_[size_t{p} * nodes_ + n] = v ? 1 : 0; }

 private:
  uint32_t nodes_;
  std::vector<uint8_t> bits_;
};

// Objective 4: moves a new replica (one not in the previous layout) from node
// a to node b of the same zone when that lowers sum(load^2 / capacity), whose
// minimum spreads load in proportion to capacity. Such a move keeps the zone
// set, the capacity bound and the number of new replicas, so objectives 1-3
// are untouched. The potential strictly decreases, so the loop ends.
void spread_new_replicas(const assignment_input& in, const std::vector<uint64_t>& slots_of,
                         const pair_set& previous, pair_set& holds,
                         std::vector<std::vector<uint32_t>>& replicas) {
  const uint32_t nodes = static_cast<uint32_t>(in.capacity.size());
  std::vector<uint64_t> load(nodes, 0);
  for (const auto& r : replicas)
    for (uint32_t n : r) ++load[n];
  std::vector<std::vector<uint32_t>> members(in.zone_count);
  for (uint32_t n = 0; n < nodes; ++n)
    if (slots_of[n] > 0) members[in.zone[n]].push_back(n);

  // Compares x_num / cap_x < y_num / cap_y exactly.
  auto less = [&](uint64_t x_num, uint32_t x, uint64_t y_num, uint32_t y) {
    using wide = unsigned __int128;
    return wide(x_num) * in.capacity[y] < wide(y_num) * in.capacity[x];
  };
  // Adding a replica to b costs (2*l_b + 1) / cap_b, removing one from a
  // saves (2*l_a - 1) / cap_a.
  auto cheaper_destination = [&](uint32_t b, uint32_t c) {
    return less(2 * load[b] + 1, b, 2 * load[c] + 1, c);
  };
  auto improves = [&](uint32_t b, uint32_t a) {
    return less(2 * load[b] + 1, b, 2 * load[a] - 1, a);
  };
  for (const auto& zone_nodes : members) {
    if (zone_nodes.size() < 2) continue;
    for (bool moved = true; moved;) {
      moved = false;
      for (uint32_t a : zone_nodes) {
        for (uint32_t p = 0; p < in.partition_count; ++p) {
          if (!holds.has(p, a) || previous.has(p, a)) continue;
          // The best destination: least loaded relative to capacity.
          uint32_t best = a;
          for (uint32_t b : zone_nodes) {
            if (b == a || holds.has(p, b) || load[b] >= slots_of[b]) continue;
            if (best == a || cheaper_destination(b, best)) best = b;
          }
          if (best == a || !improves(best, a)) continue;
          holds.set(p, a, false);
          holds.set(p, best, true);
          --load[a];
          ++load[best];
          std::replace(replicas[p].begin(), replicas[p].end(), a, best);
          moved = true;
        }
      }
    }
  }
}

}  // namespace

bool partition_size_feasible(const assignment_input& in, uint64_t size) {
  if (size == 0) return false;
  const uint64_t p = in.partition_count;
  std::vector<uint64_t> per_zone(in.zone_count, 0);
  uint64_t total = 0;
  for (size_t n = 0; n < in.capacity.size(); ++n) {
    uint64_t c = slots(in.capacity[n], size, in.partition_count);
    total += c;
    per_zone[in.zone[n]] += c;
  }
  uint64_t spread = 0;
  for (uint64_t z : per_zone) spread += std::min(p, z);
  return total >= p * in.replication_factor && spread >= p * in.zone_redundancy;
}

uint64_t optimal_partition_size(const assignment_input& in) {
  if (!check_input(in)) return 0;
  uint64_t hi = 0;  // first size known infeasible is hi + 1 at most
  for (uint64_t c : in.capacity) hi = std::max(hi, c);
  if (hi == 0 || !partition_size_feasible(in, 1)) return 0;
  // Feasibility only gets harder as the size grows: invariant lo feasible,
  // anything above hi infeasible (no node holds a partition bigger than itself).
  uint64_t lo = 1;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    if (partition_size_feasible(in, mid))
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

result<assignment_output> compute_assignment(const assignment_input& in) {
  GARAGE_TRY(check_input(in));
  const uint64_t size = optimal_partition_size(in);
  if (size == 0)
    return error(errc::invalid_argument,
                 "assignment: no partition size fits the replication and zone constraints");
  const uint32_t parts = in.partition_count;
  const uint32_t nodes = static_cast<uint32_t>(in.capacity.size());
  const uint32_t zones = in.zone_count;
  const uint32_t rf = in.replication_factor;
  const uint32_t zr = in.zone_redundancy;

  std::vector<uint64_t> slots_of(nodes);
  for (uint32_t n = 0; n < nodes; ++n) slots_of[n] = slots(in.capacity[n], size, parts);
  pair_set previous(parts, nodes);
  if (!in.previous.empty())
    for (uint32_t p = 0; p < parts; ++p)
      for (uint32_t n : in.previous[p])
        if (n < nodes) previous.set(p, n, true);

  // Vertices: source, sink, then per partition an "up" vertex (replicas that
  // must go to distinct zones: capacity 1 towards each zone) and a "down"
  // vertex (the other RF - ZR replicas, any zone), then one vertex per
  // (partition, zone), then one per node. A (partition, zone) -> node edge has
  // capacity 1 (distinct nodes) and costs 1 unless the node held the
  // partition before: the min-cost flow keeps as many old replicas as it can.
  const uint32_t source = 0, sink = 1;
  auto up = [&](uint32_t p) { return 2 + p; };
  auto down = [&](uint32_t p) { return 2 + parts + p; };
  auto pz = [&](uint32_t p, uint32_t z) { return 2 + 2 * parts + p * zones + z; };
  auto node_vertex = [&](uint32_t n) { return 2 + 2 * parts + parts * zones + n; };
  flow_graph graph(2 + 2 * parts + parts * zones + nodes);

  std::vector<std::vector<uint32_t>> members(zones);
  for (uint32_t n = 0; n < nodes; ++n)
    if (slots_of[n] > 0) members[in.zone[n]].push_back(n);

  std::vector<uint32_t> assign_edges;  // edge ids of (partition, zone) -> node
  std::vector<std::pair<uint32_t, uint32_t>> assign_pairs;
  for (uint32_t p = 0; p < parts; ++p) {
    graph.add_edge(source, up(p), static_cast<int32_t>(zr), 0);
    if (rf > zr) graph.add_edge(source, down(p), static_cast<int32_t>(rf - zr), 0);
    for (uint32_t z = 0; z < zones; ++z) {
      if (members[z].empty()) continue;
      graph.add_edge(up(p), pz(p, z), 1, 0);
      if (rf > zr) graph.add_edge(down(p), pz(p, z), static_cast<int32_t>(rf - zr), 0);
      for (uint32_t n : members[z]) {
        assign_edges.push_back(
            graph.add_edge(pz(p, z), node_vertex(n), 1, previous.has(p, n) ? 0 : 1));
        assign_pairs.push_back({p, n});
      }
    }
  }
  for (uint32_t n = 0; n < nodes; ++n)
    if (slots_of[n] > 0) graph.add_edge(node_vertex(n), sink, static_cast<int32_t>(slots_of[n]), 0);

  const int64_t flow = graph.min_cost_max_flow(source, sink);
  if (flow != int64_t{parts} * rf)
    return error(errc::internal, "assignment: max flow " + std::to_string(flow) +
                                     " below partitions * replication factor at a feasible size");

  assignment_output out;
  out.partition_size = size;
  out.replicas.assign(parts, {});
  pair_set holds(parts, nodes);
  for (size_t i = 0; i < assign_edges.size(); ++i) {
    if (graph.flow(assign_edges[i]) == 0) continue;
    auto [p, n] = assign_pairs[i];
    out.replicas[p].push_back(n);
    holds.set(p, n, true);
  }
  spread_new_replicas(in, slots_of, previous, holds, out.replicas);
  for (uint32_t p = 0; p < parts; ++p) {
    std::sort(out.replicas[p].begin(), out.replicas[p].end());
    for (uint32_t n : out.replicas[p])
      if (!previous.has(p, n)) ++out.new_replicas;
  }
  return out;
}

}  // namespace garage::layout
