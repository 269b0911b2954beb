// layout_history::skip_dead_nodes: the old version of a replacement retires
// without the dead node, and only when its data is covered by live nodes (or
// the operator gives it up); every refusal leaves the history untouched.
#include <gtest/gtest.h>

#include "layout/layout.h"
#include "layout_test_util.h"

namespace garage::layout {
namespace {

using testing::make_id;
using testing::TB;

const node_id a = make_id(1), b = make_id(2), c = make_id(3), d = make_id(4), e = make_id(5);
constexpr size_t kWriteQuorum = 2;  // rf 3, consistent

// a, b, c in zones a, b, c (version 1, everybody acked and synced it).
layout_history three_zones() {
  layout_history h;
  EXPECT_TRUE(h.stage_role(a, node_role::storage("a", TB)));
  EXPECT_TRUE(h.stage_role(b, node_role::storage("b", TB)));
  EXPECT_TRUE(h.stage_role(c, node_role::storage("c", TB)));
  EXPECT_TRUE(h.apply(1).has_value());
  for (const auto& n : {a, b, c}) h.update_local(n, 1);
  return h;
}

// c died; d replaces it in zone c: versions 1 and 2 live.
layout_history c_replaced_by_d() {
  layout_history h = three_zones();
  EXPECT_TRUE(h.stage_remove(c));
  EXPECT_TRUE(h.stage_role(d, node_role::storage("c", TB)));
  EXPECT_TRUE(h.apply(2).has_value());
  return h;
}

// What the live nodes do by themselves: acknowledge, then sync once their
// rounds are clean, then sync_ack.
void live_nodes_catch_up(layout_history& h, std::initializer_list<node_id> live, uint64_t v) {
  for (const auto& n : live) h.update_local(n, v);
  for (const auto& n : live) h.set_sync(n, v);
  for (const auto& n : live) h.update_local(n, v);
}

TEST(skip_dead_nodes, without_it_the_old_version_never_retires) {
  layout_history h = c_replaced_by_d();
  live_nodes_catch_up(h, {a, b, d}, 2);
  EXPECT_EQ(h.versions().size(), 2u);
  EXPECT_EQ(h.ack_min(), 1u);   // c never acknowledges
  EXPECT_EQ(h.sync_min(), 1u);  // nor syncs
  EXPECT_EQ(h.read_version().version(), 1u);
  EXPECT_FALSE(h.sync_can_skip(c));
}

TEST(skip_dead_nodes, dead_replaced_node_is_acked_and_synced_then_the_old_version_retires) {
  layout_history h = c_replaced_by_d();
  for (const auto& n : {a, b, d}) h.update_local(n, 2);
  auto r = h.skip_dead_nodes(2, {c}, false, kWriteQuorum);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->ack_raised, std::vector<node_id>{c});
  // One dead node per set of three: every acknowledged write has a live copy.
  EXPECT_EQ(r->sync_raised, std::vector<node_id>{c});
  EXPECT_TRUE(r->sync_kept.empty());
  EXPECT_EQ(h.ack_min(), 2u);
  EXPECT_TRUE(h.sync_can_skip(c));  // the others' sync rounds pass over it
  EXPECT_FALSE(h.sync_can_skip(d));
  // Reads do not move before the live nodes have synced version 2.
  EXPECT_EQ(h.read_version().version(), 1u);
  EXPECT_EQ(h.versions().size(), 2u);
  live_nodes_catch_up(h, {a, b, d}, 2);
  EXPECT_EQ(h.read_version().version(), 2u);
  EXPECT_EQ(h.versions().size(), 1u);
  EXPECT_EQ(h.min_stored(), 2u);
  // Nothing is left to skip.
  auto again = h.skip_dead_nodes(2, {c}, false, kWriteQuorum);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("only one layout version"), std::string::npos)
      << again.error().message;
}

