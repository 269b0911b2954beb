#include "rpc/stream.h"

#include <algorithm>

#include "util/log.h"

namespace garage::rpc {

void stream_gauge::add(int64_t n) {
  int64_t now = buffered.fetch_add(n, std::memory_order_relaxed) + n;
  int64_t hw = high_water.load(std::memory_order_relaxed);
  while (now > hw && !high_water.compare_exchange_weak(hw, now, std::memory_order_relaxed)) {
  }
}

// ---- body_pipe ----

body_pipe::body_pipe(size_t limit, std::shared_ptr<stream_gauge> gauge)
    : limit_(std::max(limit, stream_piece)), gauge_(std::move(gauge)) {}

body_pipe::~body_pipe() {
  if (gauge_ && buffered_ > 0) gauge_->add(-static_cast<int64_t>(buffered_));
}

void body_pipe::set_deadline(clock::time_point deadline) {
  {
    std::lock_guard lk(mu_);
    deadline_ = deadline;
  }
  cv_.notify_all();
}

void body_pipe::drop_locked() {
  if (gauge_ && buffered_ > 0) gauge_->add(-static_cast<int64_t>(buffered_));
  chunks_.clear();
  buffered_ = 0;
}

result<void> body_pipe::write(std::string_view chunk) {
  while (!chunk.empty()) {
    std::string_view piece = chunk.substr(0, stream_piece);
    {
      std::unique_lock lk(mu_);
      for (;;) {
        if (failed_) return *failed_;
        if (end_) return error(errc::internal, "stream: write after the end of the body");
        if (buffered_ == 0 || buffered_ + piece.size() <= limit_) break;
        if (clock::now() >= deadline_) {
          failed_ = error(errc::timeout, "stream timed out");
          drop_locked();
          cv_.notify_all();
          return *failed_;
        }
        cv_.wait_until(lk, deadline_);
      }
      chunks_.emplace_back(piece);
      buffered_ += piece.size();
      total_in_ += piece.size();
      if (gauge_) gauge_->add(static_cast<int64_t>(piece.size()));
    }
    cv_.notify_all();
    if (on_ready) on_ready();
    chunk.remove_prefix(piece.size());
  }
  return ok();
}

bool body_pipe::push(std::string chunk, bool force) {
  {
    std::lock_guard lk(mu_);
    if (failed_ || end_) return true;  // nobody reads it any more: dropped
    if (!force && buffered_ + chunk.size() > limit_) return false;
    buffered_ += chunk.size();
    total_in_ += chunk.size();
    if (gauge_) gauge_->add(static_cast<int64_t>(chunk.size()));
    chunks_.push_back(std::move(chunk));
  }
  cv_.notify_all();
  if (on_ready) on_ready();
  return true;
}

void body_pipe::end(result<void> status) {
  {
    std::lock_guard lk(mu_);
    if (failed_ || end_) return;
    end_ = std::move(status);
  }
  cv_.notify_all();
  if (on_ready) on_ready();
}

result<std::optional<std::string>> body_pipe::read() {
  std::string out;
  {
    std::unique_lock lk(mu_);
    for (;;) {
      if (failed_) return *failed_;
      if (!chunks_.empty()) break;
      if (end_) {
        delivered_end_ = true;
        if (!*end_) return end_->error();
        return std::optional<std::string>();
      }
      if (clock::now() >= deadline_) {
        failed_ = error(errc::timeout, "stream timed out");
        drop_locked();
        cv_.notify_all();
        return *failed_;
      }
      cv_.wait_until(lk, deadline_);
    }
    out = std::move(chunks_.front());
    chunks_.pop_front();
    buffered_ -= out.size();
    if (gauge_) gauge_->add(-static_cast<int64_t>(out.size()));
  }
  cv_.notify_all();
  if (on_consumed) on_consumed(out.size());
  return std::optional<std::string>(std::move(out));
}

body_pipe::taken body_pipe::take(size_t max) {
  taken t;
  {
    std::lock_guard lk(mu_);
    if (failed_) {
      if (!delivered_end_) t.status = result<void>(*failed_);
      delivered_end_ = true;
      return t;
    }
    while (!chunks_.empty() && t.data.size() < max) {
      std::string& front = chunks_.front();
      size_t n = std::min(front.size(), max - t.data.size());
      if (n == front.size() && t.data.empty()) {
        t.data = std::move(front);
        chunks_.pop_front();
      } else {
        t.data.append(front, 0, n);
        if (n == front.size()) {
          chunks_.pop_front();
        } else {
          front.erase(0, n);
        }
      }
    }
    buffered_ -= t.data.size();
    if (gauge_) gauge_->add(-static_cast<int64_t>(t.data.size()));
    if (chunks_.empty() && end_) {
      t.status = *end_;
      delivered_end_ = true;
    }
  }
  cv_.notify_all();
  return t;
}

bool body_pipe::sendable(size_t credit) const {
  std::lock_guard lk(mu_);
  if (failed_) return !delivered_end_;
  if (!chunks_.empty()) return credit > 0;
  return end_ && !delivered_end_;
}

uint64_t body_pipe::bytes_in() const {
  std::lock_guard lk(mu_);
  return total_in_;
}

void body_pipe::fail(error e) {
  {
    std::lock_guard lk(mu_);
    if (failed_ || delivered_end_) return;
    failed_ = std::move(e);
    drop_locked();
  }
  cv_.notify_all();
}

bool body_pipe::failed() const {
  std::lock_guard lk(mu_);
  return failed_.has_value();
}

// ---- reader, upload ----

pipe_reader::~pipe_reader() {
  if (done_) return;
  p_->fail(error(errc::unavailable, "stream cancelled by its reader"));
  if (on_cancel_) on_cancel_();
}

result<std::optional<std::string>> pipe_reader::read() {
  auto r = p_->read();
  if (!r || !*r) done_ = true;
  return r;
}

void pipe_upload::response_slot::set(result<std::string> v) {
  std::function<void(result<std::string>)> w;
  {
    std::lock_guard lk(mu);
    if (r) return;
    r = std::move(v);
    w = std::move(waiter);
  }
  cv.notify_all();
  if (w) w(*r);
}

void pipe_upload::finish_async(std::function<void(result<std::string>)> done) {
  if (finished_) {
    done(error(errc::internal, "upload finished twice"));
    return;
  }
  finished_ = true;
  body_->end(ok());
  std::optional<result<std::string>> now;
  {
    std::lock_guard lk(response_->mu);
    if (response_->r) {
      now = *response_->r;
    } else {
      response_->waiter = std::move(done);
    }
  }
  if (now) done(std::move(*now));
}

pipe_upload::~pipe_upload() {
  if (finished_) return;
  body_->fail(error(errc::unavailable, "upload abandoned by the caller"));
  if (on_cancel_) on_cancel_();
}

result<void> pipe_upload::write(std::string_view chunk) {
  {
    std::lock_guard lk(response_->mu);
    if (response_->r) return error(errc::unavailable, "the call is over (answered or failed)");
  }
  return body_->write(chunk);
}

void pipe_upload::abort(error e) { body_->end(std::move(e)); }

result<std::string> pipe_upload::finish() {
  if (finished_) return error(errc::internal, "upload finished twice");
  finished_ = true;
  body_->end(ok());
  std::unique_lock lk(response_->mu);
  // The transport answers by the call's deadline; the margin guards against
  // one that forgets.
  auto limit = deadline_ == body_pipe::clock::time_point::max()
                   ? deadline_
                   : deadline_ + std::chrono::seconds(5);
  if (!response_->cv.wait_until(lk, limit, [&] { return response_->r.has_value(); })) {
    lk.unlock();
    body_->fail(error(errc::timeout, "upload timed out"));
    if (on_cancel_) on_cancel_();
    return error(errc::timeout, "upload timed out");
  }
  return *response_->r;
}

// ---- in-process serving ----

namespace {

error no_handler(const std::string& endpoint) {
  return error(errc::not_found, "no handler for rpc endpoint '" + endpoint + "'");
}

template <class F>
auto guarded(const std::string& endpoint, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    LOG_ERROR("rpc: handler of {} threw: {}", endpoint, e.what());
    return error(errc::internal, std::string("handler failed: ") + e.what());
  } catch (...) {
    LOG_ERROR("rpc: handler of {} threw", endpoint);
    return error(errc::internal, "handler threw");
  }
}

// Gathers a stream handler's body for a whole call.
class collect_writer final : public stream_writer {
 public:
  explicit collect_writer(size_t max) : max_(max) {}
  result<void> write(std::string_view chunk) override {
    if (body.size() + chunk.size() > max_) {
      return error(errc::too_large,
                   "response body over the limit of " + std::to_string(max_) + " bytes");
    }
    body.append(chunk);
    return ok();
  }
  std::string body;

