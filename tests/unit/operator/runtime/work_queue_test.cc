#include "runtime/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runtime/metrics.h"

namespace garage::op {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

TEST(work_queue, a_key_is_queued_once) {
  work_queue q("t");
  q.add("ns/a");
  q.add("ns/b");
  q.add("ns/a");
  EXPECT_EQ(q.depth(), 2u);
  EXPECT_EQ(q.get(), "ns/a");
  EXPECT_EQ(q.get(), "ns/b");
  EXPECT_EQ(q.depth(), 0u);
}

TEST(work_queue, a_key_added_while_processing_comes_back_after_done) {
  work_queue q("t");
  q.add("k");
  auto k = q.get();
  ASSERT_EQ(k, "k");
  q.add("k");  // changed while a worker holds it
  q.add("k");
  EXPECT_EQ(q.depth(), 0u);  // not given to a second worker meanwhile
  std::atomic<bool> got{false};
  std::jthread other([&](std::stop_token st) {
    if (q.get(st)) got = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got);
  q.done("k");
  other.join();
  EXPECT_TRUE(got);  // once, after done()
  EXPECT_EQ(q.depth(), 0u);
}

TEST(work_queue, done_without_changes_drops_the_key) {
  work_queue q("t");
  q.add("k");
  ASSERT_EQ(q.get(), "k");
  q.done("k");
  EXPECT_EQ(q.depth(), 0u);
  q.add("k");  // and it can be added again
  EXPECT_EQ(q.depth(), 1u);
}

TEST(rate_limiter, backoff_doubles_per_failure_up_to_the_cap_and_forget_resets) {
  queue_options o;
  o.base_delay = 5ms;
  o.max_delay = 100ms;
  o.qps = 0;  // no overall bucket
  rate_limiter r(o);
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(r.when("k").count());
  EXPECT_EQ(delays, (std::vector<int64_t>{5, 10, 20, 40, 80, 100, 100, 100}));
  EXPECT_EQ(r.num_requeues("k"), 8);
  EXPECT_EQ(r.when("other").count(), 5);  // per key
  r.forget("k");
  EXPECT_EQ(r.num_requeues("k"), 0);
  EXPECT_EQ(r.when("k").count(), 5);
  // A long streak does not overflow.
  for (int i = 0; i < 200; ++i) r.when("long");
  EXPECT_EQ(r.when("long").count(), 100);
}

TEST(rate_limiter, the_token_bucket_spaces_retries_of_many_keys) {
  queue_options o;
  o.base_delay = 1ms;
  o.qps = 10;
  o.burst = 2;
  auto now = clock::now();
  rate_limiter r(o, [&] { return now; });  // a frozen clock
  EXPECT_EQ(r.when("a").count(), 1);       // the burst
  EXPECT_EQ(r.when("b").count(), 1);
  EXPECT_EQ(r.when("c").count(), 100);  // then one per 1/qps
  EXPECT_EQ(r.when("d").count(), 200);
  now += 1s;  // refills (up to burst)
  EXPECT_EQ(r.when("e").count(), 1);
}

TEST(work_queue, add_rate_limited_delays_and_grows) {
  queue_options o;
  o.base_delay = 40ms;
  o.qps = 0;
  work_queue q("t", o);
  auto start = clock::now();
  q.add_rate_limited("k");
  EXPECT_EQ(q.depth(), 0u);  // not yet
  ASSERT_EQ(q.get(), "k");
  auto first = clock::now() - start;
  EXPECT_GE(first, 40ms);
  EXPECT_LT(first, 5s);
  q.done("k");
  start = clock::now();
  q.add_rate_limited("k");
  ASSERT_EQ(q.get(), "k");
  EXPECT_GE(clock::now() - start, 80ms);  // doubled
  EXPECT_EQ(q.num_requeues("k"), 2);
  q.forget("k");
  EXPECT_EQ(q.num_requeues("k"), 0);
}

TEST(work_queue, add_after_keeps_the_earliest_and_plain_add_is_immediate) {
  work_queue q("t");
  q.add_after("k", 10s);
  q.add_after("k", 30ms);  // earlier wins
  auto start = clock::now();
  ASSERT_EQ(q.get(), "k");
  EXPECT_LT(clock::now() - start, 5s);
  q.done("k");
  q.add_after("j", 10s);
  q.add("j");  // now as well
  ASSERT_EQ(q.get(), "j");
}

TEST(work_queue, shut_down_and_stop_unblock_get) {
  work_queue q("t");
  std::optional<std::string> got = "x";
  std::thread t([&] { got = q.get(); });
  std::this_thread::sleep_for(30ms);
  q.shut_down();
  t.join();
  EXPECT_FALSE(got);
  q.add("k");  // ignored
  EXPECT_FALSE(q.get());

  work_queue q2("t2");
  q2.add_after("later", 10s);
  std::stop_source stop;
  std::thread t2([&] { got = q2.get(stop.get_token()); });
  std::this_thread::sleep_for(30ms);
  auto start = clock::now();
  stop.request_stop();
  t2.join();
  EXPECT_FALSE(got);
  EXPECT_LT(clock::now() - start, 5s);
}

TEST(work_queue, metrics) {
  metrics m;
  work_queue q("clusters", {}, &m);
  q.add("a");
  q.add("a");
  q.add("b");
  ASSERT_TRUE(q.get());
  q.add_rate_limited("c");
  auto text = m.text();
  EXPECT_NE(text.find("garage_operator_workqueue_adds_total{name=\"clusters\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("garage_operator_workqueue_depth{name=\"clusters\"} 1"), std::string::npos);
  EXPECT_NE(text.find("garage_operator_workqueue_retries_total{name=\"clusters\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("garage_operator_workqueue_queue_duration_seconds_count{name=\"clusters\"} 1"),
      std::string::npos);
}

}  // namespace
}  // namespace garage::op
