#include "layout/flow_graph.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <limits>
#include <queue>
#include <utility>

namespace garage::layout {

namespace {
constexpr int64_t unreachable = std::numeric_limits<int64_t>::max();
}

flow_graph::flow_graph(uint32_t vertex_count) : n_(vertex_count) {}

uint32_t flow_graph::add_edge(uint32_t from, uint32_t to, int32_t capacity, int32_t cost) {
  assert(from < n_ && to < n_ && capacity >= 0 && cost >= 0);
  uint32_t id = static_cast<uint32_t>(original_cap_.size());
  original_cap_.push_back(capacity);
  head_.push_back(to);
  tail_.push_back(from);
  cap_.push_back(capacity);
  cost_.push_back(cost);
  head_.push_back(from);
  tail_.push_back(to);
  cap_.push_back(0);
  cost_.push_back(-cost);
  return id;
}

int64_t flow_graph::total_cost() const {
  int64_t total = 0;
  for (uint32_t e = 0; e < edge_count(); ++e) total += int64_t{flow(e)} * cost_[2 * e];
  return total;
}

void flow_graph::build_adjacency() {
  start_.assign(n_ + 1, 0);
  for (uint32_t t : tail_) ++start_[t + 1];
  for (uint32_t v = 0; v < n_; ++v) start_[v + 1] += start_[v];
  adj_.resize(tail_.size());
  std::vector<uint32_t> fill(start_.begin(), start_.end() - 1);
  // Arcs keep their insertion order inside a vertex: the result only depends
  // on the order of add_edge calls.
  for (uint32_t a = 0; a < tail_.size(); ++a) adj_[fill[tail_[a]]++] = a;
}

// Dijkstra on reduced costs (non-negative by the potential invariant), then
// folds the distances into the potentials so that every arc on a shortest
// path gets reduced cost zero.
bool flow_graph::shortest_paths(uint32_t source, uint32_t sink) {
  dist_.assign(n_, unreachable);
  using item = std::pair<int64_t, uint32_t>;
  std::priority_queue<item, std::vector<item>, std::greater<item>> queue;
  dist_[source] = 0;
  queue.push({0, source});
  while (!queue.empty()) {
    auto [d, v] = queue.top();
    queue.pop();
    if (d != dist_[v]) continue;
    for (uint32_t i = start_[v]; i < start_[v + 1]; ++i) {
      uint32_t a = adj_[i];
      if (cap_[a] <= 0) continue;
      uint32_t w = head_[a];
      int64_t reduced = cost_[a] + potential_[v] - potential_[w];
      assert(reduced >= 0);
      if (d + reduced < dist_[w]) {
        dist_[w] = d + reduced;
        queue.push({dist_[w], w});
      }
    }
  }
  if (dist_[sink] == unreachable) return false;
  int64_t farthest = 0;
  for (int64_t d : dist_)
    if (d != unreachable) farthest = std::max(farthest, d);
  // Unreachable vertices get the largest finite distance: arcs from them into
  // the reachable part keep a non-negative reduced cost.
  for (uint32_t v = 0; v < n_; ++v) potential_[v] += dist_[v] == unreachable ? farthest : dist_[v];
  return true;
}

bool flow_graph::admissible(uint32_t arc, uint32_t from) const {
  return cap_[arc] > 0 && cost_[arc] + potential_[from] - potential_[head_[arc]] == 0;
}

bool flow_graph::levels(uint32_t source, uint32_t sink) {
  level_.assign(n_, -1);
  std::vector<uint32_t> queue{source};
  level_[source] = 0;
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    uint32_t v = queue[qi];
    for (uint32_t i = start_[v]; i < start_[v + 1]; ++i) {
      uint32_t a = adj_[i];
      uint32_t w = head_[a];
      if (level_[w] < 0 && admissible(a, v)) {
        level_[w] = level_[v] + 1;
        queue.push_back(w);
      }
    }
  }
  return level_[sink] >= 0;
}

int32_t flow_graph::push(uint32_t v, uint32_t sink, int32_t limit) {
  if (v == sink) return limit;
  for (uint32_t& i = next_arc_[v]; i < start_[v + 1]; ++i) {
    uint32_t a = adj_[i];
    uint32_t w = head_[a];
    if (level_[w] != level_[v] + 1 || !admissible(a, v)) continue;
    int32_t pushed = push(w, sink, std::min(limit, cap_[a]));
    if (pushed > 0) {
      cap_[a] -= pushed;
      cap_[a ^ 1] += pushed;
      return pushed;
    }
  }
  return 0;
}

int64_t flow_graph::min_cost_max_flow(uint32_t source, uint32_t sink) {
  build_adjacency();
  potential_.assign(n_, 0);
  int64_t total = 0;
  while (shortest_paths(source, sink)) {
    // Blocking flows on the zero-reduced-cost subgraph until the sink is cut
    // off from the source in it; then new potentials are needed.
    while (levels(source, sink)) {
      next_arc_.assign(start_.begin(), start_.end() - 1);
      while (int32_t f = push(source, sink, std::numeric_limits<int32_t>::max())) total += f;
    }
  }
  return total;
}

}  // namespace garage::layout
