#include "garage/layout_plan.h"

#include <gtest/gtest.h>

namespace garage::op::admin {
namespace {

using nlohmann::json;

std::string id(char c) { return std::string(64, c); }

constexpr uint64_t G = 1000000000ULL;

// A GetClusterLayout answer as the node writes it (layout_handlers.cc).
json layout_with(json roles, json staged = json::array()) {
  return json{{"version", 1},
              {"roles", std::move(roles)},
              {"partitionSize", 1000},
              {"parameters", {{"zoneRedundancy", "maximum"}}},
              {"stagedRoleChanges", std::move(staged)},
              {"stagedParameters", nullptr},
              {"conflicts", json::array()}};
}

json role(char c, const std::string& zone, uint64_t cap, json tags = json::array()) {
  return json{{"id", id(c)},
              {"zone", zone},
              {"capacity", cap},
              {"tags", std::move(tags)},
              {"storedPartitions", 256},
              {"usableCapacity", cap}};
}

TEST(PlanLayout, EmptyClusterAddsEveryNode) {
  json empty = layout_with(json::array());
  auto plan = plan_layout(
      empty,
      {{id('a'), "a", 10 * G, {}}, {id('b'), "a", 10 * G, {"ssd"}}, {id('c'), "b", 5 * G, {}}}, {});
  ASSERT_EQ(plan.changes.size(), 3u);
  EXPECT_FALSE(plan.empty());
  EXPECT_EQ(plan.added, 3);
  EXPECT_EQ(plan.changes[1], (role_change{id('b'), false, "a", 10 * G, {"ssd"}}));
  EXPECT_EQ(plan.summary, "add 2 nodes to zone a, 1 node to zone b");
}

TEST(PlanLayout, NothingToDoWhenRolesMatch) {
  json cur = layout_with(json::array({role('a', "a", 10 * G), role('b', "b", 10 * G, {"x"})}));
  auto plan = plan_layout(cur, {{id('a'), "a", 10 * G, {}}, {id('b'), "b", 10 * G, {"x"}}}, {});
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(plan.summary, "");
  // Removing a node without role is nothing to do either.
  EXPECT_TRUE(plan_layout(cur, {}, {id('f')}).empty());
}

TEST(PlanLayout, UpdatesCapacityZoneTags) {
  json cur = layout_with(
      json::array({role('a', "a", 10 * G), role('b', "b", 10 * G), role('c', "c", 10 * G)}));
  auto plan = plan_layout(
      cur, {{id('a'), "a", 20 * G, {}}, {id('b'), "b", 10 * G, {"t"}}, {id('c'), "c", 10 * G, {}}},
      {});
  ASSERT_EQ(plan.changes.size(), 2u);
  EXPECT_EQ(plan.updated, 2);
  EXPECT_EQ(plan.changes[0].capacity, 20 * G);
  EXPECT_EQ(plan.changes[1].tags, std::vector<std::string>{"t"});
  EXPECT_EQ(plan.summary, "change capacity/tags of 1 node in zone a, 1 node in zone b");
}

TEST(PlanLayout, RemovesOnlyNodesWithRoleAndLeavesOthersAlone) {
  json cur = layout_with(
      json::array({role('a', "a", 10 * G), role('b', "b", 10 * G), role('c', "b", 10 * G)}));
  auto plan = plan_layout(cur, {}, {id('b'), id('c'), id('d')});
  ASSERT_EQ(plan.changes.size(), 2u);
  EXPECT_TRUE(plan.changes[0].remove);
  EXPECT_EQ(plan.changes[0].id, id('b'));
  EXPECT_EQ(plan.removed, 2);
  EXPECT_EQ(plan.summary, "remove 2 nodes from zone b");
  // An id both wanted and to remove is kept.
  auto keep = plan_layout(cur, {{id('b'), "b", 10 * G, {}}}, {id('b')});
  EXPECT_TRUE(keep.empty());
}

TEST(PlanLayout, StagedChangesCount) {
  // a: current 10G, staged 20G; b: staged add; c: current, staged removal.
  json cur = layout_with(
      json::array({role('a', "a", 10 * G), role('c', "c", 10 * G)}),
      json::array(
          {json{{"id", id('a')}, {"zone", "a"}, {"capacity", 20 * G}, {"tags", json::array()}},
           json{{"id", id('b')}, {"zone", "b"}, {"capacity", 5 * G}, {"tags", json::array()}},
           json{{"id", id('c')}, {"remove", true}}}));
  // Already staged as wanted: nothing to do, and the removal is not repeated.
  EXPECT_TRUE(
      plan_layout(cur, {{id('a'), "a", 20 * G, {}}, {id('b'), "b", 5 * G, {}}}, {id('c')}).empty());
  // Wanting the current (not the staged) capacity of a is a change.
  auto back = plan_layout(cur, {{id('a'), "a", 10 * G, {}}}, {});
  ASSERT_EQ(back.changes.size(), 1u);
  EXPECT_EQ(back.changes[0].capacity, 10 * G);
  // c is staged for removal; wanting it back re-adds it.
  auto readd = plan_layout(cur, {{id('c'), "c", 10 * G, {}}}, {});
  ASSERT_EQ(readd.changes.size(), 1u);
  EXPECT_EQ(readd.added, 1);
  // b has only a staged role; removing it stages a removal.
  auto rm = plan_layout(cur, {}, {id('b')});
  ASSERT_EQ(rm.changes.size(), 1u);
  EXPECT_TRUE(rm.changes[0].remove);
  auto eff = effective_roles(cur);
  ASSERT_EQ(eff.size(), 2u);
  EXPECT_EQ(eff[0].id, id('a'));
  EXPECT_EQ(eff[0].capacity, 20 * G);
  EXPECT_EQ(eff[1].id, id('b'));
}

TEST(PlanLayout, MixedSummary) {
  json cur = layout_with(json::array({role('a', "a", 10 * G), role('b', "b", 10 * G)}));
  auto plan = plan_layout(cur, {{id('c'), "c", 10 * G, {}}, {id('a'), "z", 10 * G, {}}}, {id('b')});
  EXPECT_EQ(plan.changes.size(), 3u);
  EXPECT_EQ(plan.summary,
            "add 1 node to zone c; remove 1 node from zone b; change zone of 1 node in zone z");
}

std::vector<desired_node> nodes_in(const std::vector<std::string>& zones, uint64_t cap = 10 * G) {
  std::vector<desired_node> out;
  char c = '1';
  for (const auto& z : zones) out.push_back({id(c++), z, cap, {}});
  return out;
}

TEST(CheckFeasible, OneZoneRf3WithThreeNodesIsFineWithoutZoneRedundancy) {
  // Three nodes, one zone: maximum redundancy means 1 zone here.
  auto r = check_feasible(nodes_in({"a", "a", "a"}), 3, std::nullopt);
  ASSERT_TRUE(r) << r.error().to_string();
}

TEST(CheckFeasible, TooFewNodesForReplicationFactor) {
  auto r = check_feasible(nodes_in({"a"}), 3, std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_FALSE(r.error().message.empty());
  auto two = check_feasible(nodes_in({"a", "b"}), 3, std::nullopt);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, errc::invalid_argument);
}

TEST(CheckFeasible, OneZoneWithZoneRedundancy3Refused) {
  auto r = check_feasible(nodes_in({"a", "a", "a"}), 3, 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find("zone"), std::string::npos) << r.error().message;
}

TEST(CheckFeasible, ThreeZonesOk) {
  auto r = check_feasible(nodes_in({"a", "b", "c"}), 3, 3);
  ASSERT_TRUE(r) << r.error().to_string();
  // The engine's explanation names the zones and the partition size.
  EXPECT_NE(r->find("a"), std::string::npos);
  EXPECT_NE(r->find("c"), std::string::npos);
  EXPECT_FALSE(r->empty());
  auto more = check_feasible(nodes_in({"a", "a", "b", "b", "c", "c"}), 3, std::nullopt);
  ASSERT_TRUE(more) << more.error().to_string();
}

TEST(CheckFeasible, ZoneRedundancy3WithTwoZonesRefused) {
  auto r = check_feasible(nodes_in({"a", "a", "b", "b"}), 3, 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  // At least 2 zones would do.
  EXPECT_TRUE(check_feasible(nodes_in({"a", "a", "b", "b"}), 3, 2));
}

TEST(CheckFeasible, BadInput) {
  EXPECT_FALSE(check_feasible({{"xyz", "a", G, {}}}, 1, std::nullopt));
  EXPECT_FALSE(check_feasible(nodes_in({"a", "b", "c"}), 0, std::nullopt));
  EXPECT_FALSE(check_feasible(nodes_in({"a", "b", "c"}), 8, std::nullopt));
  EXPECT_FALSE(check_feasible(nodes_in({"a", "b", "c"}), 3, 4));
  EXPECT_FALSE(check_feasible(nodes_in({"a", "b", "c"}), 3, 0));
  auto dup = nodes_in({"a", "b", "c"});
  dup.push_back(dup[0]);
  EXPECT_FALSE(check_feasible(dup, 3, std::nullopt));
  EXPECT_FALSE(check_feasible(nodes_in({"a", "b", "c"}, 0), 3, std::nullopt));  // capacity 0
}

}  // namespace
}  // namespace garage::op::admin
