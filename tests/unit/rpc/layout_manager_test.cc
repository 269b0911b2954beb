// layout_manager: the stored cluster layout and its propagation between
// nodes over a local_net.
#include "rpc/layout_manager.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "rpc/local_net.h"

namespace garage::rpc {
namespace {

using namespace std::chrono_literals;
using layout::node_role;

node_id nid(uint8_t b) {
  node_id n{};
  n.bytes[0] = b;
  return n;
}

struct temp_dir {
  std::string path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "layout_mgr_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string sub(const std::string& name) const { return path + "/" + name; }
};

layout_manager_options opts_for(const std::string& dir, uint32_t rf = 1) {
  layout_manager_options o;
  o.metadata_dir = dir;
  o.initial.replication_factor = rf;
  o.sync_interval = 100ms;
  o.rpc_timeout = 2s;
  return o;
}

std::unique_ptr<layout_manager> open_ok(transport& t, layout_manager_options o) {
  auto m = layout_manager::open(t, std::move(o));
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  return m ? std::move(*m) : nullptr;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

constexpr uint64_t GB = 1'000'000'000;

TEST(layout_manager, persists_across_reopen) {
  temp_dir dir;
  local_net net;
  auto& t = net.add(nid(1));
  layout::layout_history before;
  {
    auto m = open_ok(t, opts_for(dir.path));
    EXPECT_EQ(m->version(), 0u);
    ASSERT_TRUE(m->stage_role(nid(1), node_role::storage("dc1", 10 * GB)).has_value());
    auto rep = m->apply(1);
    ASSERT_TRUE(rep.has_value()) << rep.error().to_string();
    ASSERT_TRUE(m->stage_role(nid(2), node_role::gateway("dc2")).has_value());
    before = m->history();
  }
  auto m = open_ok(t, opts_for(dir.path));
  EXPECT_EQ(m->version(), 1u);
  EXPECT_EQ(m->history(), before) << "applied version and staged change both survive";
  EXPECT_EQ(m->history().staged_roles().size(), 2u);
}

TEST(layout_manager, corrupt_or_foreign_file_is_refused) {
  temp_dir dir;
  local_net net;
  auto& t = net.add(nid(1));
  {
    auto m = open_ok(t, opts_for(dir.path));
    ASSERT_TRUE(m->stage_role(nid(1), node_role::storage("dc1", GB)).has_value());
  }
  const std::string file = dir.sub("cluster_layout");
  std::string good;
  {
    std::ifstream in(file, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_TRUE(decode_layout_file(good).has_value());
  auto write = [&](const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bytes;
  };
  std::string flipped = good;
  flipped[flipped.size() - 3] ^= 0x40;
  for (const std::string& bad :
       {flipped, good.substr(0, good.size() / 2), std::string("junk"), std::string()}) {
    write(bad);
    auto m = layout_manager::open(t, opts_for(dir.path));
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, errc::corrupted);
    EXPECT_NE(m.error().message.find("cluster_layout"), std::string::npos) << m.error().message;
    std::ifstream in(file, std::ios::binary);
    std::string now(std::istreambuf_iterator<char>(in), {});
    EXPECT_EQ(now, bad) << "a refused file is left as it was";
  }
  write(good);
  EXPECT_TRUE(layout_manager::open(t, opts_for(dir.path)).has_value());
}

TEST(layout_manager, replication_factor_of_an_applied_layout_cannot_change) {
  temp_dir dir;
  local_net net;
  auto& t = net.add(nid(1));
  {
    auto m = open_ok(t, opts_for(dir.path, 1));
    ASSERT_TRUE(m->stage_role(nid(1), node_role::storage("dc1", GB)).has_value());
  }
  {
    // Nothing applied yet: the configured factor wins, staging is kept.
    auto m = open_ok(t, opts_for(dir.path, 3));
    EXPECT_EQ(m->history().current().replication_factor(), 3u);
    EXPECT_EQ(m->history().staged_roles().size(), 1u);
  }
  {
    auto m = open_ok(t, opts_for(dir.path, 1));
    ASSERT_TRUE(m->apply(1).has_value());
  }
  auto m = layout_manager::open(t, opts_for(dir.path, 3));
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, errc::invalid_argument);
}

TEST(layout_manager, errors_change_nothing) {
  temp_dir dir;
  local_net net;
  auto m = open_ok(net.add(nid(1)), opts_for(dir.path));
  auto bad_role = m->stage_role(nid(1), node_role::storage("", GB));
  ASSERT_FALSE(bad_role.has_value());
  EXPECT_EQ(bad_role.error().code, errc::invalid_argument);
  auto unknown = m->stage_remove(nid(7));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, errc::not_found);
  ASSERT_TRUE(m->stage_role(nid(1), node_role::storage("dc1", GB)).has_value());
  auto wrong = m->apply(2);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, errc::conflict);
  EXPECT_EQ(m->version(), 0u);
  ASSERT_TRUE(m->apply(1).has_value());
  EXPECT_FALSE(m->apply(1).has_value()) << "the same number twice";
  ASSERT_TRUE(m->stage_role(nid(1), node_role::storage("dc9", GB)).has_value());
  ASSERT_TRUE(m->revert().has_value());
  EXPECT_TRUE(m->history().staging().empty());
  EXPECT_EQ(m->history().staged_roles().at(nid(1)).zone, "dc1");
}

TEST(layout_manager, three_nodes_converge_after_stage_and_apply_on_one) {
  temp_dir dir;
  local_net net;
  std::vector<std::unique_ptr<layout_manager>> ms;
  for (uint8_t i = 1; i <= 3; ++i)
    ms.push_back(open_ok(net.add(nid(i)), opts_for(dir.sub(std::to_string(i)), 3)));
  std::atomic<uint64_t> seen_by_2{0};
  ms[1]->on_change([&](const layout::layout_history& h) { seen_by_2 = h.current().version(); });
  for (auto& m : ms) m->start();

  ASSERT_TRUE(ms[0]
                  ->stage([](layout::layout_history& h) -> result<void> {
                    for (uint8_t i = 1; i <= 3; ++i)
                      GARAGE_TRY(h.stage_role(
                          nid(i), node_role::storage("dc" + std::to_string(i), 10 * GB)));
                    return ok();
                  })
                  .has_value());
  EXPECT_TRUE(eventually([&] {
    return ms[1]->history().staged_roles().size() == 3 &&
           ms[2]->history().staged_roles().size() == 3;
  })) << "staged changes spread before any apply";

  auto rep = ms[0]->apply(1);
  ASSERT_TRUE(rep.has_value()) << rep.error().to_string();
  EXPECT_TRUE(eventually(
      [&] { return ms[1]->digest() == ms[0]->digest() && ms[2]->digest() == ms[0]->digest(); }));
  for (auto& m : ms) {
    EXPECT_EQ(m->version(), 1u);
    EXPECT_EQ(m->history().current().storage_nodes().size(), 3u);
    EXPECT_TRUE(m->history().staging().empty());
    EXPECT_TRUE(m->conflicts().empty());
  }
  EXPECT_TRUE(eventually([&] { return seen_by_2.load() == 1; })) << "on_change saw version 1";

  // Trackers raised on one node reach the others.
  auto changed = ms[2]->update_trackers(
      [](layout::layout_history& h, const node_id& self) { return h.set_ack(self, 1); });
  ASSERT_TRUE(changed.has_value());
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(eventually([&] { return ms[0]->history().trackers().ack.count(nid(3)) == 1; }));
  auto same = ms[2]->update_trackers(
      [](layout::layout_history& h, const node_id& self) { return h.set_ack(self, 1); });
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(*same);

  // A node restarted from its file holds the same layout.
  ms[2].reset();
  ms[2] = open_ok(net.node(nid(3)), opts_for(dir.sub("3"), 3));
  EXPECT_EQ(ms[2]->digest(), ms[0]->digest());
}

TEST(layout_manager, partitioned_node_catches_up_after_the_cut_heals) {
  temp_dir dir;
  local_net net;
  std::vector<std::unique_ptr<layout_manager>> ms;
  for (uint8_t i = 1; i <= 3; ++i)
    ms.push_back(open_ok(net.add(nid(i)), opts_for(dir.sub(std::to_string(i)), 1)));
  for (auto& m : ms) m->start();
  net.cut(nid(3), nid(1));
  net.cut(nid(3), nid(2));

  ASSERT_TRUE(ms[0]->stage_role(nid(1), node_role::storage("dc1", GB)).has_value());
  ASSERT_TRUE(ms[0]->stage_role(nid(2), node_role::storage("dc2", GB)).has_value());
  ASSERT_TRUE(ms[0]->apply(1).has_value());
  EXPECT_TRUE(eventually([&] { return ms[1]->version() == 1; }));
  std::this_thread::sleep_for(400ms);  // several sync rounds
  EXPECT_EQ(ms[2]->version(), 0u) << "the cut node cannot have it";

  net.cut(nid(3), nid(1), false);
  net.cut(nid(3), nid(2), false);
  EXPECT_TRUE(eventually([&] { return ms[2]->digest() == ms[0]->digest(); }))
      << "the healed node pulls the layout in a sync round";
  EXPECT_EQ(ms[2]->version(), 1u);
}

TEST(layout_manager, concurrent_applies_of_one_version_are_a_conflict) {
  temp_dir dir;
  local_net net;
  auto a = open_ok(net.add(nid(1)), opts_for(dir.sub("a"), 1));
  auto b = open_ok(net.add(nid(2)), opts_for(dir.sub("b"), 1));
  a->start();
  b->start();
  net.cut(nid(1), nid(2));
  ASSERT_TRUE(a->stage_role(nid(1), node_role::storage("dc1", GB)).has_value());
  ASSERT_TRUE(a->apply(1).has_value());
  ASSERT_TRUE(b->stage_role(nid(2), node_role::storage("dc2", GB)).has_value());
  ASSERT_TRUE(b->apply(1).has_value());
  const auto a_v1 = a->history().current();
  const auto b_v1 = b->history().current();
  ASSERT_FALSE(a_v1 == b_v1);
  net.cut(nid(1), nid(2), false);

  EXPECT_TRUE(eventually([&] { return !a->conflicts().empty() && !b->conflicts().empty(); }));
  ASSERT_FALSE(a->conflicts().empty());
  EXPECT_EQ(a->conflicts()[0].version, 1u);
  EXPECT_EQ(a->conflicts()[0].peer, nid(2));
  EXPECT_EQ(b->conflicts()[0].peer, nid(1));
  EXPECT_TRUE(a->history().current() == a_v1) << "neither side silently drops its version";
  EXPECT_TRUE(b->history().current() == b_v1);

  // A newer version applied on one side reaches the other.
  ASSERT_TRUE(a->stage_role(nid(2), node_role::storage("dc2", GB)).has_value());
  ASSERT_TRUE(a->apply(2).has_value());
  EXPECT_TRUE(eventually([&] { return b->version() == 2; }));
  EXPECT_TRUE(b->history().current() == a->history().current());
}

TEST(layout_manager, bad_push_is_refused_and_changes_nothing) {
  temp_dir dir;
  local_net net;
  auto& ta = net.add(nid(1));
  auto& tb = net.add(nid(2));
  auto a = open_ok(ta, opts_for(dir.sub("a")));
  auto before = a->digest();
  auto r = tb.call(nid(1), "layout/push", std::string("\x01garbage", 8));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::corrupted);
  auto newer = tb.call(nid(1), "layout/push", std::string("\x09", 1));
  ASSERT_FALSE(newer.has_value());
  EXPECT_EQ(newer.error().code, errc::not_implemented);
  EXPECT_EQ(a->digest(), before);
  auto d = tb.call(nid(1), "layout/digest", "");
  ASSERT_TRUE(d.has_value());
  a.reset();
  auto gone = tb.call(nid(1), "layout/digest", "");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, errc::unavailable);
}

