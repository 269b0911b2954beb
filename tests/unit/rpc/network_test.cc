// network: calls between real instances over loopback TLS connections.
#include "rpc/network.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "rpc_test_util.h"
#include "util/random.h"

namespace garage::rpc {
namespace {

using namespace std::chrono_literals;
using test::addr_of;
using test::start_node;
using test::temp_dir;
using test::test_options;
using test::wait_until;

struct pair_fixture : ::testing::Test {
  temp_dir da, db;
  std::unique_ptr<network> a, b;

  void SetUp() override {
    a = start_node(test_options(da.path(), test::secret_a));
    b = start_node(test_options(db.path(), test::secret_a));
    ASSERT_TRUE(a && b);
    b->register_handler(
        "echo", [](const node_id&, std::string body) -> result<std::string> { return body; });
    auto r = a->connect(b->self(), addr_of(*b));
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
  }
};

TEST_F(pair_fixture, CallAndResponseBothWays) {
  auto r = a->call(b->self(), "echo", "hello");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "hello");
  EXPECT_TRUE(a->is_up(b->self()));
  // The one connection carries calls the other way too.
  ASSERT_TRUE(wait_until([&] { return b->is_up(a->self()); }));
  node_id seen{};
  a->register_handler("who", [&](const node_id& from, std::string) -> result<std::string> {
    seen = from;
    return std::string("me");
  });
  auto back = b->call(a->self(), "who", "");
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, "me");
  EXPECT_EQ(seen, b->self());
  // Empty bodies both ways.
  auto empty = a->call(b->self(), "echo", "");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, "");
}

TEST_F(pair_fixture, TwentyMebibyteBody) {
  std::string body = random_bytes(20 << 20);
  auto r = a->call(b->self(), "echo", body);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(*r == body);
}

TEST_F(pair_fixture, HighPriorityCallOvertakesBackgroundTransfer) {
  b->register_handler("bulk", [](const node_id&, std::string body) -> result<std::string> {
    return std::to_string(body.size());
  });
  b->register_handler("meta", [](const node_id&, std::string) -> result<std::string> {
    return std::string("meta");
  });
  std::mutex mu;
  std::vector<std::string> order;
  std::promise<void> both;
  std::atomic<int> left{2};
  auto done = [&](std::string name) {
    return [&, name](result<std::string> r) {
      EXPECT_TRUE(r.has_value()) << name << ": " << r.error().to_string();
      {
        std::lock_guard l(mu);
        order.push_back(name);
      }
      if (left.fetch_sub(1) == 1) both.set_value();
    };
  };
  call_options bg;
  bg.prio = priority::background;
  // 48 MiB cut into 64 KiB frames: the metadata call is queued right behind
  // the first frame and must complete long before the transfer does.
  a->call_async(b->self(), "bulk", std::string(48 << 20, 'x'), bg, done("bulk"));
  call_options hi;
  hi.prio = priority::high;
  a->call_async(b->self(), "meta", "", hi, done("meta"));
  ASSERT_EQ(both.get_future().wait_for(60s), std::future_status::ready);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], "meta");
  EXPECT_EQ(order[1], "bulk");
}

TEST_F(pair_fixture, CallTimesOut) {
  b->register_handler("slow", [](const node_id&, std::string) -> result<std::string> {
    std::this_thread::sleep_for(1500ms);
    return std::string("late");
  });
  call_options o;
  o.timeout = 200ms;
  auto start = std::chrono::steady_clock::now();
  auto r = a->call(b->self(), "slow", "", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1400ms);
  // The late answer is dropped and the connection stays usable.
  std::this_thread::sleep_for(1500ms);
  auto again = a->call(b->self(), "echo", "still here");
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(*again, "still here");
}

TEST_F(pair_fixture, HandlerErrorKeepsItsCode) {
  b->register_handler("refuse", [](const node_id&, std::string) -> result<std::string> {
    return error(errc::conflict, "version mismatch");
  });
  auto r = a->call(b->self(), "refuse", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::conflict);
  EXPECT_EQ(r.error().message, "version mismatch");
  auto missing = a->call(b->self(), "no/such/endpoint", "");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::not_found);
  b->register_handler("throws", [](const node_id&, std::string) -> result<std::string> {
    throw std::runtime_error("boom");
  });
  auto thrown = a->call(b->self(), "throws", "");
  ASSERT_FALSE(thrown.has_value());
  EXPECT_EQ(thrown.error().code, errc::internal);
}

