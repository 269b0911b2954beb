// The threads of a node: an io_context run by a few I/O threads, and a bounded
// pool for blocking work (RocksDB calls, fsync) that must never run on an I/O
// thread.
//
//   runtime rt(2, 4);
//   server s(rt, ...);            // services bind to rt.io()
//   shutdown_signal sig(rt, [&](int) { s.stop([&] { rt.stop(); }); });
//   rt.run();                     // until rt.stop()
//
// Inside a coroutine running on rt.io():
//   auto n = co_await run_blocking(rt, [&] { return db.count(); });
#pragma once

// clang-format off: <utility> must precede Asio's coroutine headers (Boost 1.74 misses it).
#include <utility>
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "api/common/exchange.h"

namespace garage::http {

class runtime {
 public:
  // io_threads >= 1 threads run io(); blocking_threads >= 1 threads run
  // run_blocking work.
  explicit runtime(unsigned io_threads, unsigned blocking_threads);
  // Stops and joins.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  boost::asio::io_context& io() { return io_; }
  boost::asio::thread_pool& blocking_pool() { return pool_; }

  // Runs the I/O threads, the calling thread being one of them, until stop().
  // Returns once they have all returned.
  void run();
  // Runs the I/O threads in the background; join() waits for them.
  void start();
  // Makes the I/O threads return (pending handlers are dropped) and stops the
  // blocking pool. Safe from any thread, including an I/O thread.
  void stop();
  // Waits for background I/O threads and the blocking pool. Not from an I/O
  // thread.
  void join();

 private:
  unsigned io_threads_;
  boost::asio::io_context io_;
  boost::asio::thread_pool pool_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

namespace detail {
// Runs fn on rt's blocking pool, then resumes the calling coroutine on its own
// executor. An exception thrown by fn is rethrown in the coroutine.
task<void> run_on_pool(runtime& rt, std::function<void()> fn);
}  // namespace detail

// Runs f() on the blocking pool and returns its value to the calling coroutine,
// which resumes on its own executor (its I/O thread or strand). f must not
// touch state that the coroutine's executor owns without locking.
template <class F>
task<std::invoke_result_t<F>> run_blocking(runtime& rt, F f) {
  using value_type = std::invoke_result_t<F>;
  if constexpr (std::is_void_v<value_type>) {
    co_await detail::run_on_pool(rt, [&f] { f(); });
  } else {
    std::optional<value_type> out;
    co_await detail::run_on_pool(rt, [&f, &out] { out.emplace(f()); });
    co_return std::move(*out);
  }
}

// Calls `on_signal(signo)` on an I/O thread when SIGINT or SIGTERM arrives
// (once per signal received while this object lives). The daemon's main uses
// it for graceful shutdown.
class shutdown_signal {
 public:
  shutdown_signal(runtime& rt, std::function<void(int signo)> on_signal);
  ~shutdown_signal();
  shutdown_signal(const shutdown_signal&) = delete;
  shutdown_signal& operator=(const shutdown_signal&) = delete;

 private:
  struct rep;
  std::shared_ptr<rep> rep_;
};

}  // namespace garage::http
