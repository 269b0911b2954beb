// Time to compute a layout (tests/bench, issue 3): 10, 100 and 1,000 nodes
// over 3, 10 and 50 zones, replication factor 3, zone redundancy maximum.
//   from_scratch   first layout of a cluster (what the operator previews)
//   one_change     the next layout after one node's capacity changed (what
//                  `apply` computes on a live cluster: min-cost flow against
//                  the previous assignment)
// The aim is well under 1 s for 1,000 nodes. Timings are reported, never
// asserted.
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <string>

#include "layout/layout.h"

namespace {

using namespace garage::layout;

constexpr uint64_t GB = 1000ull * 1000 * 1000;

std::map<node_id, node_role> cluster(int64_t nodes, int64_t zones) {
  std::mt19937_64 rng(static_cast<uint64_t>(nodes * 1000 + zones));
  std::map<node_id, node_role> roles;
  for (int64_t n = 0; n < nodes; ++n) {
    // Every zone gets nodes; capacities 1-8 TB.
    std::string zone = "zone" + std::to_string(n % zones);
    roles[garage::blake2b_256("bench-node-" + std::to_string(n))] =
        node_role::storage(zone, (1000 + rng() % 7000) * GB);
  }
  return roles;
}

const layout_parameters params{3, zone_redundancy::maximum()};

void from_scratch(benchmark::State& state) {
  auto roles = cluster(state.range(0), state.range(1));
  for (auto _ : state) {
    auto r = preview_layout(roles, params);
    if (!r) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(r);
  }
}

void one_change(benchmark::State& state) {
  auto roles = cluster(state.range(0), state.range(1));
  auto first = preview_layout(roles, params);
  if (!first) {
    state.SkipWithError(first.error().message.c_str());
    return;
  }
  auto& changed = roles.begin()->second;
  *changed.capacity *= 2;
  uint64_t moved = 0;
  for (auto _ : state) {
    auto r = compute_layout(first->version, roles, params);
    if (!r) state.SkipWithError(r.error().message.c_str());
    moved = r ? r->report.replicas_moved : 0;
    benchmark::DoNotOptimize(r);
  }
  state.counters["moved"] = static_cast<double>(moved);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t nodes : {10, 100, 1000})
    for (int64_t zones : {3, 10, 50})
      if (zones <= nodes) b->Args({nodes, zones});
  b->ArgNames({"nodes", "zones"})->Unit(benchmark::kMillisecond);
}

BENCHMARK(from_scratch)->Apply(sizes);
BENCHMARK(one_change)->Apply(sizes);

}  // namespace

// Own main, so the file links whether or not benchmark::benchmark_main is
// linked too (an archive's main is then simply not pulled in).
BENCHMARK_MAIN();
