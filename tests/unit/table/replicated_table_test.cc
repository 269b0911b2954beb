// replicated_table over an in-process network: quorum writes and reads,
// failures of a minority, read repair, merged ranges, layout transitions.
#include "table/replicated_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "layout/layout.h"
#include "rpc/local_net.h"
#include "rpc/write_tracker.h"
#include "table/insert_queue.h"
#include "table/sync_worker.h"
#include "test_entry.h"

namespace garage::table {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::test_entry;

constexpr char kName[] = "things";
using things_schema = testing::plain_schema<kName>;
using things = table<things_schema>;
using rthings = replicated_table<things_schema>;

node_id nid(int i) { return blake2b_256("node-" + std::to_string(i)); }

// N nodes, each with its own database and table, replicated through one
// layout on a local_net.
class cluster {
 public:
  explicit cluster(int n, uint32_t rf = 3, consistency_mode mode = consistency_mode::consistent) {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("garage_repl_test_" + std::to_string(rd()));
    fs::create_directories(dir_);
    layout::layout_parameters params;
    params.replication_factor = rf;
    history_ = std::make_shared<layout::layout_history>(params);
    for (int i = 0; i < n; ++i) add_role(i, "z" + std::to_string(i));
    apply();
    for (int i = 0; i < n; ++i) start(i, mode);
  }
  ~cluster() {
    // The network first: its last deliveries still reach live tables.
    net_.reset();
    nodes_.clear();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void add_role(int i, const std::string& zone) {
    std::lock_guard lk(mu_);
    auto h = std::make_shared<layout::layout_history>(*history_);
    EXPECT_TRUE(h->stage_role(nid(i), layout::node_role::storage(zone, 1'000'000'000)));
    history_ = h;
  }
  void remove_role(int i) {
    std::lock_guard lk(mu_);
    auto h = std::make_shared<layout::layout_history>(*history_);
    EXPECT_TRUE(h->stage_remove(nid(i)));
    history_ = h;
  }
  void apply() {
    std::lock_guard lk(mu_);
    auto h = std::make_shared<layout::layout_history>(*history_);
    auto r = h->apply(h->current().version() + 1);
    ASSERT_TRUE(r) << r.error().to_string();
    history_ = h;
  }
  std::shared_ptr<const layout::layout_history> layout() {
    std::lock_guard lk(mu_);
    return history_;
  }
  // Changes the layout as `f` says (trackers, skip_dead_nodes...).
  template <class F>
  void edit(F f) {
    std::lock_guard lk(mu_);
    auto h = std::make_shared<layout::layout_history>(*history_);
    f(*h);
    history_ = h;
  }
  // Every node reports itself synced to the current version: old versions retire.
  void settle() {
    std::lock_guard lk(mu_);
    auto h = std::make_shared<layout::layout_history>(*history_);
    uint64_t v = h->current().version();
    for (const auto& n : h->all_nodes()) {
      h->set_ack(n, v);
      h->set_sync(n, v);
    }
    for (const auto& n : h->all_nodes()) h->set_sync_ack(n, v);
    history_ = h;
  }
  // One anti-entropy round on every node (in order).
  void sync_round() {
    for (auto& [i, n] : nodes_) {
      auto r = n->table->sync()->sync_all();
      ASSERT_TRUE(r) << r.error().to_string();
    }
  }
  hash256 root(int i, uint8_t p) {
    auto* s = nodes_.at(i)->table->sync();
    for (;;) {
      auto n = s->merkle().update();
      if (!n || *n == 0) break;
    }
    auto r = s->merkle().root_hash(p);
    EXPECT_TRUE(r);
    return r ? *r : hash256{};
  }
  uint64_t local_count(int i) {
    std::string last;
    uint64_t count = 0;
    for (;;) {
      auto page = nodes_.at(i)->local->scan_all(last, 500, &last);
      EXPECT_TRUE(page);
      if (!page || page->empty()) return count;
      count += page->size();
    }
  }

  void start(int i, consistency_mode mode = consistency_mode::consistent) {
    auto n = std::make_unique<node>();
    auto d = db::database::open((dir_ / std::to_string(i)).string(), db::options{});
    ASSERT_TRUE(d) << d.error().to_string();
    n->db = std::move(*d);
    n->local_repl = std::make_unique<local_replication>(nid(i));
    auto t = things::open(*n->db, {}, *n->local_repl);
    ASSERT_TRUE(t);
    n->local = std::move(*t);
    n->writes = std::make_unique<rpc::write_tracker>([this] { return layout(); });
    n->repl =
        std::make_unique<sharded_replication>([this] { return layout(); }, mode, n->writes.get());
    n->table = std::make_unique<rthings>(*n->local, *n->repl, net_->add(nid(i)),
                                         rpc::call_options{rpc::priority::normal, 2s});
    auto sync = n->table->enable_sync();
    ASSERT_TRUE(sync) << sync.error().to_string();
    nodes_[i] = std::move(n);
  }

  rthings& at(int i) { return *nodes_.at(i)->table; }
  rpc::write_tracker& writes(int i) { return *nodes_.at(i)->writes; }
  db::database& db(int i) { return *nodes_.at(i)->db; }
  rpc::local_net& net() { return *net_; }
  // What node i stores locally for (pk, sk).
  std::optional<test_entry> stored(int i, const std::string& pk, const std::string& sk) {
    auto r = nodes_.at(i)->local->get(pk, sk);
    EXPECT_TRUE(r);
    return r ? *r : std::nullopt;
  }

 private:
  struct node {
    std::unique_ptr<db::database> db;
    std::unique_ptr<local_replication> local_repl;
    std::unique_ptr<things> local;
    std::unique_ptr<rpc::write_tracker> writes;
    std::unique_ptr<sharded_replication> repl;
    std::unique_ptr<rthings> table;
  };
  fs::path dir_;
  std::mutex mu_;
  std::shared_ptr<layout::layout_history> history_;
  std::unique_ptr<rpc::local_net> net_ = std::make_unique<rpc::local_net>();
  std::map<int, std::unique_ptr<node>> nodes_;
};

// Waits until cond() or ~2 s.
template <class F>
bool eventually(F cond) {
  for (int i = 0; i < 200; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

TEST(replication, quorums_follow_the_consistency_mode) {
  EXPECT_EQ(write_quorum_of(3, consistency_mode::consistent), 2u);
  EXPECT_EQ(read_quorum_of(3, consistency_mode::consistent), 2u);
  EXPECT_EQ(read_quorum_of(3, consistency_mode::degraded), 1u);
  EXPECT_EQ(write_quorum_of(3, consistency_mode::degraded), 2u);
  EXPECT_EQ(write_quorum_of(3, consistency_mode::dangerous), 1u);
  for (size_t rf = 1; rf <= 7; ++rf) {
    EXPECT_GT(write_quorum_of(rf, consistency_mode::consistent) +
                  read_quorum_of(rf, consistency_mode::consistent),
              rf)
        << "consistent quorums intersect for rf " << rf;
  }
  EXPECT_TRUE(parse_consistency_mode("degraded").has_value());
  EXPECT_FALSE(parse_consistency_mode("strong").has_value());
}

TEST(replicated_table, written_through_one_node_read_through_every_other) {
  cluster c(3);
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "a", 1, "one")));
  for (int i = 0; i < 3; ++i) {
    auto r = c.at(i).get("p", "a");
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->value.value, "one");
  }
  EXPECT_TRUE(eventually([&] { return c.stored(1, "p", "a") && c.stored(2, "p", "a"); }))
      << "every replica got the write, not only the quorum";
}

TEST(replicated_table, one_node_down_reads_and_writes_continue_two_down_they_fail) {
  cluster c(3);
  c.net().set_up(nid(2), false);
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "a", 1, "one")));
  auto r = c.at(1).get("p", "a");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->has_value());
  c.net().set_up(nid(1), false);
  auto w = c.at(0).insert(test_entry::make("p", "b", 1, "two"));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, errc::unavailable);
  EXPECT_FALSE(c.at(0).get("p", "a")) << "a read quorum of 2 needs two nodes";
}

