// The only file of the node that includes Beast (besides asio_impl.cc, which
// compiles it). Beast parses request headers and chunked bodies; everything on
// the hot path of a large transfer goes straight between the socket and the
// handler's buffers: a Content-Length body is read into the span the handler
// passes to read_body, and write_body hands the handler's bytes to the socket
// (the response header rides along with the first piece).
#include "api/common/server.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <charconv>
#include <limits>
#include <mutex>
#include <unordered_set>

#include "api/common/metrics.h"
#include "util/clock.h"
#include "util/log.h"

namespace garage::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// A request body the handler left unread is drained (to keep the connection)
// only up to this size; past it, closing is cheaper.
constexpr uint64_t drain_limit = 64 * 1024;
// How long a closing connection keeps reading (and discarding) what the client
// still sends, so that our response is not lost to a reset.
constexpr std::chrono::seconds linger_time{2};

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

bool status_has_body(unsigned status) { return status >= 200 && status != 204 && status != 304; }

// A header name or value that could split the response, or a name that is not
// a token, is dropped (with a log line): it is a handler bug, not the client's.
bool valid_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (c <= ' ' || c == ':' || c == 127) return false;
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

std::string_view to_sv(beast::string_view s) { return {s.data(), s.size()}; }

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

class connection;

struct server::impl : std::enable_shared_from_this<impl> {
  runtime& rt;
  server_options opts;
  handler h;
  std::shared_ptr<http_metrics> metrics;

  struct listener {
    asio::any_io_executor strand;
    tcp::acceptor acceptor;
  };
  std::vector<std::unique_ptr<listener>> listeners;  // set up before start()
  uint16_t first_port = 0;

  mutable std::mutex mu;
  std::unordered_set<std::shared_ptr<connection>> conns;
  bool stopping = false;
  std::function<void()> on_drained;
  std::optional<asio::steady_timer> grace_timer;

  impl(runtime& r, server_options o, handler hh, std::shared_ptr<http_metrics> m)
      : rt(r), opts(std::move(o)), h(std::move(hh)), metrics(std::move(m)) {}

  static task<void> accept_loop(std::shared_ptr<impl> self, listener* l);
  void remove(const std::shared_ptr<connection>& c);
  void stop(std::function<void()> drained, bool cut_now);
};

// One client connection and, one at a time, its requests. Everything runs on
// the connection's strand.
class connection final : public exchange {
 public:
  connection(std::shared_ptr<server::impl> srv, tcp::socket sock)
      : srv_(std::move(srv)), stream_(std::move(sock)) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_ =
          ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
      remote_ += ":" + std::to_string(ep.port());
    }
  }

  static task<void> run(std::shared_ptr<connection> self);
  // The connection's strand.
  asio::any_io_executor executor() { return stream_.get_executor(); }
  // On the strand: no new request; an idle connection closes now.
  void on_stop() {
    stopping_ = true;
    if (idle_) stream_.close();
  }
  // On the strand: the grace period is over.
  void cut() {
    stopping_ = true;
    broken_ = true;
    stream_.close();
  }

  const request_head& head() const override { return head_; }
  const std::string& remote_addr() const override { return remote_; }
  task<result<size_t>> read_body(std::span<char> out) override;
  task<result<void>> respond(response_head head, std::string body) override;
  task<result<void>> begin_response(response_head head, uint64_t content_length) override;
  task<result<void>> write_body(std::string_view data) override;
  task<result<void>> end_response() override;
  bool responded() const override { return out_ != out_state::none; }

 private:
  enum class body_mode { none, length, chunked };
  enum class out_state { none, streaming, done };

  task<void> serve();
  // Reads one request header; false when the connection should end.
  task<bool> read_request();
  void begin_request();
  // Called after the handler; false when the connection should end.
  task<bool> finish_request();
  std::string build_header(const response_head& head, std::optional<uint64_t> content_length);
  task<result<void>> write(std::span<const asio::const_buffer> bufs);
  task<void> send_error_and_close(unsigned status);
  task<void> close(bool linger);
  void record();

  std::shared_ptr<server::impl> srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  std::string remote_;
  bool idle_ = false;
  bool stopping_ = false;
  bool broken_ = false;  // the connection cannot carry another request

  // The request in progress.
  request_head head_;
  std::chrono::steady_clock::time_point started_;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_request_ = false;
  body_mode mode_ = body_mode::none;
  uint64_t body_left_ = 0;  // length mode
  bool body_done_ = true;
  bool continue_pending_ = false;
  uint64_t body_in_ = 0;

  // Its response.
  out_state out_ = out_state::none;
  unsigned status_ = 0;
  bool closing_ = false;  // the response said Connection: close
  std::string out_header_;
  bool header_sent_ = false;
  bool discard_ = false;  // HEAD or a status without body: write_body drops
  uint64_t out_left_ = 0;
  uint64_t body_out_ = 0;
};

