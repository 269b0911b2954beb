// The in-process network and the blocking helpers of transport (call,
// quorum_call) that the table and block layers build on.
#include "rpc/local_net.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace garage::rpc {
namespace {

using namespace std::chrono_literals;

node_id nid(uint8_t b) {
  node_id n{};
  n.bytes[0] = b;
  return n;
}

handler_fn echo() {
  return [](const node_id&, std::string body) -> result<std::string> { return "re:" + body; };
}

TEST(local_net, call_reaches_the_handler_and_self_calls_work) {
  local_net net;
  auto& a = net.add(nid(1));
  auto& b = net.add(nid(2));
  b.register_handler("echo", echo());
  a.register_handler("echo", echo());
  auto r = a.call(nid(2), "echo", "x");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "re:x");
  auto self = a.call(nid(1), "echo", "y");
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(*self, "re:y");
  EXPECT_EQ(net.delivered(nid(2), "echo"), 1u);
}

TEST(local_net, missing_handler_down_node_and_cut_link_are_errors) {
  local_net net;
  auto& a = net.add(nid(1));
  auto& b = net.add(nid(2));
  net.add(nid(3)).register_handler("echo", echo());
  auto none = a.call(nid(2), "nothing", "");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, errc::not_found);
  b.register_handler("echo", echo());
  net.set_up(nid(2), false);
  auto down = a.call(nid(2), "echo", "");
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code, errc::unavailable);
  EXPECT_FALSE(a.is_up(nid(2)));
  net.set_up(nid(2), true);
  EXPECT_TRUE(a.call(nid(2), "echo", "").has_value());
  net.cut(nid(1), nid(3));
  EXPECT_EQ(a.call(nid(3), "echo", "").error().code, errc::unavailable);
  EXPECT_TRUE(b.call(nid(3), "echo", "").has_value()) << "only the cut link fails";
  auto unknown = a.call(nid(9), "echo", "");
  EXPECT_EQ(unknown.error().code, errc::unavailable);
}

TEST(local_net, handler_errors_travel_with_their_code) {
  local_net net;
  auto& a = net.add(nid(1));
  net.add(nid(2)).register_handler("fail", [](const node_id&, std::string) -> result<std::string> {
    return error(errc::conflict, "no");
  });
  auto r = a.call(nid(2), "fail", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::conflict);
}

TEST(local_net, delay_applies_each_way_and_timeouts_fire) {
  local_net net;
  auto& a = net.add(nid(1));
  net.add(nid(2)).register_handler("echo", echo());
  net.set_delay(nid(1), nid(2), 20ms);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.call(nid(2), "echo", "").has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 40ms);
  EXPECT_EQ(a.rtt(nid(2)), std::chrono::microseconds(40ms));
  auto r = a.call(nid(2), "echo", "", {priority::normal, 10ms});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::timeout);
}

TEST(local_net, link_cut_while_a_request_is_on_the_wire_fails_the_call) {
  // Regression: the delivery step used to post the failure with the net's
  // lock held, and every thread of the net deadlocked.
  local_net net;
  auto& a = net.add(nid(1));
  net.add(nid(2)).register_handler("echo", echo());
  net.set_delay(nid(1), nid(2), 50ms);
  std::promise<result<std::string>> p;
  auto f = p.get_future();
  a.call_async(nid(2), "echo", "x", {}, [&](result<std::string> r) { p.set_value(std::move(r)); });
  net.cut(nid(1), nid(2));
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_FALSE(a.peers().empty()) << "the net still answers";
}

TEST(quorum_call, returns_at_quorum_and_lets_the_slow_replica_finish) {
  local_net net;
  auto& a = net.add(nid(1));
  std::atomic<int> slow_done{0};
  for (uint8_t i = 1; i <= 3; ++i) net.add(nid(i)).register_handler("put", echo());
  net.node(nid(3)).register_handler("put",
                                    [&](const node_id&, std::string b) -> result<std::string> {
                                      std::this_thread::sleep_for(300ms);
                                      ++slow_done;
                                      return b;
                                    });
  std::vector<node_id> to{nid(1), nid(2), nid(3)};
  auto t0 = std::chrono::steady_clock::now();
  auto r = a.quorum_call(to, "put", "v", 2);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->size(), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms) << "did not wait for the slow node";
  for (int i = 0; i < 100 && slow_done == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(slow_done, 1) << "the third write still ran";
}

TEST(quorum_call, fails_fast_once_the_quorum_is_impossible) {
  local_net net;
  auto& a = net.add(nid(1));
  for (uint8_t i = 1; i <= 3; ++i) net.add(nid(i)).register_handler("put", echo());
  net.set_up(nid(2), false);
  net.cut(nid(1), nid(3));
  std::vector<node_id> to{nid(1), nid(2), nid(3)};
  auto r = a.quorum_call(to, "put", "v", 2);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unavailable);
  auto one = a.quorum_call(to, "put", "v", 1);
  EXPECT_TRUE(one.has_value());
  auto too_many = a.quorum_call(to, "put", "v", 4);
  EXPECT_FALSE(too_many.has_value());
  auto zero = a.quorum_call(to, "put", "v", 0);
  ASSERT_TRUE(zero.has_value());
  EXPECT_TRUE(zero->empty());
}

}  // namespace
}  // namespace garage::rpc
