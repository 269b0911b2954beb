// Hand-made cases for compute_layout: the guarantees on clusters small enough
// to reason about on paper.
#include <gtest/gtest.h>

#include "layout/layout.h"
#include "layout_test_util.h"

namespace garage::layout {
namespace {

using testing::check_invariants;
using testing::GB;
using testing::make_id;
using testing::TB;

layout_parameters rf_max(uint32_t rf) { return {rf, zone_redundancy::maximum()}; }

computed_layout must(result<computed_layout> r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return std::move(r).value();
}

std::string must_fail(const result<computed_layout>& r) {
  EXPECT_FALSE(r.has_value());
  return r ? std::string() : r.error().message;
}

TEST(compute_layout, three_nodes_three_zones) {
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 1 * TB)},
      {make_id(2), node_role::storage("b", 1 * TB)},
      {make_id(3), node_role::storage("c", 1 * TB)},
  };
  auto c = must(preview_layout(roles, rf_max(3)));
  EXPECT_EQ(check_invariants(c.version, roles, rf_max(3)), "");
  EXPECT_EQ(c.version.version(), 1u);
  EXPECT_EQ(c.version.partition_size(), 1 * TB / 256);
  for (uint32_t n = 1; n <= 3; ++n) EXPECT_EQ(c.version.partitions_of(make_id(n)), 256u);
  EXPECT_EQ(c.report.zone_redundancy, 3u);
  EXPECT_EQ(c.report.usable_capacity, 1 * TB / 256 * 256 * 3);
  EXPECT_EQ(c.report.effective_capacity, 1 * TB / 256 * 256);
  EXPECT_EQ(c.report.replicas_moved, 768u);
  EXPECT_NEAR(c.report.usable_percent(), 100.0, 0.01);
  std::string text = c.report.to_string();
  EXPECT_NE(text.find(short_id(make_id(1))), std::string::npos) << text;
  EXPECT_NE(text.find("3.0 TB / 3.0 TB (100.0%)"), std::string::npos) << text;
}

TEST(compute_layout, fourth_node_in_existing_zone_gets_nothing_when_other_zones_are_full) {
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 1 * TB)},
      {make_id(2), node_role::storage("b", 1 * TB)},
      {make_id(3), node_role::storage("c", 1 * TB)},
  };
  auto first = must(preview_layout(roles, rf_max(3)));
  roles[make_id(4)] = node_role::storage("a", 1 * TB);
  auto second = must(compute_layout(first.version, roles, rf_max(3)));
  EXPECT_EQ(check_invariants(second.version, roles, rf_max(3)), "");
  // Zones b and c already hold a full copy each: the partition size cannot
  // grow, so nothing needs to move to the new node.
  EXPECT_EQ(second.version.partition_size(), first.version.partition_size());
  EXPECT_EQ(second.report.replicas_moved, 0u);
  EXPECT_EQ(second.version.partitions_of(make_id(4)), 0u);
  EXPECT_EQ(second.version.version(), 2u);
  EXPECT_LT(second.report.usable_percent(), 80.0);
  EXPECT_NE(second.report.to_string().find("saturated"), std::string::npos);
}

TEST(compute_layout, unequal_capacities_single_zone_are_used_in_proportion) {
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 1 * TB)},
      {make_id(2), node_role::storage("a", 3 * TB)},
  };
  auto c = must(preview_layout(roles, rf_max(1)));
  EXPECT_EQ(check_invariants(c.version, roles, rf_max(1)), "");
  EXPECT_EQ(c.version.partition_size(), 4 * TB / 256);
  EXPECT_EQ(c.version.partitions_of(make_id(1)), 64u);
  EXPECT_EQ(c.version.partitions_of(make_id(2)), 192u);
  EXPECT_NEAR(c.report.usable_percent(), 100.0, 0.01);
}