// skip-dead-nodes: node 3 is replaced by node 4 and never comes back; the
// nodes it is down for raise its trackers, and the change reaches everyone.
TEST(layout_manager, skip_dead_nodes_uses_the_transport_and_propagates) {
  temp_dir dir;
  local_net net;
  std::vector<std::unique_ptr<layout_manager>> ms;
  for (uint8_t i = 1; i <= 4; ++i)
    ms.push_back(open_ok(net.add(nid(i)), opts_for(dir.sub(std::to_string(i)), 3)));
  for (auto& m : ms) m->start();
  ASSERT_TRUE(ms[0]
                  ->stage([](layout::layout_history& h) -> result<void> {
                    for (uint8_t i = 1; i <= 3; ++i)
                      GARAGE_TRY(h.stage_role(
                          nid(i), node_role::storage("dc" + std::to_string(i), 10 * GB)));
                    return ok();
                  })
                  .has_value());
  ASSERT_TRUE(ms[0]->apply(1).has_value());
  ASSERT_TRUE(ms[0]
                  ->stage([](layout::layout_history& h) -> result<void> {
                    GARAGE_TRY(h.stage_remove(nid(3)));
                    return h.stage_role(nid(4), node_role::storage("dc3", 10 * GB));
                  })
                  .has_value());
  ASSERT_TRUE(ms[0]->apply(2).has_value());
  EXPECT_TRUE(eventually([&] { return ms[1]->version() == 2 && ms[3]->version() == 2; }));

  // Node 3 is up: nothing to skip, and the refusal says so.
  auto r = ms[0]->skip_dead_nodes(2, false, 2);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find("nothing to skip"), std::string::npos) << r.error().message;
  // The wrong version.
  ms[2]->stop();
  ms[2].reset();
  net.set_up(nid(3), false);
  r = ms[0]->skip_dead_nodes(1, false, 2);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("not the current layout version 2"), std::string::npos);

  r = ms[0]->skip_dead_nodes(2, false, 2);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->ack_raised, std::vector<node_id>{nid(3)});
  EXPECT_EQ(r->sync_raised, std::vector<node_id>{nid(3)});
  for (size_t i : {0u, 1u, 3u}) {
    EXPECT_TRUE(eventually([&] {
      auto h = ms[i]->history();
      return h.trackers().ack.count(nid(3)) && h.trackers().ack.at(nid(3)) == 2 &&
             h.sync_can_skip(nid(3));
    })) << "node "
        << i + 1;
  }
  // Stored: a restart keeps it.
  ms[1].reset();
  ms[1] = open_ok(net.node(nid(2)), opts_for(dir.sub("2"), 3));
  EXPECT_TRUE(ms[1]->history().sync_can_skip(nid(3)));
}

}  // namespace
}  // namespace garage::rpc