TEST(skip_dead_nodes, is_idempotent) {
  layout_history h = c_replaced_by_d();
  ASSERT_TRUE(h.skip_dead_nodes(2, {c}, false, kWriteQuorum).has_value());
  auto before = encode_layout_history(h);
  auto r = h.skip_dead_nodes(2, {c}, false, kWriteQuorum);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->ack_raised.empty());
  EXPECT_TRUE(r->sync_raised.empty());
  EXPECT_TRUE(r->sync_kept.empty());
  EXPECT_EQ(encode_layout_history(h), before);
}

TEST(skip_dead_nodes, two_dead_nodes_of_one_write_quorum_keep_their_sync_unless_allowed) {
  // b and c died together; d and e replace them.
  layout_history h = three_zones();
  ASSERT_TRUE(h.stage_remove(b));
  ASSERT_TRUE(h.stage_remove(c));
  ASSERT_TRUE(h.stage_role(d, node_role::storage("b", TB)));
  ASSERT_TRUE(h.stage_role(e, node_role::storage("c", TB)));
  ASSERT_TRUE(h.apply(2).has_value());
  layout_history allowed = h;

  auto r = h.skip_dead_nodes(2, {b, c}, false, kWriteQuorum);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  std::vector<node_id> bc = {b, c};
  std::sort(bc.begin(), bc.end());
  EXPECT_EQ(r->ack_raised, bc);
  EXPECT_TRUE(r->sync_raised.empty());  // a write acked by b and c only is on no live disk
  EXPECT_EQ(r->sync_kept, bc);
  live_nodes_catch_up(h, {a, d, e}, 2);
  EXPECT_EQ(h.versions().size(), 2u);  // still waiting for them
  EXPECT_FALSE(h.sync_can_skip(b));

  auto forced = allowed.skip_dead_nodes(2, {b, c}, true, kWriteQuorum);
  ASSERT_TRUE(forced.has_value()) << forced.error().to_string();
  EXPECT_EQ(forced->sync_raised, bc);
  EXPECT_TRUE(forced->sync_kept.empty());
  live_nodes_catch_up(allowed, {a, d, e}, 2);
  EXPECT_EQ(allowed.versions().size(), 1u);
}

TEST(skip_dead_nodes, refusals_name_the_reason_and_change_nothing) {
  layout_history single = three_zones();
  auto r = single.skip_dead_nodes(1, {c}, false, kWriteQuorum);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find("only one layout version"), std::string::npos);

  layout_history h = c_replaced_by_d();
  const auto before = encode_layout_history(h);
  for (uint64_t wrong : {0u, 1u, 3u}) {
    r = h.skip_dead_nodes(wrong, {c}, false, kWriteQuorum);
    ASSERT_FALSE(r.has_value()) << wrong;
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("not the current layout version 2"), std::string::npos)
        << r.error().message;
  }
  // A node of the current version cannot be passed over.
  r = h.skip_dead_nodes(2, {c, a}, false, kWriteQuorum);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find(short_id(a)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("role in the current"), std::string::npos);
  // Nobody down: nothing to skip, and the nodes that lag are named.
  r = h.skip_dead_nodes(2, {}, false, kWriteQuorum);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("nothing to skip"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(short_id(c)), std::string::npos) << r.error().message;
  // Nodes without a role count for nothing.
  r = h.skip_dead_nodes(2, {make_id(99)}, false, kWriteQuorum);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(encode_layout_history(h), before);
}

TEST(skip_dead_nodes, travels_by_gossip_like_any_tracker) {
  layout_history x = c_replaced_by_d(), y = x;
  ASSERT_TRUE(x.skip_dead_nodes(2, {c}, false, kWriteQuorum).has_value());
  EXPECT_TRUE(y.merge(x).changed);
  EXPECT_EQ(y.trackers(), x.trackers());
  EXPECT_TRUE(y.sync_can_skip(c));
  EXPECT_FALSE(x.merge(y).changed);
}

}  // namespace
}  // namespace garage::layout
