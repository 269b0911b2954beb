// background<T>: a blocking job started on the runtime's pool now and awaited
// later, so that a coroutine can overlap it with its own I/O (read the next
// block from disk while writing this one to the socket; hash and store a block
// while the next one arrives from the network).
//
//   auto job = background<result<std::string>>::start(rt, [id, blocks] { return blocks->get(id);
//   }); co_await ex.write_body(previous); co_await job.wait(); auto data = job.take();
//
// The function owns what it needs (capture by value, or state that outlives
// the job): a coroutine that returns early must still co_await wait() before
// anything the function references goes away. wait() and take() are called
// once each, from one coroutine.
#pragma once

// clang-format off: <utility> must precede Asio's coroutine headers (Boost 1.74 misses it).
#include <utility>
// clang-format on

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "api/common/runtime.h"

namespace garage::http {

template <class T>
class background {
 public:
  template <class F>
  static background start(runtime& rt, F f) {
    auto st = std::make_shared<state>();
    boost::asio::post(rt.blocking_pool(), [st, f = std::move(f)]() mutable {
      std::optional<T> value;
      std::exception_ptr failure;
      try {
        value.emplace(f());
      } catch (...) {
        failure = std::current_exception();
      }
      std::function<void()> resume;
      {
        std::lock_guard lock(st->mu);
        st->value = std::move(value);
        st->failure = failure;
        st->done = true;
        resume = std::move(st->resume);
      }
      if (resume) resume();
    });
    return background(std::move(st));
  }

  background() = default;
  bool valid() const { return st_ != nullptr; }

  // Waits for the job to finish. Not a coroutine itself (g++ 12 mishandled
  // the shared state held in a member coroutine's frame): it returns the
  // awaitable of the wait.
  task<void> wait() {
    auto st = st_;
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
        [st](auto handler) {
          auto home = boost::asio::get_associated_executor(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          std::function<void()> resume = [home, h]() mutable {
            boost::asio::post(home, std::move(*h));
          };
          std::unique_lock lock(st->mu);
          if (st->done) {
            lock.unlock();
            resume();
          } else {
            st->resume = std::move(resume);
          }
        },
        boost::asio::use_awaitable);
  }

  // The job's value, after wait() (rethrows what it threw). Leaves this empty.
  T take() {
    auto st = std::move(st_);
    if (st->failure) std::rethrow_exception(st->failure);
    return std::move(*st->value);
  }

 private:
  struct state {
    std::mutex mu;
    bool done = false;
    std::optional<T> value;
    std::exception_ptr failure;
    std::function<void()> resume;
  };
  explicit background(std::shared_ptr<state> st) : st_(std::move(st)) {}
  std::shared_ptr<state> st_;
};

}  // namespace garage::http
