#include "runtime/controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "runtime/metrics.h"

namespace garage::op {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

TEST(controller, keys) {
  EXPECT_EQ(object_key("ns", "a"), "ns/a");
  EXPECT_EQ(object_key("", "node1"), "node1");
  EXPECT_EQ(split_key("ns/a"), (std::pair<std::string, std::string>{"ns", "a"}));
  EXPECT_EQ(split_key("node1"), (std::pair<std::string, std::string>{"", "node1"}));
}

TEST(controller, retries_a_failing_reconcile_with_growing_delays) {
  metrics m;
  std::mutex mu;
  std::vector<clock::time_point> calls;
  std::atomic<int> n{0};
  queue_options o;
  o.base_delay = 20ms;
  o.qps = 0;
  controller c(
      "gcl",
      [&](const std::string& ns, const std::string& name) -> result<reconcile_result> {
        EXPECT_EQ(ns, "ns");
        EXPECT_EQ(name, "geo");
        {
          std::lock_guard lock(mu);
          calls.push_back(clock::now());
        }
        if (++n < 5) return error(errc::unavailable, "admin API unreachable");
        return reconcile_result{};
      },
      m, o, 2);
  std::stop_source stop;
  std::jthread runner([&] { c.run(stop.get_token()); });
  c.enqueue("ns", "geo");
  auto deadline = clock::now() + 20s;
  while (n < 5 && clock::now() < deadline) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(50ms);  // nothing more should come
  stop.request_stop();
  runner.join();
  ASSERT_EQ(n.load(), 5);
  // 20, 40, 80, 160 ms between the calls (at least: the machine may be slow).
  for (size_t i = 1; i < calls.size(); ++i)
    EXPECT_GE(calls[i] - calls[i - 1], 20ms * (1 << (i - 1))) << "retry " << i;
  EXPECT_EQ(c.queue().num_requeues("ns/geo"), 0);  // forgotten after the success
  auto text = m.text();
  EXPECT_NE(text.find("garage_operator_reconcile_total{controller=\"gcl\",result=\"error\"} 4"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("garage_operator_reconcile_total{controller=\"gcl\",result=\"success\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("garage_operator_reconcile_errors_total{controller=\"gcl\"} 4"),
            std::string::npos);
  EXPECT_NE(text.find("garage_operator_reconcile_duration_seconds_count{controller=\"gcl\"} 5"),
            std::string::npos);
  EXPECT_NE(text.find("garage_operator_workqueue_retries_total{name=\"gcl\"} 4"),
            std::string::npos);
}

TEST(controller, requeue_after_and_no_two_workers_on_one_key) {
  metrics m;
  std::atomic<int> in_flight{0}, max_in_flight{0}, calls{0};
  controller c(
      "b",
      [&](const std::string&, const std::string&) -> result<reconcile_result> {
        int now = ++in_flight;
        int prev = max_in_flight.load();
        while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
        }
        std::this_thread::sleep_for(20ms);
        --in_flight;
        if (++calls == 1) return reconcile_result{30ms};
        return reconcile_result{};
      },
      m, {}, 4);
  std::stop_source stop;
  std::jthread runner([&] { c.run(stop.get_token()); });
  for (int i = 0; i < 20; ++i) {
    c.enqueue("ns", "x");
    std::this_thread::sleep_for(2ms);
  }
  auto deadline = clock::now() + 10s;
  while ((calls < 2 || c.queue().depth() > 0) && clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(100ms);
  stop.request_stop();
  runner.join();
  EXPECT_EQ(max_in_flight.load(), 1);
  EXPECT_GE(calls.load(), 2);
  EXPECT_NE(m.text().find("garage_operator_reconcile_total{controller=\"b\",result=\"requeue\"} 1"),
            std::string::npos);
}

TEST(controller, a_throwing_reconcile_is_an_error_not_a_crash) {
  metrics m;
  std::atomic<int> calls{0};
  controller c(
      "t",
      [&](const std::string&, const std::string&) -> result<reconcile_result> {
        ++calls;
        throw std::runtime_error("boom");
      },
      m);
  c.enqueue("ns", "x");
  std::stop_source stop;
  EXPECT_TRUE(c.process_next(stop.get_token()));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(c.queue().num_requeues("ns/x"), 1);
  stop.request_stop();
  EXPECT_FALSE(c.process_next(stop.get_token()));
}

TEST(metrics, cluster_gauges_and_forget) {
  metrics m;
  m.set_cluster("ns", "geo", 7, 6, 5, 6, 256, 250, 256);
  m.set_operation("ns", "geo", "scale_up", true);
  m.set_operation("ns", "geo", "upgrade", false);
  m.set_cluster("ns", "other", 1, 3, 3, 3, 256, 256, 256);
  m.leader(true);
  m.api_request("GET", 200, 0.01);
  auto t = m.text();
  EXPECT_NE(t.find("garage_operator_cluster_layout_version{cluster=\"geo\",namespace=\"ns\"} 7"),
            std::string::npos)
      << t;
  EXPECT_NE(
      t.find("garage_operator_cluster_partitions_healthy{cluster=\"geo\",namespace=\"ns\"} 250"),
      std::string::npos);
  EXPECT_NE(t.find("garage_operator_cluster_operation_in_progress{cluster=\"geo\",namespace=\"ns\","
                   "operation=\"scale_up\"} 1"),
            std::string::npos);
  EXPECT_NE(t.find("garage_operator_leader 1"), std::string::npos);
  EXPECT_NE(t.find("garage_operator_api_requests_total{code=\"200\",verb=\"GET\"} 1"),
            std::string::npos);
  m.forget_cluster("ns", "geo");
  t = m.text();
  EXPECT_EQ(t.find("cluster=\"geo\""), std::string::npos) << t;
  EXPECT_NE(t.find("cluster=\"other\""), std::string::npos);
}

}  // namespace
}  // namespace garage::op