TEST(compute_layout, unequal_capacities_across_zones) {
  // RF 2 over zones of 1, 2 and 1 TB: zone b holds one replica of every
  // partition (2 TB are more than it can use), a and c share the other.
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 1 * TB)},
      {make_id(2), node_role::storage("b", 2 * TB)},
      {make_id(3), node_role::storage("c", 1 * TB)},
  };
  auto c = must(preview_layout(roles, rf_max(2)));
  EXPECT_EQ(check_invariants(c.version, roles, rf_max(2)), "");
  EXPECT_EQ(c.version.partition_size(), 1 * TB / 128);
  EXPECT_EQ(c.version.partitions_of(make_id(1)), 128u);
  EXPECT_EQ(c.version.partitions_of(make_id(2)), 256u);
  EXPECT_EQ(c.version.partitions_of(make_id(3)), 128u);
  EXPECT_EQ(c.report.usable_capacity, 1 * TB / 128 * 512);
}

TEST(compute_layout, spreads_new_replicas_over_a_zone_by_capacity) {
  // Zone a has 4 nodes but only needs 256 replicas: they go 1:1:1:2 by capacity.
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 1 * TB)}, {make_id(2), node_role::storage("a", 1 * TB)},
      {make_id(3), node_role::storage("a", 1 * TB)}, {make_id(4), node_role::storage("a", 2 * TB)},
      {make_id(5), node_role::storage("b", 1 * TB)}, {make_id(6), node_role::storage("c", 1 * TB)},
  };
  auto c = must(preview_layout(roles, rf_max(3)));
  EXPECT_EQ(check_invariants(c.version, roles, rf_max(3)), "");
  for (uint32_t n = 1; n <= 3; ++n) {
    EXPECT_GE(c.version.partitions_of(make_id(n)), 50u);
    EXPECT_LE(c.version.partitions_of(make_id(n)), 52u);
  }
  EXPECT_GE(c.version.partitions_of(make_id(4)), 100u);
  EXPECT_LE(c.version.partitions_of(make_id(4)), 104u);
}

TEST(compute_layout, gateways_store_nothing_and_do_not_count_as_zones) {
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 1 * TB)},
      {make_id(2), node_role::storage("b", 1 * TB)},
      {make_id(3), node_role::gateway("c", {"edge"})},
      {make_id(4), node_role::gateway("a")},
  };
  auto c = must(preview_layout(roles, rf_max(2)));
  EXPECT_EQ(check_invariants(c.version, roles, rf_max(2)), "");
  EXPECT_EQ(c.version.partitions_of(make_id(3)), 0u);
  EXPECT_EQ(c.version.partitions_of(make_id(4)), 0u);
  EXPECT_EQ(c.version.storage_nodes().size(), 2u);
  EXPECT_EQ(c.version.all_nodes().size(), 4u);
  EXPECT_EQ(c.report.zone_redundancy, 2u);  // zone c has no storage
  EXPECT_EQ(c.report.total_capacity, 2 * TB);
  EXPECT_NE(c.report.to_string().find("gateway"), std::string::npos);
  // With RF 3 the two storage nodes are not enough, gateways do not help.
  std::string msg = must_fail(preview_layout(roles, rf_max(3)));
  EXPECT_NE(msg.find("needs at least 3 storage nodes"), std::string::npos) << msg;
}

TEST(compute_layout, removing_a_node_moves_only_its_replicas) {
  std::map<node_id, node_role> roles;
  for (uint32_t n = 1; n <= 4; ++n)
    roles[make_id(n)] = node_role::storage(std::string(1, char('a' + n - 1)), 1 * TB);
  auto first = must(preview_layout(roles, rf_max(3)));
  for (uint32_t n = 1; n <= 4; ++n) EXPECT_EQ(first.version.partitions_of(make_id(n)), 192u);
  roles.erase(make_id(4));
  auto second = must(compute_layout(first.version, roles, rf_max(3)));
  EXPECT_EQ(check_invariants(second.version, roles, rf_max(3)), "");
  EXPECT_EQ(second.report.replicas_moved, 192u);  // exactly the replicas node 4 held
  for (uint32_t n = 1; n <= 3; ++n) EXPECT_EQ(second.version.partitions_of(make_id(n)), 256u);
  // The report says where the data goes: from zone d to each other zone.
  uint32_t from_d = 0;
  for (const auto& t : second.report.transfers) {
    EXPECT_EQ(t.from, "d");
    from_d += t.replicas;
  }
  EXPECT_EQ(from_d, 192u);
}

