// layout_history: staging, apply/revert, trackers, routing during a
// transition, gossip merge.
#include <gtest/gtest.h>

#include "layout/layout.h"
#include "layout_test_util.h"

namespace garage::layout {
namespace {

using testing::check_invariants;
using testing::make_id;
using testing::TB;

layout_history three_zone_cluster() {
  layout_history h;
  for (uint32_t n = 1; n <= 3; ++n)
    EXPECT_TRUE(
        h.stage_role(make_id(n), node_role::storage(std::string(1, char('a' + n - 1)), TB)));
  EXPECT_TRUE(h.apply(1).has_value());
  return h;
}

TEST(layout_history, starts_empty_at_version_zero) {
  layout_history h;
  EXPECT_EQ(h.current().version(), 0u);
  EXPECT_FALSE(h.current().has_assignment());
  EXPECT_TRUE(h.write_sets_of(0).empty());
  EXPECT_TRUE(h.read_nodes_of(0).empty());
}

TEST(layout_history, apply_needs_the_next_version_number) {
  layout_history h;
  ASSERT_TRUE(h.stage_role(make_id(1), node_role::storage("a", TB)));
  for (uint64_t wrong : {0u, 2u, 7u}) {
    auto r = h.apply(wrong);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::conflict);
    EXPECT_NE(r.error().message.find("must be 1"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(h.current().version(), 0u);
  EXPECT_FALSE(h.staging().empty());  // a refused apply keeps the staged changes
  ASSERT_TRUE(h.stage_parameters({1, zone_redundancy::maximum()}));
  auto report = h.apply(1);
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  EXPECT_EQ(h.current().version(), 1u);
  EXPECT_TRUE(h.staging().empty());
  EXPECT_EQ(report->version, 1u);
  // Version 0 served nobody and is gone.
  EXPECT_EQ(h.versions().size(), 1u);
}

TEST(layout_history, failed_constraints_leave_the_history_untouched) {
  layout_history h = three_zone_cluster();
  ASSERT_TRUE(h.stage_remove(make_id(3)));
  auto before = encode_layout_history(h);
  auto r = h.apply(2);  // RF 3 with 2 nodes
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_EQ(encode_layout_history(h), before);
  EXPECT_FALSE(h.preview().has_value());
}

TEST(layout_history, revert_drops_staged_changes) {
  layout_history h = three_zone_cluster();
  ASSERT_TRUE(h.stage_role(make_id(4), node_role::storage("a", TB)));
  ASSERT_TRUE(h.stage_capacity(make_id(1), 2 * TB));
  ASSERT_TRUE(h.stage_parameters({2, zone_redundancy::maximum()}));
  EXPECT_EQ(h.staged_roles().size(), 4u);
  EXPECT_EQ(h.staged_parameters().replication_factor, 2u);
  h.revert();
  EXPECT_TRUE(h.staging().empty());
  EXPECT_EQ(h.staged_roles(), h.current().roles());
  EXPECT_EQ(h.staged_parameters(), h.current().parameters());
  EXPECT_EQ(h.current().version(), 1u);
}

TEST(layout_history, staged_field_changes) {
  layout_history h = three_zone_cluster();
  EXPECT_EQ(h.stage_capacity(make_id(9), TB).error().code, errc::not_found);
  EXPECT_EQ(h.stage_remove(make_id(9)).error().code, errc::not_found);
  EXPECT_EQ(h.stage_zone(make_id(1), "").error().code, errc::invalid_argument);
  EXPECT_EQ(h.stage_role(make_id(9), node_role::storage("a", 0)).error().code,
            errc::invalid_argument);
  EXPECT_EQ(h.stage_parameters({9, zone_redundancy::maximum()}).error().code,
            errc::invalid_argument);
  ASSERT_TRUE(h.stage_zone(make_id(1), "z"));
  ASSERT_TRUE(h.stage_tags(make_id(1), {"ssd", "rack1"}));
  ASSERT_TRUE(h.stage_capacity(make_id(2), std::nullopt));  // becomes a gateway
  ASSERT_TRUE(h.stage_role(make_id(4), node_role::storage("d", TB)));
  auto roles = h.staged_roles();
  EXPECT_EQ(roles[make_id(1)], node_role::storage("z", TB, {"ssd", "rack1"}));
  EXPECT_TRUE(roles[make_id(2)].is_gateway());
  auto preview = h.preview();
  ASSERT_TRUE(preview.has_value()) << preview.error().to_string();
  EXPECT_EQ(check_invariants(preview->version, roles, h.staged_parameters()), "");
  EXPECT_EQ(h.current().version(), 1u);  // preview changes nothing
  ASSERT_TRUE(h.apply(2).has_value());
  EXPECT_EQ(h.current().roles(), roles);
  EXPECT_EQ(h.current().partitions_of(make_id(2)), 0u);
}

TEST(layout_history, transition_routes_writes_to_all_live_versions_and_reads_to_synced) {
  layout_history h = three_zone_cluster();
  const node_id a = make_id(1), b = make_id(2), c = make_id(3), d = make_id(4);
  for (const auto& n : {a, b, c}) h.update_local(n, 1);
  ASSERT_EQ(h.versions().size(), 1u);

  // Replace c by d in the same zone.
  ASSERT_TRUE(h.stage_remove(c));
  ASSERT_TRUE(h.stage_role(d, node_role::storage("c", TB)));
  ASSERT_TRUE(h.apply(2).has_value());
  ASSERT_EQ(h.versions().size(), 2u);
  EXPECT_EQ(h.min_stored(), 1u);
  // Writes go to both versions, reads stay on version 1 until d has synced.
  auto sets = h.write_sets_of(7);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_NE(std::find(sets[0].begin(), sets[0].end(), c), sets[0].end());
  EXPECT_NE(std::find(sets[1].begin(), sets[1].end(), d), sets[1].end());
  EXPECT_EQ(h.storage_nodes_of(7).size(), 4u);
  EXPECT_EQ(h.read_version().version(), 1u);
  EXPECT_EQ(h.sync_min(), 1u);

  // Everybody acks version 2 (no write in flight ignores it).
  for (const auto& n : {a, b, c, d}) h.set_ack(n, 2);
  EXPECT_EQ(h.ack_min(), 2u);
  // Syncs complete one by one; reads switch only when all storage nodes did.
  for (const auto& n : {a, b, c}) h.set_sync(n, 2);
  EXPECT_EQ(h.read_version().version(), 1u);
  h.set_sync(d, 2);
  EXPECT_EQ(h.sync_min(), 2u);
  EXPECT_EQ(h.read_version().version(), 2u);
  EXPECT_EQ(h.versions().size(), 2u);  // still live: nobody sync_acked yet
  // Version 1 is retired once every node of version 2 reads from version 2.
  for (const auto& n : {a, b}) h.update_local(n, 2);
  EXPECT_EQ(h.versions().size(), 2u);
  h.update_local(d, 2);
  EXPECT_EQ(h.versions().size(), 1u);
  EXPECT_EQ(h.min_stored(), 2u);
  EXPECT_EQ(h.write_sets_of(7).size(), 1u);
  // Trackers never go down.
  EXPECT_FALSE(h.set_sync(d, 1));
  EXPECT_EQ(h.trackers().sync.at(d), 2u);
}

TEST(layout_history, merge_converges_and_is_idempotent) {
  layout_history base = three_zone_cluster();
  layout_history x = base, y = base;
  ASSERT_TRUE(x.stage_role(make_id(4), node_role::storage("a", TB)));
  ASSERT_TRUE(x.apply(2).has_value());
  y.set_ack(make_id(2), 1);
  y.set_sync(make_id(3), 1);
  ASSERT_TRUE(y.stage_capacity(make_id(1), 3 * TB));

  layout_history xy = x, yx = y;
  EXPECT_TRUE(xy.merge(y).changed);
  EXPECT_TRUE(yx.merge(x).changed);
  EXPECT_EQ(xy.current().version(), 2u);
  EXPECT_EQ(yx.current().version(), 2u);
  EXPECT_EQ(xy.versions(), yx.versions());
  EXPECT_EQ(xy.trackers(), yx.trackers());
  EXPECT_EQ(xy.staging(), yx.staging());
  auto again = xy.merge(yx);
  EXPECT_FALSE(again.changed);
  EXPECT_TRUE(again.conflicting_versions.empty());

  // Two different version 2s: reported, ours kept.
  layout_history z = base;
  ASSERT_TRUE(z.stage_role(make_id(5), node_role::storage("b", TB)));
  ASSERT_TRUE(z.apply(2).has_value());
  auto conflict = xy.merge(z);
  ASSERT_EQ(conflict.conflicting_versions.size(), 1u);
  EXPECT_EQ(conflict.conflicting_versions[0], 2u);
  EXPECT_EQ(xy.current(), x.current());
}

TEST(layout_history, merge_catches_up_from_far_behind) {
  layout_history ahead = three_zone_cluster();
  layout_history behind;  // version 0, never saw anything
  for (uint64_t v = 2; v <= 4; ++v) {
    ASSERT_TRUE(ahead.stage_capacity(make_id(1), v * TB));
    ASSERT_TRUE(ahead.apply(v).has_value());
  }
  for (uint32_t n = 1; n <= 3; ++n) {
    ahead.set_sync(make_id(n), 4);
    ahead.set_sync_ack(make_id(n), 4);
  }
  ASSERT_EQ(ahead.min_stored(), 4u);
  EXPECT_TRUE(behind.merge(ahead).changed);
  EXPECT_EQ(behind, ahead);
}

}  // namespace
}  // namespace garage::layout