// ---- connection: the request loop -----------------------------------------

task<void> connection::run(std::shared_ptr<connection> self) {
  struct on_exit {
    std::shared_ptr<connection> c;
    ~on_exit() {
      if (c->srv_->metrics) c->srv_->metrics->connection_closed(c->srv_->opts.name);
      c->srv_->remove(c);
    }
  } guard{self};
  if (self->srv_->metrics) self->srv_->metrics->connection_opened(self->srv_->opts.name);
  try {
    co_await self->serve();
  } catch (const std::exception& e) {
    LOG_ERROR("{} api: connection from {}: {}", self->srv_->opts.name, self->remote_, e.what());
  }
}

task<void> connection::serve() {
  for (;;) {
    if (!co_await read_request()) co_return;
    begin_request();
    try {
      co_await srv_->h(*this);
    } catch (const std::exception& e) {
      LOG_ERROR("{} api: handler failed on {} {}: {}", srv_->opts.name, head_.method, head_.target,
                e.what());
    }
    if (!co_await finish_request()) co_return;
  }
}

task<bool> connection::read_request() {
  if (stopping_) {
    co_await close(false);
    co_return false;
  }
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(srv_->opts.max_header_bytes, std::numeric_limits<uint32_t>::max())));
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  error_code ec;
  idle_ = true;
  stream_.expires_after(srv_->opts.idle_timeout);
  co_await bhttp::async_read_header(stream_, buf_, *parser_,
                                    asio::redirect_error(asio::use_awaitable, ec));
  idle_ = false;
  if (!ec) co_return true;
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    co_await send_error_and_close(431);
  } else if (is_http_parse_error(ec) && ec != bhttp::error::end_of_stream &&
             ec != bhttp::error::partial_message) {
    LOG_DEBUG("{} api: bad request from {}: {}", srv_->opts.name, remote_, ec.message());
    co_await send_error_and_close(400);
  } else {
    co_await close(false);  // closed by the client, timed out or stopped
  }
  co_return false;
}

void connection::begin_request() {
  const auto& msg = parser_->get();
  head_ = request_head{};
  head_.method.assign(to_sv(msg.method_string()));
  head_.target.assign(to_sv(msg.target()));
  for (const auto& f : msg)
    head_.headers.add(std::string(to_sv(f.name_string())), std::string(to_sv(f.value())));
  if (auto cl = parser_->content_length()) head_.content_length = *cl;
  head_.chunked = parser_->chunked();

  started_ = std::chrono::steady_clock::now();
  endpoint_ = "unknown";
  keep_alive_ = msg.keep_alive();
  http10_ = msg.version() == 10;
  head_request_ = head_.method == "HEAD";
  if (head_.chunked) {
    mode_ = body_mode::chunked;
    body_done_ = parser_->is_done();
  } else if (head_.content_length && *head_.content_length > 0) {
    mode_ = body_mode::length;
    body_left_ = *head_.content_length;
    body_done_ = false;
  } else {
    mode_ = body_mode::none;
    body_left_ = 0;
    body_done_ = true;
  }
  auto expect = head_.headers.get("expect");
  // Sent even for an empty body: botocore waits for the 100 before its empty
  // PUT and otherwise misreads the next response on the connection.
  continue_pending_ = !http10_ && expect && iequals(*expect, "100-continue");
  body_in_ = 0;

  out_ = out_state::none;
  status_ = 0;
  closing_ = false;
  out_header_.clear();
  header_sent_ = false;
  discard_ = false;
  out_left_ = 0;
  body_out_ = 0;
}