TEST(compute_layout, zone_redundancy_at_least_two_with_five_zones) {
  // One big zone and four small ones: "maximum" (3 zones) is bounded by the
  // small zones, "at least 2" lets the big zone hold two replicas.
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("big", 1 * TB)},
      {make_id(2), node_role::storage("big", 1 * TB)},
      {make_id(3), node_role::storage("big", 1 * TB)},
  };
  for (uint32_t z = 0; z < 4; ++z)
    roles[make_id(10 + z)] = node_role::storage("small" + std::to_string(z), 250 * GB);
  layout_parameters two{3, zone_redundancy::at_least(2)};
  auto relaxed = must(preview_layout(roles, two));
  auto strict = must(preview_layout(roles, rf_max(3)));
  EXPECT_EQ(check_invariants(relaxed.version, roles, two), "");
  EXPECT_EQ(check_invariants(strict.version, roles, rf_max(3)), "");
  EXPECT_EQ(relaxed.report.zone_redundancy, 2u);
  EXPECT_GT(relaxed.version.partition_size(), strict.version.partition_size());
  bool some_partition_uses_two_zones = false;
  for (uint32_t p = 0; p < partition_count; ++p) {
    std::set<std::string> zones;
    for (const auto& n : relaxed.version.nodes_of(p)) zones.insert(roles[n].zone);
    EXPECT_GE(zones.size(), 2u);
    some_partition_uses_two_zones |= zones.size() == 2;
  }
  EXPECT_TRUE(some_partition_uses_two_zones);
  // Both are optimal: the next size up is infeasible for an independent max-flow.
  EXPECT_FALSE(testing::oracle_feasible(roles, two, relaxed.version.partition_size() + 1));
  EXPECT_FALSE(testing::oracle_feasible(roles, rf_max(3), strict.version.partition_size() + 1));
}

TEST(compute_layout, replication_factor_one) {
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 100 * GB)},
      {make_id(2), node_role::storage("b", 200 * GB)},
      {make_id(3), node_role::storage("c", 100 * GB)},
  };
  auto c = must(preview_layout(roles, rf_max(1)));
  EXPECT_EQ(check_invariants(c.version, roles, rf_max(1)), "");
  EXPECT_EQ(c.report.zone_redundancy, 1u);
  EXPECT_EQ(c.version.partition_size(), 400 * GB / 256);
  EXPECT_EQ(c.version.partitions_of(make_id(2)), 128u);
  for (uint32_t p = 0; p < partition_count; ++p) EXPECT_EQ(c.version.nodes_of(p).size(), 1u);
}

TEST(compute_layout, replication_factor_five) {
  std::map<node_id, node_role> roles;
  for (uint32_t n = 0; n < 6; ++n)
    roles[make_id(n)] = node_role::storage("z" + std::to_string(n % 3), 1 * TB);
  auto c = must(preview_layout(roles, rf_max(5)));
  EXPECT_EQ(check_invariants(c.version, roles, rf_max(5)), "");
  EXPECT_EQ(c.report.zone_redundancy, 3u);
  // 6 nodes of 1 TB, 5 replicas of 256 partitions: 1280 replicas over 6 nodes.
  EXPECT_EQ(c.version.partition_size(), 1 * TB / 214);
  EXPECT_FALSE(testing::oracle_feasible(roles, rf_max(5), c.version.partition_size() + 1));

  std::map<node_id, node_role> five;
  for (uint32_t n = 0; n < 5; ++n)
    five[make_id(n)] = node_role::storage("z" + std::to_string(n), 1 * TB);
  auto d = must(preview_layout(five, rf_max(5)));
  for (uint32_t n = 0; n < 5; ++n) EXPECT_EQ(d.version.partitions_of(make_id(n)), 256u);
}