TEST(replicated_table, a_node_that_missed_a_write_is_repaired_by_a_read) {
  cluster c(3);
  c.net().set_up(nid(2), false);
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "a", 5, "new")));
  c.net().set_up(nid(2), true);
  EXPECT_FALSE(c.stored(2, "p", "a"));
  // Node 2 answers first (it reads itself), with nothing; the merge with the
  // others' answer is what the read returns, and node 2 is repaired.
  c.net().set_delay(nid(2), nid(0), 50ms);
  c.net().set_delay(nid(2), nid(1), 0ms);
  auto r = c.at(2).get("p", "a");
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->value.value, "new");
  EXPECT_TRUE(eventually([&] { return c.stored(2, "p", "a").has_value(); }));
  EXPECT_GE(c.at(2).repairs_sent(), 1u);
}

TEST(replicated_table, read_after_write_holds_whichever_quorums_meet) {
  // Every pair of one node down during the write and another during the read:
  // the quorums intersect, so the read sees the write.
  for (int down_w = 0; down_w < 3; ++down_w) {
    for (int down_r = 0; down_r < 3; ++down_r) {
      cluster c(3);
      c.net().set_up(nid(down_w), false);
      int writer = (down_w + 1) % 3;
      ASSERT_TRUE(c.at(writer).insert(test_entry::make("p", "k", 10, "v")));
      c.net().set_up(nid(down_w), true);
      c.net().set_up(nid(down_r), false);
      int reader = (down_r + 1) % 3;
      auto r = c.at(reader).get("p", "k");
      ASSERT_TRUE(r) << r.error().to_string();
      ASSERT_TRUE(r->has_value()) << "write with " << down_w << " down, read with " << down_r;
    }
  }
}

