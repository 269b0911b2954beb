// write_tracker: a write in flight under an old layout version holds back
// this node's acknowledgement of newer versions until it ends.
#include "rpc/write_tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "layout/layout.h"

namespace garage::rpc {
namespace {

using layout::layout_history;
using layout::node_role;

const layout::node_id a = blake2b_256("a"), b = blake2b_256("b"), c = blake2b_256("c"),
                      d = blake2b_256("d");
constexpr uint64_t TB = 1'000'000'000'000;

// The layout a node sees, replaced as versions are applied.
struct layout_box {
  std::mutex mu;
  std::shared_ptr<const layout_history> snap;
  void set(const layout_history& h) {
    std::lock_guard lk(mu);
    snap = std::make_shared<const layout_history>(h);
  }
  layout_source source() {
    return [this] {
      std::lock_guard lk(mu);
      return snap;
    };
  }
};

layout_history version_1() {
  layout_history h;
  EXPECT_TRUE(h.stage_role(a, node_role::storage("a", TB)));
  EXPECT_TRUE(h.stage_role(b, node_role::storage("b", TB)));
  EXPECT_TRUE(h.stage_role(c, node_role::storage("c", TB)));
  EXPECT_TRUE(h.apply(1).has_value());
  return h;
}

layout_history plus_version_2(layout_history h) {
  EXPECT_TRUE(h.stage_role(d, node_role::storage("d", TB)));
  EXPECT_TRUE(h.apply(2).has_value());
  return h;
}

TEST(write_tracker, a_write_in_flight_under_v1_delays_the_ack_of_v2_until_it_ends) {
  layout_box box;
  layout_history h = version_1();
  box.set(h);
  write_tracker writes(box.source());

  auto w = writes.begin();  // computes its node sets from version 1
  EXPECT_EQ(w.version(), 1u);
  EXPECT_EQ(w.layout()->current().version(), 1u);
  EXPECT_EQ(writes.in_flight(1), 1u);

  h = plus_version_2(h);
  box.set(h);
  auto snap = box.source()();
  EXPECT_EQ(writes.max_ack(*snap), 1u);
  // What the layout worker does: this node's ack stays at 1.
  layout_history mine = *snap;
  mine.update_local(a, writes.max_ack(*snap));
  EXPECT_EQ(mine.trackers().ack.at(a), 1u);

  // A write that starts now uses version 2 and does not hold it back.
  auto w2 = writes.begin();
  EXPECT_EQ(w2.version(), 2u);
  EXPECT_EQ(writes.max_ack(*snap), 1u);

  {
    auto moved = std::move(w);  // a guard can be handed over
    EXPECT_EQ(writes.in_flight(1), 1u);
  }  // the version 1 write is over
  EXPECT_EQ(writes.in_flight(1), 0u);
  EXPECT_EQ(writes.max_ack(*snap), 2u);
  mine.update_local(a, writes.max_ack(*snap));
  EXPECT_EQ(mine.trackers().ack.at(a), 2u);
  EXPECT_EQ(writes.in_flight(), 1u);  // w2
}

TEST(write_tracker, the_oldest_write_in_flight_decides) {
  layout_box box;
  layout_history h = version_1();
  box.set(h);
  write_tracker writes(box.source());
  auto w1 = writes.begin();
  h = plus_version_2(h);
  box.set(h);
  auto w2 = writes.begin();
  ASSERT_TRUE(h.stage_role(d, node_role::storage("a", TB)));
  ASSERT_TRUE(h.apply(3).has_value());
  box.set(h);
  auto snap = box.source()();
  EXPECT_EQ(writes.max_ack(*snap), 1u);
  w1 = write_tracker::guard{};  // assigning ends the write it held
  EXPECT_EQ(writes.max_ack(*snap), 2u);
  w2 = write_tracker::guard{};
  EXPECT_EQ(writes.max_ack(*snap), 3u);
  EXPECT_EQ(writes.in_flight(), 0u);
  // A default guard counts nothing.
  write_tracker::guard none;
  EXPECT_EQ(none.layout(), nullptr);
}

TEST(write_tracker, concurrent_writes_and_layout_changes_never_ack_past_a_running_write) {
  layout_box box;
  layout_history h = version_1();
  box.set(h);
  write_tracker writes(box.source());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> violations{0}, started{0};
  // Each writer publishes the version of its running write; the checker
  // asserts that an ack computed while it runs never passes it.
  constexpr int kWriters = 4;
  std::vector<std::atomic<uint64_t>> running(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      while (!stop) {
        auto g = writes.begin();
        running[i] = g.version();
        ++started;
        std::this_thread::yield();
        running[i] = 0;
      }
    });
  }
  std::thread checker([&] {
    while (!stop) {
      // Read before max_ack, as the layout worker does.
      auto snap = box.source()();
      std::vector<uint64_t> before(kWriters);
      for (int i = 0; i < kWriters; ++i) before[i] = running[i];
      uint64_t ack = writes.max_ack(*snap);
      for (int i = 0; i < kWriters; ++i) {
        uint64_t now = running[i];
        // Running across the whole max_ack call (same write, seen before
        // and after): the ack must not pass it.
        if (before[i] != 0 && now == before[i] && ack > now) ++violations;
      }
    }
  });
  for (uint64_t v = 2; v <= 20; ++v) {
    ASSERT_TRUE(h.stage_role(blake2b_256("n" + std::to_string(v)),
                             node_role::storage("z" + std::to_string(v), TB)));
    ASSERT_TRUE(h.apply(v).has_value());
    box.set(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& t : threads) t.join();
  checker.join();
  EXPECT_GT(started.load(), 0u);
  EXPECT_EQ(violations.load(), 0u);
  EXPECT_EQ(writes.in_flight(), 0u);
  EXPECT_EQ(writes.max_ack(*box.source()()), 20u);
}

}  // namespace
}  // namespace garage::rpc
