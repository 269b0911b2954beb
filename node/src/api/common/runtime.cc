#include "api/common/runtime.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>

#include "util/log.h"

namespace garage::http {

namespace asio = boost::asio;

runtime::runtime(unsigned io_threads, unsigned blocking_threads)
    : io_threads_(io_threads == 0 ? 1 : io_threads),
      io_(static_cast<int>(io_threads_)),
      pool_(blocking_threads == 0 ? 1 : blocking_threads) {
  work_.emplace(io_.get_executor());
}

runtime::~runtime() {
  stop();
  join();
}

void runtime::run() {
  std::vector<std::thread> extra;
  for (unsigned i = 1; i < io_threads_; ++i) extra.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : extra) t.join();
}

void runtime::start() {
  for (unsigned i = 0; i < io_threads_; ++i) threads_.emplace_back([this] { io_.run(); });
}

void runtime::stop() {
  // work_ stays: io_.stop() alone makes run() return, and work_ is then never
  // touched from two threads.
  io_.stop();
  pool_.stop();
}

void runtime::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  pool_.join();
}

namespace detail {

task<void> run_on_pool(runtime& rt, std::function<void()> fn) {
  std::exception_ptr failure;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&rt, &fn, &failure](auto handler) {
        // The coroutine resumes through its own executor (an I/O thread or its
        // strand), not on the pool: handler's associated executor.
        auto home = asio::prefer(asio::get_associated_executor(handler),
                                 asio::execution::outstanding_work.tracked);
        asio::post(rt.blocking_pool(),
                   [&fn, &failure, home = std::move(home), handler = std::move(handler)]() mutable {
                     try {
                       fn();
                     } catch (...) {
                       failure = std::current_exception();
                     }
                     asio::post(home, std::move(handler));
                   });
      },
      asio::use_awaitable);
  if (failure) std::rethrow_exception(failure);
}

}  // namespace detail

struct shutdown_signal::rep : std::enable_shared_from_this<rep> {
  asio::signal_set signals;
  std::function<void(int)> on_signal;

  rep(asio::io_context& io, std::function<void(int)> cb)
      : signals(io, SIGINT, SIGTERM), on_signal(std::move(cb)) {}

  void arm() {
    signals.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int signo) {
      if (ec) return;  // cancelled: the shutdown_signal is gone
      LOG_INFO("received signal {}", signo);
      self->on_signal(signo);
      self->arm();
    });
  }
};

shutdown_signal::shutdown_signal(runtime& rt, std::function<void(int)> on_signal)
    : rep_(std::make_shared<rep>(rt.io(), std::move(on_signal))) {
  rep_->arm();
}

shutdown_signal::~shutdown_signal() {
  // signal_set is not thread-safe: cancel on the I/O threads' side.
  asio::post(rep_->signals.get_executor(), [r = rep_] {
    boost::system::error_code ignored;
    r->signals.cancel(ignored);
  });
}

}  // namespace garage::http
