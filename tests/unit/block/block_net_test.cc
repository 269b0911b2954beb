// Replicated blocks over an in-process network: quorum puts, reads from
// peers, resync of missing and corrupt copies, hand-over after a layout change.
#include "block/block_net.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "block/block_workers.h"
#include "block_test_util.h"
#include "layout/layout.h"
#include "rpc/local_net.h"

namespace garage::block {
namespace {

using namespace std::chrono_literals;
using testing::random_data;
using testing::temp_dir;

rpc::node_id nid(int i) { return blake2b_256("node-" + std::to_string(i)); }

class block_cluster {
 public:
  explicit block_cluster(int n) {
    layout::layout_parameters params;
    history_ = std::make_shared<layout::layout_history>(params);
    for (int i = 0; i < n; ++i) stage(i);
    apply();
    for (int i = 0; i < n; ++i) start(i);
  }
  ~block_cluster() {
    net_.reset();
    nodes_.clear();
  }
  void stage(int i) {
    auto h = std::make_shared<layout::layout_history>(*history_);
    EXPECT_TRUE(
        h->stage_role(nid(i), layout::node_role::storage("z" + std::to_string(i), 1'000'000'000)));
    set(h);
  }
  void remove(int i) {
    auto h = std::make_shared<layout::layout_history>(*history_);
    EXPECT_TRUE(h->stage_remove(nid(i)));
    set(h);
  }
  void apply() {
    auto h = std::make_shared<layout::layout_history>(*history_);
    ASSERT_TRUE(h->apply(h->current().version() + 1));
    set(h);
  }
  void settle() {
    auto h = std::make_shared<layout::layout_history>(*history_);
    uint64_t v = h->current().version();
    for (const auto& n : h->all_nodes()) {
      h->set_ack(n, v);
      h->set_sync(n, v);
    }
    for (const auto& n : h->all_nodes()) h->set_sync_ack(n, v);
    set(h);
  }
  std::shared_ptr<const layout::layout_history> layout() {
    std::lock_guard lk(mu_);
    return history_;
  }

  block_net& at(int i) { return *nodes_.at(i)->net; }
  block_manager& mgr(int i) { return *nodes_.at(i)->mgr; }
  rpc::local_net& net() { return *net_; }
  std::string path_of(int i, const hash256& id) {
    std::string hex = id.hex();
    return nodes_.at(i)->dir.path() + "/data/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" +
           hex;
  }
  // A reference arrives on node i (as the block_ref table's hook does).
  void incref(int i, const hash256& id) {
    auto tx = nodes_.at(i)->db->begin();
    ASSERT_TRUE(mgr(i).incref(*tx, id));
    ASSERT_TRUE(tx->commit());
  }

 private:
  struct node {
    temp_dir dir;
    std::unique_ptr<db::database> db;
    std::unique_ptr<block_manager> mgr;
    std::unique_ptr<block_net> net;
  };
  void set(std::shared_ptr<layout::layout_history> h) {
    std::lock_guard lk(mu_);
    history_ = std::move(h);
  }
  void start(int i) {
    auto n = std::make_unique<node>();
    auto d = db::database::open(n->dir.path() + "/meta", db::options{});
    ASSERT_TRUE(d);
    n->db = std::move(*d);
    block_config cfg;
    cfg.data_dir = n->dir.path() + "/data";
    cfg.resync_queue = true;
    auto m = block_manager::open(cfg, *n->db);
    ASSERT_TRUE(m);
    n->mgr = std::move(*m);
    n->net = std::make_unique<block_net>(
        *n->mgr, [this] { return layout(); }, rpc::consistency_mode::consistent, net_->add(nid(i)),
        rpc::call_options{rpc::priority::background, 2s});
    nodes_[i] = std::move(n);
  }
  std::mutex mu_;
  std::shared_ptr<layout::layout_history> history_;
  std::unique_ptr<rpc::local_net> net_ = std::make_unique<rpc::local_net>();
  std::map<int, std::unique_ptr<node>> nodes_;
};

template <class F>
bool eventually(F cond) {
  for (int i = 0; i < 200 && !cond(); ++i) std::this_thread::sleep_for(10ms);
  return cond();
}

TEST(block_net, put_reaches_every_owner_and_any_node_can_read) {
  block_cluster c(3);
  std::string data = random_data(100'000, 1);
  hash256 id = blake2b_256(data);
  ASSERT_TRUE(c.at(0).put(id, data));
  ASSERT_TRUE(eventually(
      [&] { return c.mgr(0).exists(id) && c.mgr(1).exists(id) && c.mgr(2).exists(id); }));
  ASSERT_TRUE(c.mgr(1).drop_local(id));
  auto r = c.at(1).get(id);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, data) << "read from a peer";
}

TEST(block_net, put_survives_one_node_down_and_fails_with_two) {
  block_cluster c(3);
  std::string data = random_data(5000, 2);
  hash256 id = blake2b_256(data);
  c.net().set_up(nid(2), false);
  ASSERT_TRUE(c.at(0).put(id, data));
  c.net().set_up(nid(1), false);
  auto r = c.at(0).put(blake2b_256("x"), "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
}

TEST(block_net, a_node_that_missed_a_block_fetches_it_when_referenced) {
  block_cluster c(3);
  std::string data = random_data(70'000, 3);
  hash256 id = blake2b_256(data);
  c.net().set_up(nid(2), false);
  ASSERT_TRUE(c.at(0).put(id, data));
  c.net().set_up(nid(2), true);
  EXPECT_FALSE(c.mgr(2).exists(id));
  c.incref(2, id);  // its block_ref entry arrives (write, sync or read repair)
  EXPECT_GE(c.mgr(2).resync_queue_length(), 1u);
  auto st = c.at(2).resync(UINT64_MAX / 2);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->fetched, 1u);
  EXPECT_TRUE(c.mgr(2).exists(id));
  auto local = c.mgr(2).get(id);
  ASSERT_TRUE(local);
  EXPECT_EQ(*local, data);
}

TEST(block_net, scrub_finds_a_corrupt_copy_and_resync_replaces_it) {
  block_cluster c(3);
  std::string data = random_data(50'000, 4);
  hash256 id = blake2b_256(data);
  ASSERT_TRUE(c.at(0).put(id, data));
  ASSERT_TRUE(eventually([&] { return c.mgr(1).exists(id); }));
  c.incref(1, id);
  ASSERT_TRUE(c.mgr(1).take_resync(UINT64_MAX / 2, 100));  // empty the queue
  std::string bytes = testing::read_file(c.path_of(1, id));
  bytes[bytes.size() / 2] ^= 0x5a;
  testing::write_file(c.path_of(1, id), bytes);
  std::optional<hash256> cursor;
  auto sc = c.at(1).scrub(&cursor, 100, 0);
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->corrupted, 1u);
  EXPECT_FALSE(cursor.has_value()) << "a full pass";
  auto rs = c.at(1).resync(UINT64_MAX / 2);
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->fetched, 1u);
  auto good = c.mgr(1).get(id);
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_EQ(*good, data);
}

TEST(block_net, a_node_leaving_the_layout_hands_its_blocks_over_before_deleting_them) {
  block_cluster c(4);
  std::vector<std::pair<hash256, std::string>> blocks;
  for (int i = 0; i < 30; ++i) {
    std::string d = random_data(2000, 100 + i);
    hash256 id = blake2b_256(d);
    ASSERT_TRUE(c.at(i % 4).put(id, d));
    blocks.emplace_back(id, d);
  }
  // Only node 3's copies are the source of truth from here: drop the others'
  // files for the blocks node 3 holds, so that the hand-over must really send.
  int on3 = 0;
  for (auto& [id, d] : blocks) {
    ASSERT_TRUE(eventually([&] {
      int have = 0;
      for (int n = 0; n < 4; ++n) have += c.mgr(n).exists(id);
      return have == 3;
    }));
    if (c.mgr(3).exists(id)) {
      ++on3;
      c.incref(3, id);
      for (int n = 0; n < 3; ++n) ASSERT_TRUE(c.mgr(n).drop_local(id));
    }
  }
  ASSERT_GT(on3, 0);
  c.remove(3);
  c.apply();
  c.settle();
  ASSERT_TRUE(c.at(3).queue_all(0));
  auto st = c.at(3).resync(UINT64_MAX / 2, 1000);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->offloaded, static_cast<uint64_t>(on3)) << st->last_error;
  for (auto& [id, d] : blocks) {
    EXPECT_FALSE(c.mgr(3).exists(id));
    auto owners = c.at(0).owners(id);
    bool held = false;
    for (int n = 0; n < 3; ++n) held |= c.mgr(n).exists(id);
    if (!held) continue;  // a block node 3 never had was dropped by the test above
    for (const auto& o : owners) {
      for (int n = 0; n < 3; ++n) {
        if (o == nid(n)) {
          EXPECT_TRUE(c.mgr(n).exists(id));
        }
      }
    }
    auto r = c.at(0).get(id);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, d);
  }
}

// The head of a block/put upload (block_net.h): id, u64be size.
std::string put_head(const hash256& id, uint64_t size) {
  std::string h(id.view());
  for (int i = 7; i >= 0; --i) h.push_back(static_cast<char>(size >> (8 * i)));
  return h;
}

TEST(block_net, a_peer_sending_bytes_that_do_not_match_the_id_is_refused) {
  block_cluster c(3);
  auto& from = c.net().node(nid(0));
  hash256 id = blake2b_256("real");
  auto up = from.open_upload(nid(1), "block/put", put_head(id, 4), {});
  ASSERT_TRUE(up->write("fake"));
  auto r = up->finish();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_FALSE(c.mgr(1).exists(id));
  // Right bytes, wrong announced size.
  auto up2 = from.open_upload(nid(1), "block/put", put_head(id, 5), {});
  ASSERT_TRUE(up2->write("real"));
  EXPECT_FALSE(up2->finish());
  EXPECT_FALSE(c.mgr(1).exists(id));
  // The old whole-message form is refused.
  std::string body(id.view());
  body += "real";
  EXPECT_FALSE(from.call(nid(1), "block/put", body));
  EXPECT_FALSE(from.call(nid(1), "block/get", "short"));
  auto up3 = from.open_upload(nid(1), "block/put", put_head(id, 4), {});
  ASSERT_TRUE(up3->write("real"));
  ASSERT_TRUE(up3->finish());
  EXPECT_TRUE(c.mgr(1).exists(id));
}

// A source whose copy is corrupt (same size, flipped bytes) is never
// believed: the reader checks the hash of what it got and tries another
// node; with no good copy left, the read fails instead of returning bad data.
TEST(block_net, a_corrupted_source_block_is_rejected) {
  block_cluster c(3);
  std::string data = random_data(600'000, 11);
  hash256 id = blake2b_256(data);
  ASSERT_TRUE(c.at(0).put(id, data));
  ASSERT_TRUE(eventually(
      [&] { return c.mgr(0).exists(id) && c.mgr(1).exists(id) && c.mgr(2).exists(id); }));
  ASSERT_TRUE(c.mgr(0).drop_local(id));
  std::string bytes = testing::read_file(c.path_of(1, id));
  bytes[bytes.size() - 3] ^= 0x5a;
  testing::write_file(c.path_of(1, id), bytes);
  auto good = c.at(0).get(id);
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_TRUE(*good == data) << "served by node 2";
  // Only the corrupt copy left.
  ASSERT_TRUE(c.mgr(2).drop_local(id));
  if (!c.mgr(1).exists(id)) {
    // The read above went to node 1 first, which found its copy corrupt and
    // moved it aside: put a corrupt copy back for the check below.
    testing::write_file(c.path_of(1, id), bytes);
  }
  auto bad = c.at(0).get(id);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::unavailable) << bad.error().to_string();
  EXPECT_FALSE(c.mgr(0).exists(id));
  // The streaming form: pieces go to the sink as they come, and the error
  // says they must be thrown away.
  testing::write_file(c.path_of(1, id), bytes);
  std::string got;
  auto st = c.at(0).get_stream(id, [&](std::string_view p) -> result<void> {
    got.append(p);
    return ok();
  });
  ASSERT_FALSE(st);
  // A good copy again: get_stream hands over exactly the data.
  ASSERT_TRUE(c.mgr(2).put(id, data));
  got.clear();
  auto st2 = c.at(0).get_stream(id, [&](std::string_view p) -> result<void> {
    EXPECT_LE(p.size(), 64u * 1024);
    got.append(p);
    return ok();
  });
  ASSERT_TRUE(st2) << st2.error().to_string();
  EXPECT_TRUE(got == data);
}

TEST(block_net, a_block_larger_than_the_window_streams_both_ways) {
  block_cluster c(3);
  std::string data = testing::compressible_data(5 << 20);
  hash256 id = blake2b_256(data);
  ASSERT_TRUE(c.at(0).put(id, data));
  ASSERT_TRUE(eventually([&] { return c.mgr(1).exists(id) && c.mgr(2).exists(id); }));
  ASSERT_TRUE(c.mgr(0).drop_local(id));
  auto r = c.at(0).get(id);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(*r == data);
}

}  // namespace
}  // namespace garage::block

namespace garage::block {
namespace {

TEST(block_workers, resync_and_scrub_workers_step_through_their_queues) {
  block_cluster c(3);
  std::string data = random_data(30'000, 9);
  hash256 id = blake2b_256(data);
  c.net().set_up(nid(2), false);
  ASSERT_TRUE(c.at(0).put(id, data));
  c.net().set_up(nid(2), true);
  c.incref(2, id);
  resync_worker rw(c.at(2), c.mgr(2));
  EXPECT_EQ(rw.queue_length(), 1u);
  auto s1 = rw.step();
  ASSERT_TRUE(s1) << s1.error().to_string();
  EXPECT_TRUE(c.mgr(2).exists(id));
  scrub_worker sw(c.at(2), std::chrono::hours(24));
  auto s2 = sw.step();
  ASSERT_TRUE(s2);
  EXPECT_EQ(*s2, worker_state::idle) << "one short pass";
  EXPECT_NE(sw.progress().find("1 passes"), std::string::npos) << sw.progress();
}

}  // namespace
}  // namespace garage::block