task<bool> connection::finish_request() {
  if (out_ == out_state::none && !broken_) {
    LOG_ERROR("{} api: handler did not respond to {} {}", srv_->opts.name, head_.method,
              head_.target);
    response_head h;
    h.status = 500;
    (void)co_await respond(std::move(h), {});
  } else if (out_ == out_state::streaming) {
    if (!broken_ && (discard_ || out_left_ == 0)) {
      (void)co_await end_response();
    } else {
      LOG_WARN("{} api: response to {} {} cut short", srv_->opts.name, head_.method, head_.target);
      broken_ = true;
    }
  }
  if (out_ == out_state::none) status_ = 500;  // not even that could be sent
  record();
  if (broken_) {
    co_await close(false);
    co_return false;
  }
  if (closing_) {
    co_await close(!body_done_);
    co_return false;
  }
  if (!body_done_) {
    // Only a small length-delimited body gets here (see build_header).
    std::string scratch(static_cast<size_t>(std::min(body_left_, drain_limit)), '\0');
    while (!body_done_) {
      auto r = co_await read_body(std::span<char>(scratch.data(), scratch.size()));
      if (!r) {
        co_await close(false);
        co_return false;
      }
    }
  }
  co_return true;
}

void connection::record() {
  if (!srv_->metrics) return;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  srv_->metrics->record(srv_->opts.name, endpoint_, status_, secs, body_in_, body_out_);
}

task<void> connection::send_error_and_close(unsigned status) {
  // The request was not understood: no handler, no keep-alive.
  head_ = request_head{};
  started_ = std::chrono::steady_clock::now();
  endpoint_ = "invalid";
  keep_alive_ = false;
  http10_ = false;
  head_request_ = false;
  mode_ = body_mode::none;
  body_done_ = true;
  continue_pending_ = false;
  body_in_ = body_out_ = 0;
  out_ = out_state::none;
  response_head h;
  h.status = status;
  (void)co_await respond(std::move(h), {});
  record();
  co_await close(!broken_);
}