TEST_F(pair_fixture, LostConnectionFailsCallsInFlightAtOnce) {
  std::atomic<bool> entered{false};
  b->register_handler("hang", [&](const node_id&, std::string) -> result<std::string> {
    entered = true;
    std::this_thread::sleep_for(3s);
    return std::string("x");
  });
  std::promise<result<std::string>> p;
  call_options o;
  o.timeout = 30s;
  a->call_async(b->self(), "hang", "", o, [&](result<std::string> r) { p.set_value(r); });
  ASSERT_TRUE(wait_until([&] { return entered.load(); }));
  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { b->stop(); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unavailable);
  // Failed when the connection dropped, not when the handler finished.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  stopper.join();
  EXPECT_FALSE(a->is_up(b->self()));
  auto after = a->call(b->self(), "echo", "");
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, errc::unavailable);
}

TEST_F(pair_fixture, BodyLimits) {
  temp_dir dc;
  auto o = test_options(dc.path(), test::secret_a);
  o.max_body_size = 1 << 20;
  auto c = start_node(o);
  ASSERT_TRUE(c);
  std::atomic<int> runs{0};
  c->register_handler("echo", [&](const node_id&, std::string body) -> result<std::string> {
    runs++;
    return body;
  });
  ASSERT_TRUE(a->connect(c->self(), addr_of(*c)).has_value());
  // Over the receiver's limit: refused there, the handler never runs.
  auto r = a->call(c->self(), "echo", std::string(2 << 20, 'y'));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::too_large);
  EXPECT_EQ(runs.load(), 0);
  // Over the sender's limit: refused before sending.
  auto big = c->call(a->self(), "echo", std::string(2 << 20, 'y'));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, errc::too_large);
  // The connection survives both.
  auto small = a->call(c->self(), "echo", "ok");
  ASSERT_TRUE(small.has_value()) << small.error().to_string();
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(pair_fixture, StatusBlobsReachPeers) {
  std::mutex mu;
  std::vector<std::string> seen;
  b->on_peer_status([&](const node_id& from, const std::string& blob) {
    if (from != a->self()) return;
    std::lock_guard l(mu);
    seen.push_back(blob);
  });
  a->set_local_status("layout v1");
  ASSERT_TRUE(wait_until([&] { return b->peer_status_blob(a->self()) == "layout v1"; }));
  a->set_local_status("layout v2");
  ASSERT_TRUE(wait_until([&] { return b->peer_status_blob(a->self()) == "layout v2"; }));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard l(mu);
    return !seen.empty() && seen.back() == "layout v2";
  }));
  std::lock_guard l(mu);
  EXPECT_NE(std::find(seen.begin(), seen.end(), "layout v1"), seen.end());
}

TEST_F(pair_fixture, PingsMeasureRttAndMetricsCountCalls) {
  ASSERT_TRUE(wait_until([&] { return a->rtt(b->self()).has_value(); }));
  EXPECT_GT(a->rtt(b->self())->count(), 0);
  EXPECT_EQ(a->rtt(a->self())->count(), 0);
  b->register_handler("fail", [](const node_id&, std::string) -> result<std::string> {
    return error(errc::io_error, "disk");
  });
  for (int i = 0; i < 3; i++) ASSERT_TRUE(a->call(b->self(), "echo", "abc").has_value());
  ASSERT_FALSE(a->call(b->self(), "fail", "").has_value());
  bool found = false;
  for (const auto& m : a->metrics()) {
    if (m.id != b->self()) continue;
    found = true;
    EXPECT_EQ(m.calls, 4u);  // pings and peer exchange are not counted
    EXPECT_EQ(m.errors, 1u);
    EXPECT_EQ(m.bytes_received, 9u);
    EXPECT_GT(m.latency_us_sum, 0u);
  }
  EXPECT_TRUE(found);
}

TEST(network, CallsToSelfRunTheHandlerInProcess) {
  temp_dir d;
  auto a = start_node(test_options(d.path(), test::secret_a));
  ASSERT_TRUE(a);
  std::atomic<bool> on_worker{false};
  auto caller = std::this_thread::get_id();
  a->register_handler("local", [&](const node_id& from, std::string body) -> result<std::string> {
    on_worker = std::this_thread::get_id() != caller;
    EXPECT_EQ(from, a->self());
    return body + "!";
  });
  auto r = a->call(a->self(), "local", "hi");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "hi!");
  EXPECT_TRUE(on_worker.load());
  EXPECT_TRUE(a->is_up(a->self()));
}