TEST(replicated_table, range_merges_replicas_and_a_tombstone_wins_over_a_stale_entry) {
  cluster c(3);
  for (int i = 0; i < 150; ++i) {
    char sk[8];
    snprintf(sk, sizeof sk, "k%03d", i);
    ASSERT_TRUE(c.at(0).insert(test_entry::make("p", sk, 1, "v")));
  }
  // Node 2 misses the deletion of k010 and of k100.
  c.net().set_up(nid(2), false);
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "k010", 2, "v", true)));
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "k100", 2, "v", true)));
  c.net().set_up(nid(2), true);
  ASSERT_TRUE(eventually(
      [&] { return c.stored(1, "p", "k100") && c.stored(1, "p", "k100")->deleted.get(); }));
  // Node 1 misses a new key.
  c.net().set_up(nid(1), false);
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "k0505", 3, "late")));
  c.net().set_up(nid(1), true);
  // Read through node 2 with node 0 down: node 2 (stale deletes) and node 1
  // (missing key) must be merged.
  c.net().set_up(nid(0), false);
  things::range_query q;
  q.limit = 1000;
  auto r = c.at(2).get_range("p", q);
  ASSERT_TRUE(r) << r.error().to_string();
  std::vector<std::string> keys;
  for (auto& e : *r) keys.push_back(e.sk);
  EXPECT_EQ(keys.size(), 149u);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "k010"), 0);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "k100"), 0);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "k0505"), 1);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  // Small pages and reverse give the same keys.
  things::range_query small;
  small.limit = 7;
  small.start_sk = "k095";
  auto page = c.at(2).get_range("p", small);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 7u);
  EXPECT_EQ(page->front().sk, "k095");
  EXPECT_EQ((*page)[5].sk, "k101") << "k100 is deleted";
  things::range_query rev;
  rev.reverse = true;
  rev.limit = 1000;
  auto back = c.at(1).get_range("p", rev);
  ASSERT_TRUE(back);
  std::vector<std::string> rkeys;
  for (auto& e : *back) rkeys.push_back(e.sk);
  std::reverse(rkeys.begin(), rkeys.end());
  EXPECT_EQ(rkeys, keys);
  // The stale replicas were repaired by these reads.
  EXPECT_TRUE(eventually([&] {
    auto e = c.stored(2, "p", "k100");
    return e && e->deleted.get() && c.stored(1, "p", "k0505").has_value();
  }));
}

TEST(replicated_table, writes_during_a_layout_change_reach_both_versions) {
  cluster c(4);
  // Version 1 has nodes 0-3 in four zones (rf 3). Move node 3 out: while
  // version 1 is still live, a write must reach a quorum in both versions.
  c.remove_role(3);
  c.apply();
  auto l = c.layout();
  ASSERT_EQ(l->versions().size(), 2u) << "both versions live until synced";
  for (int i = 0; i < 40; ++i) {
    std::string pk = "p" + std::to_string(i);
    ASSERT_TRUE(c.at(i % 3).insert(test_entry::make(pk, "k", 1, "v")));
    auto sets = c.at(0).repl().write_sets(blake2b_256(pk));
    ASSERT_EQ(sets.size(), 2u);
    for (const auto& set : sets) {
      int have = 0;
      for (int n = 0; n < 4; ++n) {
        if (std::find(set.begin(), set.end(), nid(n)) == set.end()) continue;
        eventually([&] { return c.stored(n, pk, "k").has_value(); });
        have += c.stored(n, pk, "k").has_value();
      }
      EXPECT_GE(have, 2) << "write quorum in every live version";
    }
  }
}

