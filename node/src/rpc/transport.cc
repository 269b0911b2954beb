#include "rpc/transport.h"

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>

namespace garage::rpc {

result<std::string> transport::call(const node_id& to, const std::string& endpoint,
                                    std::string body, call_options opts) {
  auto p = std::make_shared<std::promise<result<std::string>>>();
  auto f = p->get_future();
  call_async(to, endpoint, std::move(body), opts,
             [p](result<std::string> r) { p->set_value(std::move(r)); });
  return f.get();
}

result<void> transport::call_stream(const node_id& to, const std::string& endpoint,
                                    std::string body, call_options opts,
                                    const std::function<result<void>(std::string_view)>& sink) {
  auto reader = open_stream(to, endpoint, std::move(body), opts);
  for (;;) {
    GARAGE_ASSIGN_OR_RETURN(std::optional<std::string> chunk, reader->read());
    if (!chunk) return ok();
    GARAGE_TRY(sink(*chunk));  // destroying the reader cancels the call
  }
}

result<std::string> transport::call_upload(
    const node_id& to, const std::string& endpoint, std::string head, call_options opts,
    const std::function<result<std::optional<std::string>>()>& source) {
  auto up = open_upload(to, endpoint, std::move(head), opts);
  for (;;) {
    auto chunk = source();
    if (!chunk) {
      up->abort(chunk.error());
      (void)up->finish();
      return std::move(chunk).error();
    }
    if (!*chunk) break;
    // A failed write means the call is over: finish() says why.
    if (!up->write(**chunk)) break;
  }
  return up->finish();
}

namespace {

struct quorum_state {
  std::mutex mu;
  std::condition_variable cv;
  size_t needed = 0;
  size_t total = 0;
  size_t failed = 0;
  std::vector<std::pair<node_id, std::string>> ok;
  std::vector<std::string> errors;

  bool reached() const { return ok.size() >= needed; }
  bool hopeless() const { return total - failed < needed; }
};

}  // namespace

result<std::vector<std::pair<node_id, std::string>>> transport::quorum_call(
    std::span<const node_id> to, const std::string& endpoint, const std::string& body,
    size_t quorum, call_options opts) {
  if (quorum > to.size()) {
    return error(errc::unavailable, "quorum of " + std::to_string(quorum) + " asked of " +
                                        std::to_string(to.size()) + " nodes");
  }
  auto st = std::make_shared<quorum_state>();
  st->needed = quorum;
  st->total = to.size();
  if (quorum == 0) return std::move(st->ok);
  for (const node_id& n : to) {
    call_async(n, endpoint, body, opts, [st, n](result<std::string> r) {
      std::lock_guard lk(st->mu);
      if (r) {
        st->ok.emplace_back(n, std::move(*r));
      } else {
        ++st->failed;
        st->errors.push_back(layout::short_id(n) + ": " + r.error().to_string());
      }
      st->cv.notify_all();
    });
  }
  std::unique_lock lk(st->mu);
  // Every call carries its own timeout, so one of the two conditions comes;
  // the extra margin only guards against a transport that forgets one.
  bool done = st->cv.wait_for(lk, opts.timeout + std::chrono::seconds(5),
                              [&] { return st->reached() || st->hopeless(); });
  if (st->reached()) {
    auto out =
        std::vector<std::pair<node_id, std::string>>(st->ok.begin(), st->ok.begin() + quorum);
    return out;
  }
  if (!done) return error(errc::timeout, endpoint + ": no quorum before the timeout");
  std::string msg = endpoint + ": quorum " + std::to_string(quorum) + " of " +
                    std::to_string(st->total) + " not reached (";
  for (size_t i = 0; i < st->errors.size(); ++i) msg += (i ? "; " : "") + st->errors[i];
  msg += ")";
  // Timeouts are reported as such: the caller may retry elsewhere.
  bool all_timeouts = !st->errors.empty();
  for (const auto& e : st->errors) all_timeouts &= e.find("timeout") != std::string::npos;
  return error(all_timeouts ? errc::timeout : errc::unavailable, std::move(msg));
}

}  // namespace garage::rpc