TEST(compute_layout, errors_name_the_constraint_and_the_fix) {
  std::map<node_id, node_role> two_zones = {
      {make_id(1), node_role::storage("a", 1 * TB)},
      {make_id(2), node_role::storage("b", 1 * TB)},
      {make_id(3), node_role::storage("b", 1 * TB)},
  };
  std::string msg = must_fail(preview_layout(two_zones, {3, zone_redundancy::at_least(3)}));
  EXPECT_NE(msg.find("needs storage nodes in 3 distinct zones, the layout has 2 (a, b)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("lower the zone redundancy to 2"), std::string::npos) << msg;
  // "maximum" adapts to two zones.
  EXPECT_TRUE(preview_layout(two_zones, rf_max(3)).has_value());

  msg = must_fail(preview_layout(two_zones, rf_max(4)));
  EXPECT_NE(msg.find("replication factor 4 needs at least 4 storage nodes"), std::string::npos)
      << msg;

  auto empty_zone = two_zones;
  empty_zone[make_id(9)] = node_role::storage("", 1 * TB);
  msg = must_fail(preview_layout(empty_zone, rf_max(3)));
  EXPECT_NE(msg.find(short_id(make_id(9))), std::string::npos) << msg;
  EXPECT_NE(msg.find("zone name is empty"), std::string::npos) << msg;

  auto zero = two_zones;
  zero[make_id(9)] = node_role::storage("c", 0);
  msg = must_fail(preview_layout(zero, rf_max(3)));
  EXPECT_NE(msg.find("gateway"), std::string::npos) << msg;

  std::map<node_id, node_role> tiny = {
      {make_id(1), node_role::storage("a", 100)},
      {make_id(2), node_role::storage("b", 100)},
  };
  msg = must_fail(preview_layout(tiny, rf_max(2)));
  EXPECT_NE(msg.find("capacities are too small"), std::string::npos) << msg;
  EXPECT_NE(msg.find("a=100 b=100"), std::string::npos) << msg;

  msg = must_fail(preview_layout(two_zones, rf_max(8)));
  EXPECT_NE(msg.find("between 1 and 7"), std::string::npos) << msg;
  msg = must_fail(preview_layout(two_zones, {2, zone_redundancy::at_least(3)}));
  EXPECT_NE(msg.find("cannot exceed the replication factor"), std::string::npos) << msg;

  std::map<node_id, node_role> huge = {
      {make_id(1), node_role::storage("a", UINT64_MAX / 2 + 1)},
      {make_id(2), node_role::storage("b", UINT64_MAX / 2 + 1)},
  };
  msg = must_fail(preview_layout(huge, rf_max(1)));
  EXPECT_NE(msg.find("more than 2^64 bytes"), std::string::npos) << msg;
  huge.erase(make_id(2));
  auto one_huge = must(preview_layout(huge, rf_max(1)));
  EXPECT_EQ(one_huge.report.usable_capacity, (UINT64_MAX / 2 + 1) / 256 * 256);

  msg = must_fail(preview_layout({}, rf_max(1)));
  EXPECT_NE(msg.find("needs at least 1 storage nodes"), std::string::npos) << msg;
}

TEST(compute_layout, partition_of_is_the_first_byte) {
  hash256 h;
  h.bytes[0] = 0xab;
  h.bytes[1] = 0xff;
  EXPECT_EQ(partition_of(h), 0xabu);
  std::map<node_id, node_role> roles = {
      {make_id(1), node_role::storage("a", 1 * TB)},
      {make_id(2), node_role::storage("b", 1 * TB)},
  };
  auto c = must(preview_layout(roles, rf_max(1)));
  EXPECT_EQ(c.version.nodes_of(h), c.version.nodes_of(0xabu));
}

TEST(zone_redundancy, parses_and_prints) {
  EXPECT_TRUE(zone_redundancy::parse("maximum")->is_maximum());
  EXPECT_EQ(zone_redundancy::parse("2")->at_least_zones(), 2u);
  EXPECT_FALSE(zone_redundancy::parse("0").has_value());
  EXPECT_FALSE(zone_redundancy::parse("two").has_value());
  EXPECT_EQ(zone_redundancy::at_least(2).to_string(), "at least 2");
  EXPECT_EQ(format_bytes(1500 * GB), "1.5 TB");
  EXPECT_EQ(format_bytes(999), "999 B");
}

}  // namespace
}  // namespace garage::layout