task<void> connection::close(bool linger) {
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !ec && !stopping_) {
    // Read and drop what the client is still sending until it sees our
    // response and closes, or linger_time passes.
    std::string scratch(64 * 1024, '\0');
    stream_.expires_after(linger_time);
    while (!ec) {
      co_await stream_.async_read_some(asio::buffer(scratch),
                                       asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  stream_.close();
}

// ---- connection: the request body -----------------------------------------

task<result<size_t>> connection::read_body(std::span<char> out) {
  if (broken_) co_return error(errc::io_error, "connection closed");
  error_code ec;
  if (continue_pending_) {
    continue_pending_ = false;
    if (out_ == out_state::none) {
      stream_.expires_after(srv_->opts.body_timeout);
      co_await asio::async_write(stream_, asio::buffer(continue_line.data(), continue_line.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        broken_ = true;
        co_return error(errc::io_error, "sending 100 Continue: " + ec.message());
      }
    }
  }
  if (body_done_ || out.empty()) co_return size_t{0};
  if (mode_ == body_mode::length) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), body_left_));
    size_t got;
    if (buf_.size() > 0) {
      // Bytes that came with the header.
      got = asio::buffer_copy(asio::buffer(out.data(), want), buf_.data());
      buf_.consume(got);
    } else {
      stream_.expires_after(srv_->opts.body_timeout);
      got = co_await stream_.async_read_some(asio::buffer(out.data(), want),
                                             asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        broken_ = true;
        if (ec == beast::error::timeout)
          co_return error(errc::timeout, "timed out reading the request body");
        co_return error(errc::io_error, "reading the request body: " + ec.message());
      }
    }
    body_left_ -= got;
    body_in_ += got;
    if (body_left_ == 0) body_done_ = true;
    co_return got;
  }
  // Chunked: Beast decodes into the handler's span.
  for (;;) {
    auto& b = parser_->get().body();
    b.data = out.data();
    b.size = out.size();
    stream_.expires_after(srv_->opts.body_timeout);
    co_await bhttp::async_read_some(stream_, buf_, *parser_,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      broken_ = true;
      if (ec == beast::error::timeout)
        co_return error(errc::timeout, "timed out reading the request body");
      co_return error(errc::io_error, "reading the request body: " + ec.message());
    }
    size_t got = out.size() - b.size;
    b.data = nullptr;
    b.size = 0;
    body_in_ += got;
    if (parser_->is_done()) body_done_ = true;
    if (got > 0 || body_done_) co_return got;
  }
}

// ---- connection: the response ---------------------------------------------

std::string connection::build_header(const response_head& head,
                                     std::optional<uint64_t> content_length) {
  // Whether this connection can carry another request once this one is done;
  // decided now because the header says so.
  bool body_keeps =
      body_done_ || (mode_ == body_mode::length && !continue_pending_ && body_left_ <= drain_limit);
  closing_ = !keep_alive_ || stopping_ || broken_ || !body_keeps;

  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(head.status);
  out += ' ';
  out += reason_phrase(head.status);
  out += "\r\n";
  bool has_server = false, has_date = false;
  for (const auto& [name, value] : head.headers.items()) {
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
        iequals(name, "connection"))
      continue;
    if (!valid_header(name, value)) {
      LOG_WARN("{} api: dropping invalid response header '{}'", srv_->opts.name, name);
      continue;
    }
    has_server = has_server || iequals(name, "server");
    has_date = has_date || iequals(name, "date");
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!has_server) out += "Server: garage\r\n";
  if (!has_date) {
    out += "Date: ";
    out += format_http_date(now_msec());
    out += "\r\n";
  }
  if (content_length) {
    out += "Content-Length: ";
    out += std::to_string(*content_length);
    out += "\r\n";
  }
  if (closing_)
    out += "Connection: close\r\n";
  else if (http10_)
    out += "Connection: keep-alive\r\n";
  out += "\r\n";
  return out;
}

task<result<void>> connection::write(std::span<const asio::const_buffer> bufs) {
  if (broken_) co_return error(errc::io_error, "connection closed");
  error_code ec;
  stream_.expires_after(srv_->opts.body_timeout);
  co_await asio::async_write(stream_, bufs, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    broken_ = true;
    if (ec == beast::error::timeout) co_return error(errc::timeout, "timed out writing response");
    co_return error(errc::io_error, "writing the response: " + ec.message());
  }
  co_return ok();
}

task<result<void>> connection::respond(response_head head, std::string body) {
  if (out_ != out_state::none) co_return error(errc::internal, "response already begun");
  out_ = out_state::done;
  status_ = head.status;
  bool with_body = status_has_body(head.status);
  if (!with_body) body.clear();
  std::string header = build_header(
      head, with_body || head.status == 304 ? std::optional<uint64_t>(body.size()) : std::nullopt);
  if (head_request_) body.clear();
  asio::const_buffer bufs[2] = {asio::buffer(header), asio::buffer(body)};
  auto r = co_await write(std::span<const asio::const_buffer>(bufs, body.empty() ? 1 : 2));
  if (r) body_out_ += body.size();
  co_return r;
}

