// The background worker runner: states, errors with backoff, tranquility,
// wake-up and stop.
#include "util/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace garage {
namespace {

using namespace std::chrono_literals;

class counting_worker : public worker {
 public:
  explicit counting_worker(int busy_steps, std::string name = "counter")
      : busy_steps_(busy_steps), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  result<worker_state> step() override {
    int n = ++steps_;
    if (fail_next_.exchange(false)) return error(errc::unavailable, "peer down");
    if (n <= busy_steps_) return worker_state::busy;
    return worker_state::idle;
  }
  std::optional<uint64_t> queue_length() const override {
    int left = busy_steps_ - steps_.load();
    return static_cast<uint64_t>(std::max(left, 0));
  }
  std::chrono::milliseconds idle_interval() const override { return 1h; }

  std::atomic<int> steps_{0};
  std::atomic<bool> fail_next_{false};
  int busy_steps_;
  std::string name_;
};

template <class F>
bool eventually(F cond) {
  for (int i = 0; i < 300 && !cond(); ++i) std::this_thread::sleep_for(10ms);
  return cond();
}

TEST(worker_runner, busy_worker_runs_until_idle_then_waits_for_a_wake) {
  worker_runner r;
  auto* w = new counting_worker(5);
  r.add(std::unique_ptr<worker>(w));
  ASSERT_TRUE(eventually([&] { return w->steps_ == 6; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(w->steps_, 6) << "idle: no step until woken";
  auto st = r.list();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].name, "counter");
  EXPECT_EQ(st[0].state, "idle");
  EXPECT_EQ(st[0].queue_length, 0u);
  r.wake_all();
  EXPECT_TRUE(eventually([&] { return w->steps_ == 7; }));
}

TEST(worker_runner, errors_are_counted_and_shown_and_the_worker_recovers) {
  worker_runner r;
  auto* w = new counting_worker(0);
  w->fail_next_ = true;
  r.add(std::unique_ptr<worker>(w));
  ASSERT_TRUE(eventually([&] { return r.list()[0].errors == 1; }));
  auto st = r.list()[0];
  EXPECT_EQ(st.state, "error");
  EXPECT_NE(st.last_error.find("peer down"), std::string::npos);
  EXPECT_GT(st.last_error_msec, 0u);
  r.wake_all();  // skip the backoff
  ASSERT_TRUE(eventually([&] { return r.list()[0].state == "idle"; }));
  EXPECT_EQ(r.list()[0].consecutive_errors, 0u);
}

TEST(worker_runner, tranquility_is_set_by_id_or_name_and_checked) {
  worker_runner r;
  r.add(std::make_unique<counting_worker>(0, "a"));
  r.add(std::make_unique<counting_worker>(0, "b"), 3);
  EXPECT_EQ(r.list()[1].tranquility, 3u);
  ASSERT_TRUE(r.set_tranquility("a", 7));
  ASSERT_TRUE(r.set_tranquility("2", 0));
  EXPECT_EQ(r.list()[0].tranquility, 7u);
  EXPECT_EQ(r.list()[1].tranquility, 0u);
  EXPECT_EQ(r.set_tranquility("zzz", 1).error().code, errc::not_found);
  EXPECT_EQ(r.set_tranquility("a", 5000).error().code, errc::invalid_argument);
}

TEST(worker_runner, stop_interrupts_idle_waits_and_marks_workers_stopped) {
  worker_runner r;
  r.add(std::make_unique<counting_worker>(0));
  ASSERT_TRUE(eventually([&] { return r.list()[0].state == "idle"; }));
  auto t0 = std::chrono::steady_clock::now();
  r.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(r.list()[0].state, "stopped");
  r.stop();  // twice is fine
}

}  // namespace
}  // namespace garage