TEST(replicated_table, a_write_in_flight_under_v1_holds_back_the_ack_of_v2_until_it_ends) {
  cluster c(3);
  // Slow links from node 0: its insert stays in flight for a while.
  c.net().set_delay(nid(0), nid(1), 150ms);
  c.net().set_delay(nid(0), nid(2), 150ms);
  auto pending = std::async(std::launch::async,
                            [&] { return c.at(0).insert(test_entry::make("p", "k", 1, "v")); });
  ASSERT_TRUE(eventually([&] { return c.writes(0).in_flight(1) == 1; }));
  // Version 2 arrives while the write, which computed its node sets from
  // version 1, still runs: node 0 may acknowledge version 1 only.
  c.add_role(3, "z3");
  c.apply();
  auto v2 = c.layout();
  ASSERT_EQ(v2->current().version(), 2u);
  EXPECT_EQ(c.writes(0).max_ack(*v2), 1u);
  EXPECT_EQ(c.writes(1).max_ack(*v2), 2u) << "nothing in flight on node 1";
  auto r = pending.get();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(c.writes(0).in_flight(), 0u);
  EXPECT_EQ(c.writes(0).max_ack(*v2), 2u);
}

TEST(table_sync, a_dead_node_the_operator_skipped_is_not_waited_for) {
  cluster c(3);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(c.at(i % 3).insert(test_entry::make("p" + std::to_string(i), "k", 1, "v")));
  // Node 2 dies; node 3 replaces it.
  c.net().set_up(nid(2), false);
  c.remove_role(2);
  c.add_role(3, "z2");
  c.apply();
  c.start(3);
  auto round = c.at(0).sync()->sync_all();
  ASSERT_TRUE(round);
  EXPECT_GT(round->errors, 0u) << "node 2 is down and still holds version 1";
  c.edit([](layout::layout_history& h) {
    auto r = h.skip_dead_nodes(2, {nid(2)}, false, 2);
    ASSERT_TRUE(r) << r.error().to_string();
  });
  for (int i : {0, 1, 3}) {
    round = c.at(i).sync()->sync_all();
    ASSERT_TRUE(round);
    EXPECT_EQ(round->errors, 0u) << "node " << i << ": " << round->last_error;
  }
  EXPECT_EQ(c.local_count(3), 50u) << "the replacement got everything from the live nodes";
}

TEST(table_sync, a_node_that_was_down_converges_through_anti_entropy) {
  cluster c(3);
  c.net().set_up(nid(2), false);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(c.at(i % 2).insert(
        test_entry::make("p" + std::to_string(i % 17), "k" + std::to_string(i), 1, "v")));
  c.net().set_up(nid(2), true);
  EXPECT_EQ(c.local_count(2), 0u);
  bool differ = false;
  for (int p = 0; p < 256; ++p) differ |= c.root(0, p) != c.root(2, p);
  EXPECT_TRUE(differ);
  c.sync_round();
  EXPECT_EQ(c.local_count(2), 200u);
  for (int p = 0; p < 256; ++p) {
    ASSERT_EQ(c.root(0, p), c.root(2, p)) << "partition " << p;
    ASSERT_EQ(c.root(1, p), c.root(2, p)) << "partition " << p;
  }
  // Converged: another round pushes nothing.
  auto again = c.at(0).sync()->sync_all();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->items_pushed, 0u);
  EXPECT_EQ(again->partitions_differing, 0u);
}

TEST(table_sync, a_node_removed_from_the_layout_hands_its_data_over_then_drops_it) {
  cluster c(4);
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(c.at(i % 4).insert(test_entry::make("p" + std::to_string(i), "k", 1, "v")));
  c.sync_round();
  const uint64_t before = c.local_count(3);
  ASSERT_GT(before, 0u);
  c.remove_role(3);
  c.apply();
  c.sync_round();  // new owners get their partitions from the old ones
  c.settle();      // then the old version retires
  c.sync_round();  // and node 3 offloads and drops
  EXPECT_EQ(c.local_count(3), 0u);
  for (int i = 0; i < 300; ++i) {
    std::string pk = "p" + std::to_string(i);
    auto owners = c.at(0).repl().sync_nodes(blake2b_256(pk));
    ASSERT_EQ(owners.size(), 3u);
    for (int n = 0; n < 3; ++n) {
      if (std::find(owners.begin(), owners.end(), nid(n)) != owners.end()) {
        ASSERT_TRUE(c.stored(n, pk, "k")) << pk << " on node " << n;
      }
    }
    auto r = c.at(1).get(pk, "k");
    ASSERT_TRUE(r && r->has_value());
  }
}