task<result<void>> connection::begin_response(response_head head, uint64_t content_length) {
  if (out_ != out_state::none) co_return error(errc::internal, "response already begun");
  out_ = out_state::streaming;
  status_ = head.status;
  bool with_body = status_has_body(head.status);
  out_header_ =
      build_header(head, with_body || head.status == 304 ? std::optional<uint64_t>(content_length)
                                                         : std::nullopt);
  header_sent_ = false;
  discard_ = head_request_ || !with_body;
  out_left_ = discard_ ? 0 : content_length;
  co_return ok();
}

task<result<void>> connection::write_body(std::string_view data) {
  if (out_ != out_state::streaming) co_return error(errc::internal, "no streamed response begun");
  if (discard_ || data.empty()) co_return ok();
  if (data.size() > out_left_) {
    broken_ = true;
    co_return error(errc::internal, "response body longer than its Content-Length");
  }
  asio::const_buffer bufs[2] = {asio::buffer(out_header_), asio::buffer(data.data(), data.size())};
  // The header goes out with the first piece of body: one write, one packet.
  auto r = co_await write(header_sent_ ? std::span<const asio::const_buffer>(bufs + 1, 1)
                                       : std::span<const asio::const_buffer>(bufs, 2));
  if (!r) co_return r;
  header_sent_ = true;
  out_left_ -= data.size();
  body_out_ += data.size();
  co_return ok();
}

task<result<void>> connection::end_response() {
  if (out_ != out_state::streaming) co_return error(errc::internal, "no streamed response begun");
  if (!discard_ && out_left_ != 0) {
    broken_ = true;
    out_ = out_state::done;
    co_return error(errc::internal, "response body shorter than its Content-Length");
  }
  out_ = out_state::done;
  if (header_sent_) co_return ok();
  asio::const_buffer buf = asio::buffer(out_header_);
  auto r = co_await write(std::span<const asio::const_buffer>(&buf, 1));
  header_sent_ = r.has_value();
  co_return r;
}

// ---- server ---------------------------------------------------------------

task<void> server::impl::accept_loop(std::shared_ptr<impl> self, listener* l) {
  for (;;) {
    asio::any_io_executor strand = asio::make_strand(self->rt.io());
    error_code ec;
    tcp::socket sock =
        co_await l->acceptor.async_accept(strand, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) co_return;
      LOG_WARN("{} api: accept: {}", self->opts.name, ec.message());
      // Out of file descriptors, most likely: give connections time to close.
      asio::steady_timer t(l->strand, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    auto c = std::make_shared<connection>(self, std::move(sock));
    {
      std::lock_guard lk(self->mu);
      if (self->stopping) continue;  // c closes its socket as it goes
      self->conns.insert(c);
    }
    asio::co_spawn(strand, connection::run(std::move(c)), asio::detached);
  }
}

void server::impl::remove(const std::shared_ptr<connection>& c) {
  std::function<void()> done;
  {
    std::lock_guard lk(mu);
    conns.erase(c);
    if (stopping && conns.empty()) done = std::move(on_drained);
  }
  if (done) done();
}

void server::impl::stop(std::function<void()> drained, bool cut_now) {
  std::vector<std::shared_ptr<connection>> open;
  bool was_stopping;
  {
    std::lock_guard lk(mu);
    was_stopping = stopping;
    stopping = true;
    if (drained) on_drained = std::move(drained);
    open.assign(conns.begin(), conns.end());
    if (conns.empty() && on_drained) asio::post(rt.io(), std::exchange(on_drained, nullptr));
  }
  if (!was_stopping) {
    for (auto& l : listeners) {
      asio::post(l->strand, [self = shared_from_this(), l = l.get()] {
        error_code ec;
        l->acceptor.close(ec);
      });
    }
  }
  for (auto& c : open) {
    if (cut_now)
      asio::post(c->executor(), [c] { c->cut(); });
    else
      asio::post(c->executor(), [c] { c->on_stop(); });
  }
  if (!was_stopping && !cut_now && !open.empty()) {
    grace_timer.emplace(rt.io(), opts.shutdown_grace);
    grace_timer->async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec) return;
      std::vector<std::shared_ptr<connection>> left;
      {
        std::lock_guard lk(self->mu);
        left.assign(self->conns.begin(), self->conns.end());
      }
      if (!left.empty())
        LOG_WARN("{} api: cutting {} connection(s) still busy after the grace period",
                 self->opts.name, left.size());
      for (auto& c : left) asio::post(c->executor(), [c] { c->cut(); });
    });
  }
}

