// flow_graph: a directed graph with integer capacities and small non-negative
// integer costs, and a min-cost max-flow solver over it.
//
// Used by the assignment solver (assignment.h); nothing here knows about
// partitions or zones. The solver is the primal-dual method: Dijkstra on
// reduced costs gives vertex potentials, then a Dinic blocking flow pushes
// along every zero-reduced-cost path at once, and the two repeat until the
// sink is unreachable. With 0/1 costs the number of rounds is tiny, so the run
// time is a few Dinic passes over the graph.
//
// Deterministic: the result depends only on the order in which edges were
// added. Not thread-safe; one graph per computation.
#pragma once

#include <cstdint>
#include <vector>

namespace garage::layout {

class flow_graph {
 public:
  explicit flow_graph(uint32_t vertex_count);

  // Adds an edge and returns its id (0, 1, 2, ... in call order).
  // Preconditions: vertices in range, capacity >= 0, cost >= 0.
  uint32_t add_edge(uint32_t from, uint32_t to, int32_t capacity, int32_t cost);

  // Pushes the maximum flow from source to sink, and among maximum flows one
  // of minimum total cost. Returns the flow value. Call once.
  int64_t min_cost_max_flow(uint32_t source, uint32_t sink);

  // Flow on an edge after min_cost_max_flow.
  int32_t flow(uint32_t edge) const { return original_cap_[edge] - cap_[2 * edge]; }
  int64_t total_cost() const;

  uint32_t vertex_count() const { return n_; }
  uint32_t edge_count() const { return static_cast<uint32_t>(original_cap_.size()); }

 private:
  void build_adjacency();
  bool shortest_paths(uint32_t source, uint32_t sink);
  bool admissible(uint32_t arc, uint32_t from) const;
  bool levels(uint32_t source, uint32_t sink);
  int32_t push(uint32_t v, uint32_t sink, int32_t limit);

  uint32_t n_;
  // Arc 2e is edge e forward, arc 2e+1 its reverse.
  std::vector<uint32_t> head_;  // target vertex of each arc
  std::vector<uint32_t> tail_;  // source vertex of each arc
  std::vector<int32_t> cap_;    // residual capacity of each arc
  std::vector<int32_t> cost_;   // cost of each arc (reverse = -forward)
  std::vector<int32_t> original_cap_;
  // Adjacency in compressed form: arcs of vertex v are adj_[start_[v] .. start_[v+1]).
  std::vector<uint32_t> start_;
  std::vector<uint32_t> adj_;
  std::vector<int64_t> potential_;
  std::vector<int64_t> dist_;
  std::vector<int32_t> level_;
  std::vector<uint32_t> next_arc_;
};

}  // namespace garage::layout
