// background<T>: a job on the blocking pool, awaited later by a coroutine that
// meanwhile does other work. The first version of it freed its shared state
// while the pool still used it (found with ASan, seen as corrupt GET data).
#include "api/common/background.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <thread>

#include "util/result.h"

namespace garage::http {
namespace {

TEST(background, chained_jobs_return_their_own_values) {
  runtime rt(2, 4);
  std::atomic<int> bad{0}, done{0};
  auto run = [&]() -> task<void> {
    using job = background<result<std::string>>;
    auto make = [](char c) { return result<std::string>(std::string(1 << 20, c)); };
    job next = job::start(rt, [make] { return make('a'); });
    for (int i = 0; i < 200; ++i) {
      co_await next.wait();
      auto data = next.take();
      char c = static_cast<char>('a' + (i + 1) % 26);
      next = job::start(rt, [make, c] { return make(c); });
      if (!data || data->size() != (1u << 20) || (*data)[4321] != 'a' + i % 26) ++bad;
    }
    co_await next.wait();
    (void)next.take();
    ++done;
  };
  for (int k = 0; k < 4; ++k) {
    boost::asio::co_spawn(boost::asio::make_strand(rt.io()), run(), boost::asio::detached);
  }
  rt.start();
  for (int i = 0; i < 3000 && done < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  rt.stop();
  rt.join();
  EXPECT_EQ(done, 4);
  EXPECT_EQ(bad, 0);
}

TEST(background, a_throwing_job_rethrows_in_take) {
  runtime rt(1, 1);
  std::atomic<int> caught{0};
  auto run = [&]() -> task<void> {
    auto job = background<int>::start(rt, []() -> int { throw std::runtime_error("boom"); });
    co_await job.wait();
    try {
      (void)job.take();
    } catch (const std::runtime_error&) {
      ++caught;
    }
    rt.stop();
  };
  boost::asio::co_spawn(rt.io(), run(), boost::asio::detached);
  rt.run();
  EXPECT_EQ(caught, 1);
}

}  // namespace
}  // namespace garage::http