server::server(runtime& rt, server_options opts, handler h, std::shared_ptr<http_metrics> metrics)
    : impl_(std::make_shared<impl>(rt, std::move(opts), std::move(h), std::move(metrics))) {}

server::~server() { impl_->stop(nullptr, true); }

result<void> server::listen(std::string_view host_port) {
  const std::string& name = impl_->opts.name;
  auto bad = [&] {
    return error(errc::invalid_argument,
                 name + " api: invalid listen address '" + std::string(host_port) + "'");
  };
  std::string_view host, port_str;
  if (host_port.starts_with('[')) {
    auto close = host_port.find(']');
    if (close == std::string_view::npos || host_port.substr(close + 1, 1) != ":") return bad();
    host = host_port.substr(1, close - 1);
    port_str = host_port.substr(close + 2);
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos) return bad();
    host = host_port.substr(0, colon);
    port_str = host_port.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, perr] = std::from_chars(port_str.data(), port_str.data() + port_str.size(), port);
  if (perr != std::errc() || p != port_str.data() + port_str.size() || port > 65535 ||
      port_str.empty())
    return bad();

  error_code ec;
  tcp::endpoint ep;
  if (host.empty() || host == "*") {
    ep = tcp::endpoint(tcp::v4(), static_cast<uint16_t>(port));
  } else {
    auto addr = asio::ip::make_address(std::string(host), ec);
    if (!ec) {
      ep = tcp::endpoint(addr, static_cast<uint16_t>(port));
    } else {
      tcp::resolver resolver(impl_->rt.io());
      auto results = resolver.resolve(std::string(host), std::string(port_str), ec);
      if (ec || results.empty())
        return error(errc::invalid_argument,
                     name + " api: cannot resolve " + std::string(host_port) + ": " + ec.message());
      ep = results.begin()->endpoint();
    }
  }

  auto strand = asio::make_strand(impl_->rt.io());
  auto l = std::make_unique<impl::listener>(impl::listener{strand, tcp::acceptor(strand)});
  auto fail = [&](const char* what) {
    return error(errc::unavailable,
                 name + " api: " + what + " " + std::string(host_port) + ": " + ec.message());
  };
  if (l->acceptor.open(ep.protocol(), ec); ec) return fail("cannot open a socket for");
  if (l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec)
    return fail("cannot set options on");
  if (l->acceptor.bind(ep, ec); ec) return fail("cannot bind");
  if (l->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    return fail("cannot listen on");
  if (impl_->listeners.empty()) impl_->first_port = l->acceptor.local_endpoint(ec).port();
  LOG_INFO("{} api: listening on {}", name, std::string(host_port));
  impl_->listeners.push_back(std::move(l));
  return ok();
}

uint16_t server::port() const { return impl_->first_port; }

void server::start() {
  for (auto& l : impl_->listeners)
    asio::co_spawn(l->strand, impl::accept_loop(impl_, l.get()), asio::detached);
}

void server::stop(std::function<void()> on_drained) { impl_->stop(std::move(on_drained), false); }

size_t server::connection_count() const {
  std::lock_guard lk(impl_->mu);
  return impl_->conns.size();
}

}  // namespace garage::http