TEST(table_sync, a_tombstone_is_collected_only_once_every_replica_holds_it) {
  cluster c(3);
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "k", 1, "v")));
  ASSERT_TRUE(eventually([&] { return c.stored(2, "p", "k").has_value(); }));
  c.net().set_up(nid(2), false);
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "k", 2, "v", true)));
  ASSERT_TRUE(eventually(
      [&] { return c.stored(1, "p", "k").has_value() && c.stored(1, "p", "k")->deleted.get(); }));
  // Node 2 still has the live entry and is unreachable: nothing is collected.
  auto none = c.at(0).sync()->collect_tombstones(UINT64_MAX / 2, 0);
  ASSERT_TRUE(none) << none.error().to_string();
  EXPECT_EQ(*none, 0u);
  EXPECT_TRUE(c.stored(0, "p", "k").has_value());
  c.net().set_up(nid(2), true);
  auto done = c.at(0).sync()->collect_tombstones(UINT64_MAX / 2, 0);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(*done, 1u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(c.stored(i, "p", "k").has_value()) << "node " << i;
  // Nothing comes back through anti-entropy or a read.
  c.sync_round();
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(c.stored(i, "p", "k").has_value());
    auto r = c.at(i).get("p", "k");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
  }
}

TEST(replicated_table, malformed_requests_are_errors_not_crashes) {
  cluster c(3);
  auto& net = c.net().node(nid(0));
  EXPECT_FALSE(net.call(nid(1), "table/things/merkle", ""));
  EXPECT_FALSE(net.call(nid(1), "table/things/merkle", std::string(40, 'x')));
  for (const char* ep :
       {"table/things/put", "table/things/get", "table/things/range", "table/things/gc_delete"}) {
    for (std::string body :
         {std::string(), std::string("\xff\xff\xff\xff\xff", 5), std::string("\x01\x05zz", 4)}) {
      auto r = net.call(nid(1), ep, body);
      EXPECT_FALSE(r) << ep;
    }
  }
}

}  // namespace
}  // namespace garage::table

namespace garage::table {
namespace {

// A hook on one node queues entries for a table stored on other nodes; the
// drain writes them with a quorum, keeps them while it cannot, and never
// drops a change made after the send.
TEST(insert_queue, queued_in_a_transaction_sent_with_a_quorum_kept_until_then) {
  cluster c(3);
  auto q = insert_queue<things_schema>::open(c.db(0), c.at(0));
  ASSERT_TRUE(q) << q.error().to_string();
  {
    auto tx = c.db(0).begin();
    ASSERT_TRUE((*q)->push(*tx, test_entry::make("p", "a", 1, "one")));
    ASSERT_TRUE((*q)->push(*tx, test_entry::make("p", "a", 2, "two")));  // merged
    ASSERT_TRUE((*q)->push(*tx, test_entry::make("p", "b", 1, "bee")));
    ASSERT_TRUE(tx->commit());
  }
  EXPECT_EQ(*(*q)->count(), 2u);
  c.net().set_up(nid(1), false);
  c.net().set_up(nid(2), false);
  auto fail = (*q)->drain();
  ASSERT_FALSE(fail);
  EXPECT_EQ(*(*q)->count(), 2u) << "kept while no quorum";
  c.net().set_up(nid(1), true);
  c.net().set_up(nid(2), true);
  auto sent = (*q)->drain();
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_EQ(*sent, 2u);
  EXPECT_EQ(*(*q)->count(), 0u);
  auto r = c.at(2).get("p", "a");
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->value.value, "two");
}

}  // namespace
}  // namespace garage::table

namespace garage::table {
namespace {

// The sync worker reports a layout version as synced only after a round
// without errors; a down replica holds the report back.
TEST(sync_worker, reports_synced_only_after_a_clean_round) {
  cluster c(3);
  std::atomic<uint64_t> reported{0};
  std::vector<table_sync*> tables{c.at(0).sync()};
  sync_worker w(
      tables, [&] { return c.layout()->current().version(); }, [&](uint64_t v) { reported = v; },
      std::chrono::seconds(1));
  ASSERT_TRUE(c.at(0).insert(test_entry::make("p", "a", 1, "x")));
  c.net().set_up(nid(2), false);
  auto bad = w.step();
  ASSERT_TRUE(bad) << "a replica down is not a worker error";
  EXPECT_EQ(reported, 0u) << "a replica is down: not synced";
  EXPECT_NE(w.progress().find("errors"), std::string::npos) << w.progress();
  c.net().set_up(nid(2), true);
  auto good = w.step();
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_EQ(*good, worker_state::idle);
  EXPECT_EQ(reported, c.layout()->current().version());
  merkle_worker m(*c.at(1).sync());
  ASSERT_TRUE(m.step());
  EXPECT_EQ(m.queue_length(), 0u);
}

}  // namespace
}  // namespace garage::table
