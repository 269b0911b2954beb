// compute_partition_health: partitions with a write quorum up and with every
// replica up, given a layout and the nodes that are up.
#include <gtest/gtest.h>

#include <set>

#include "layout/layout.h"
#include "layout_test_util.h"

namespace garage::layout {
namespace {

using testing::make_id;
using testing::TB;

// n storage nodes in n zones, replication factor rf.
layout_history cluster(uint32_t n, uint32_t rf) {
  layout_history h(layout_parameters{rf});
  for (uint32_t i = 1; i <= n; ++i)
    EXPECT_TRUE(h.stage_role(make_id(i), node_role::storage(std::string(1, char('a' + i)), TB)));
  EXPECT_TRUE(h.apply(1).has_value());
  return h;
}

partition_health health(const layout_history& h, const std::set<node_id>& up, uint64_t quorum) {
  return compute_partition_health(
      h, [&](const node_id& n) { return up.count(n) > 0; }, quorum);
}

TEST(partition_health, no_layout_is_unavailable) {
  layout_history h;
  auto r = health(h, {}, 2);
  EXPECT_FALSE(r.has_assignment);
  EXPECT_EQ(r.partitions, 0u);
  EXPECT_EQ(r.partitions_quorum, 0u);
  EXPECT_EQ(r.status(), "unavailable");
}

TEST(partition_health, every_node_up_is_healthy) {
  auto h = cluster(3, 3);
  auto r = health(h, {make_id(1), make_id(2), make_id(3)}, 2);
  EXPECT_EQ(r.storage_nodes, 3u);
  EXPECT_EQ(r.storage_nodes_up, 3u);
  EXPECT_EQ(r.partitions, 256u);
  EXPECT_EQ(r.partitions_quorum, 256u);
  EXPECT_EQ(r.partitions_all_ok, 256u);
  EXPECT_EQ(r.status(), "healthy");
}

TEST(partition_health, one_node_down_of_three_keeps_the_quorum) {
  auto h = cluster(3, 3);
  auto r = health(h, {make_id(1), make_id(2)}, 2);
  EXPECT_EQ(r.storage_nodes_up, 2u);
  EXPECT_EQ(r.partitions_quorum, 256u);
  EXPECT_EQ(r.partitions_all_ok, 0u);  // every partition has a replica on node 3
  EXPECT_EQ(r.status(), "degraded");
}

TEST(partition_health, two_nodes_down_of_three_lose_the_quorum) {
  auto h = cluster(3, 3);
  auto r = health(h, {make_id(1)}, 2);
  EXPECT_EQ(r.partitions_quorum, 0u);
  EXPECT_EQ(r.partitions_all_ok, 0u);
  EXPECT_EQ(r.status(), "unavailable");
  // A quorum of 1 (dangerous mode) still takes writes.
  EXPECT_EQ(health(h, {make_id(1)}, 1).partitions_quorum, 256u);
}

TEST(partition_health, counts_only_the_partitions_of_the_down_node) {
  // Five nodes, replication factor 3: a node down touches only its partitions.
  auto h = cluster(5, 3);
  std::set<node_id> up{make_id(1), make_id(2), make_id(3), make_id(4)};
  auto r = health(h, up, 2);
  const uint64_t on_5 = h.current().partitions_of(make_id(5));
  ASSERT_GT(on_5, 0u);
  ASSERT_LT(on_5, 256u);
  EXPECT_EQ(r.partitions_quorum, 256u);
  EXPECT_EQ(r.partitions_all_ok, 256u - on_5);
  // Nodes 4 and 5 down: partitions holding both lose their quorum.
  up.erase(make_id(4));
  uint64_t both = 0, either = 0;
  for (uint32_t p = 0; p < partition_count; ++p) {
    auto nodes = h.current().nodes_of(p);
    int down = 0;
    for (const auto& n : nodes) down += !up.count(n);
    both += down >= 2;
    either += down >= 1;
  }
  r = health(h, up, 2);
  EXPECT_EQ(r.partitions_quorum, 256u - both);
  EXPECT_EQ(r.partitions_all_ok, 256u - either);
}

TEST(partition_health, a_transition_needs_a_quorum_in_every_live_version) {
  // Version 1 on nodes 1-3; version 2 moves everything to nodes 4-6. While
  // both are live, a write needs a quorum in both sets.
  auto h = cluster(3, 3);
  for (uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE(h.stage_remove(make_id(i)));
  for (uint32_t i = 4; i <= 6; ++i)
    ASSERT_TRUE(h.stage_role(make_id(i), node_role::storage(std::string(1, char('a' + i)), TB)));
  ASSERT_TRUE(h.apply(2).has_value());
  ASSERT_EQ(h.versions().size(), 2u);
  std::set<node_id> new_only{make_id(4), make_id(5), make_id(6)};
  auto r = health(h, new_only, 2);
  EXPECT_EQ(r.storage_nodes, 3u);  // of the current version
  EXPECT_EQ(r.storage_nodes_up, 3u);
  EXPECT_EQ(r.partitions_quorum, 0u);
  std::set<node_id> all{make_id(1), make_id(2), make_id(3), make_id(4), make_id(5), make_id(6)};
  r = health(h, all, 2);
  EXPECT_EQ(r.partitions_quorum, 256u);
  EXPECT_EQ(r.partitions_all_ok, 256u);
}

}  // namespace
}  // namespace garage::layout