TEST(network, UnknownPeerIsUnavailable) {
  temp_dir d;
  auto a = start_node(test_options(d.path(), test::secret_a));
  ASSERT_TRUE(a);
  node_id other{};
  other.bytes[0] = 7;
  auto r = a->call(other, "echo", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_FALSE(a->is_up(other));
}

TEST(network, PeerRestartIsRedialed) {
  temp_dir da, db;
  auto a = start_node(test_options(da.path(), test::secret_a));
  auto b = start_node(test_options(db.path(), test::secret_a));
  ASSERT_TRUE(a && b);
  uint16_t b_port = b->port();
  node_id b_id = b->self();
  ASSERT_TRUE(a->connect(b_id, addr_of(*b)).has_value());
  b->stop();
  b.reset();
  ASSERT_TRUE(wait_until([&] { return !a->is_up(b_id); }));
  std::this_thread::sleep_for(500ms);  // a few failed redials: backoff grows
  b = start_node(test_options(db.path(), test::secret_a, b_port));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->self(), b_id);
  b->register_handler("echo",
                      [](const node_id&, std::string body) -> result<std::string> { return body; });
  ASSERT_TRUE(wait_until([&] { return a->is_up(b_id); }, 15s));
  auto r = a->call(b_id, "echo", "back");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "back");
}

TEST(network, RestartedNodeRedialsItsPersistedPeers) {
  temp_dir da, db;
  auto a = start_node(test_options(da.path(), test::secret_a));
  auto b = start_node(test_options(db.path(), test::secret_a));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->connect(b->self(), addr_of(*b)).has_value());
  node_id a_id = a->self();
  a->stop();
  a.reset();
  ASSERT_TRUE(wait_until([&] { return !b->is_up(a_id); }));
  // Restarted without bootstrap peers on another port: it dials b from its
  // peer_list, and b learns its new address from the hello.
  a = start_node(test_options(da.path(), test::secret_a));
  ASSERT_TRUE(a);
  ASSERT_TRUE(wait_until([&] { return a->is_up(b->self()) && b->is_up(a_id); }));
  bool addr_ok = false;
  for (const auto& p : b->peers()) {
    if (p.id == a_id) addr_ok = p.addr == addr_of(*a);
  }
  EXPECT_TRUE(addr_ok);
}

TEST(network, BootstrapPeersAreDialed) {
  temp_dir da, db;
  auto b = start_node(test_options(db.path(), test::secret_a));
  ASSERT_TRUE(b);
  auto o = test_options(da.path(), test::secret_a);
  o.bootstrap_peers = {b->self().hex() + "@" + addr_of(*b)};
  auto a = start_node(o);
  ASSERT_TRUE(a);
  ASSERT_TRUE(wait_until([&] { return a->is_up(b->self()) && b->is_up(a->self()); }));
  auto bad = test_options(da.path(), test::secret_a);
  bad.bootstrap_peers = {"not-an-address"};
  auto r = network::create(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
}

TEST(network, PeerExchangeJoinsTheCluster) {
  temp_dir da, db, dc;
  auto a = start_node(test_options(da.path(), test::secret_a));
  auto b = start_node(test_options(db.path(), test::secret_a));
  auto c = start_node(test_options(dc.path(), test::secret_a));
  ASSERT_TRUE(a && b && c);
  c->register_handler("echo",
                      [](const node_id&, std::string body) -> result<std::string> { return body; });
  ASSERT_TRUE(a->connect(b->self(), addr_of(*b)).has_value());
  ASSERT_TRUE(b->connect(c->self(), addr_of(*c)).has_value());
  // a never heard of c: b tells it.
  ASSERT_TRUE(wait_until([&] { return a->is_up(c->self()) && c->is_up(a->self()); }));
  auto r = a->call(c->self(), "echo", "via gossip");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(a->peers().size(), 2u);
  EXPECT_EQ(c->peers().size(), 2u);
}

TEST(network, SimultaneousDialsLeaveOneWorkingConnection) {
  temp_dir da, db;
  auto a = start_node(test_options(da.path(), test::secret_a));
  auto b = start_node(test_options(db.path(), test::secret_a));
  ASSERT_TRUE(a && b);
  for (auto* n : {a.get(), b.get()}) {
    n->register_handler(
        "echo", [](const node_id&, std::string body) -> result<std::string> { return body; });
  }
  std::thread t1([&] { (void)a->connect(b->self(), addr_of(*b)); });
  std::thread t2([&] { (void)b->connect(a->self(), addr_of(*a)); });
  t1.join();
  t2.join();
  ASSERT_TRUE(wait_until([&] { return a->is_up(b->self()) && b->is_up(a->self()); }));
  std::this_thread::sleep_for(500ms);
  for (int i = 0; i < 20; i++) {
    auto r1 = a->call(b->self(), "echo", "x");
    auto r2 = b->call(a->self(), "echo", "y");
    ASSERT_TRUE(r1.has_value()) << r1.error().to_string();
    ASSERT_TRUE(r2.has_value()) << r2.error().to_string();
  }
}

}  // namespace
}  // namespace garage::rpc