 private:
  size_t max_;
};

}  // namespace

result<void> serve_stream_in_process(const any_handler& h, const std::string& endpoint,
                                     const node_id& from, std::string body, body_pipe& out) {
  result<void> r = guarded(endpoint, [&]() -> result<void> {
    if (h.stream) {
      // A writer that does not own the pipe: the caller keeps it alive.
      struct ref_writer final : stream_writer {
        body_pipe& p;
        explicit ref_writer(body_pipe& pp) : p(pp) {}
        result<void> write(std::string_view c) override { return p.write(c); }
      } w(out);
      return h.stream(from, std::move(body), w);
    }
    if (h.whole) {
      GARAGE_ASSIGN_OR_RETURN(std::string whole, h.whole(from, std::move(body)));
      return out.write(whole);
    }
    if (h.upload) {
      return error(errc::invalid_argument, "rpc endpoint '" + endpoint + "' takes a streamed body");
    }
    return no_handler(endpoint);
  });
  out.end(r);
  return r;
}

result<std::string> serve_upload_in_process(const any_handler& h, const std::string& endpoint,
                                            const node_id& from, std::string head,
                                            std::shared_ptr<body_pipe> in) {
  if (!h.upload) {
    error e = h ? error(errc::invalid_argument,
                        "rpc endpoint '" + endpoint + "' does not take a streamed body")
                : no_handler(endpoint);
    in->fail(e);
    return e;
  }
  pipe_reader reader(std::move(in));
  return guarded(endpoint,
                 [&]() -> result<std::string> { return h.upload(from, std::move(head), reader); });
}

result<std::string> serve_whole_in_process(const any_handler& h, const std::string& endpoint,
                                           const node_id& from, std::string body, size_t max_body) {
  return guarded(endpoint, [&]() -> result<std::string> {
    if (h.whole) return h.whole(from, std::move(body));
    if (h.stream) {
      collect_writer w(max_body);
      GARAGE_TRY(h.stream(from, std::move(body), w));
      return std::move(w.body);
    }
    if (h.upload) {
      return error(errc::invalid_argument, "rpc endpoint '" + endpoint + "' takes a streamed body");
    }
    return no_handler(endpoint);
  });
}

}  // namespace garage::rpc
