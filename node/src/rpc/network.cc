// The TCP/TLS transport. Everything that touches a socket, a connection or a
// call in flight runs on the one I/O thread; the peer table (what the public
// const members read) is shared under `mu`. Handlers run on the worker pool.
//
// Asio is used header-only here (no BOOST_ASIO_SEPARATE_COMPILATION: rpc sits
// below api/common, which owns the separately compiled Asio); all of it stays
// in this file.
#include "rpc/network.h"

// clang-format off: <utility> must precede Asio's coroutine headers (Boost 1.74 misses it).
#include <utility>
// clang-format on

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "rpc/peer_list.h"
#include "rpc/stream.h"
#include "rpc/wire.h"
#include "rpc/worker_pool.h"
#include "util/log.h"

namespace garage::rpc {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::string_view ping_endpoint = "rpc/ping";
constexpr std::string_view peers_endpoint = "rpc/peers";
// A connection with more messages half-received than this is misbehaving.
constexpr size_t max_partial_messages = 4096;
// Request and response headers on top of the body.
constexpr size_t message_overhead = 1024;
constexpr auto tick_interval = std::chrono::milliseconds(250);
// A connection this old is replaced by a newer one to the same peer whatever
// the dialing side (the old one is likely stale: the peer restarted).
constexpr auto replace_after = std::chrono::seconds(10);

// A message to send: whole (`data`, cut into frames), or streamed: `data`
// is then the header frame of a request stream (empty for a response
// stream), and the chunks come from `pipe` as the peer grants credit, then
// the trailer.
struct outgoing_msg {
  uint32_t id = 0;
  wire::frame_kind kind = wire::frame_kind::request;
  priority prio = priority::normal;
  std::string data;
  size_t off = 0;
  std::shared_ptr<body_pipe> pipe;
  uint64_t credit = 0;                  // chunk bytes the peer accepts now
  uint64_t body_sent = 0;               // chunk bytes sent
  std::optional<result<void>> trailer;  // taken from the pipe, not yet sent
  bool queued = false;                  // in a queue, or being written by the write loop
  bool done = false;                    // the last frame went out (or never will)

  bool started() const { return off > 0 || body_sent > 0 || done; }
  bool sendable() const {
    if (done) return false;
    if (off < data.size()) return true;
    if (!pipe) return false;
    return trailer.has_value() || pipe->sendable(credit);
  }
};

struct pending_call {
  reply_fn done;
  std::unique_ptr<asio::steady_timer> timer;
  std::shared_ptr<outgoing_msg> msg;
  steady::time_point start;
  bool internal = false;  // pings and peer exchange: not counted in metrics
  // A streamed response goes to `response` (open_stream); a whole call
  // answered by a stream gathers it in `gathered`.
  std::shared_ptr<body_pipe> response;
  std::string gathered;
  bool oversized = false;
  uint64_t stream_received = 0;

  uint64_t sent_bytes() const { return msg ? msg->data.size() + msg->body_sent : 0; }
};

// A call this node serves whose request or response is streamed.
struct serving_call {
  std::shared_ptr<outgoing_msg> out;  // the streamed response being sent
  std::shared_ptr<body_pipe> in;      // the streamed request body being received
  bool request_done = true;           // the request's last frame arrived
};

struct partial_msg {
  std::string data;
  bool oversized = false;
};

std::string ep_string(const tcp::socket& s) {
  error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

result<std::pair<std::string, std::string>> split_host_port(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) {
    return error(errc::invalid_argument, "address '" + addr + "': expected host:port");
  }
  std::string host = addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::pair{host, addr.substr(colon + 1)};
}

// Completion-tracker for a blocking connect(): set once, by the dial or, if
// the network stops first, by the destructor.
struct dial_waiter {
  std::promise<result<void>> p;
  std::atomic<bool> set{false};
  void finish(result<void> r) {
    if (!set.exchange(true)) p.set_value(std::move(r));
  }
  ~dial_waiter() { finish(error(errc::unavailable, "the network stopped")); }
};

}  // namespace

struct connection;

// Where a call went, for a reader or upload cancelled by its owner. Written
// and read on the I/O thread only.
struct call_ref {
  std::weak_ptr<connection> conn;
  uint32_t id = 0;
};

struct peer_info {
  std::string addr;
  bool known = false;  // persisted; dialed when not connected
  std::shared_ptr<connection> conn;
  bool dialing = false;
  std::chrono::milliseconds backoff{0};
  steady::time_point next_attempt{};
  steady::time_point next_ping{};
  unsigned ping_failures = 0;
  bool ping_in_flight = false;
  std::optional<std::chrono::microseconds> rtt;
  std::optional<std::string> status;
  peer_metrics metrics;
};

struct network::impl {
  network_options opts;
  node_identity ident;
  std::string peer_list_path;

  // Guards everything below up to `io`.
  mutable std::mutex mu;
  std::map<node_id, peer_info> peers;
  std::map<std::string, any_handler> handlers;
  std::string local_status;
  std::vector<status_fn> status_fns;
  peer_metrics self_metrics;
  std::string public_addr;
  uint16_t port = 0;

  std::unique_ptr<worker_pool> pool;
  // Handlers of streamed calls hold a thread for the whole transfer: they
  // get threads of their own, so plain calls (table traffic) never queue
  // behind them.
  std::unique_ptr<worker_pool> stream_pool;
  std::weak_ptr<impl> weak_self;
  std::shared_ptr<stream_gauge> gauge = std::make_shared<stream_gauge>();

  // Guards `io` itself (posting to it from other threads vs. its destruction).
  std::mutex post_mu;
  bool started = false;
  bool stopped = false;
  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<ssl::context> tls;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> ticker;
  std::thread io_thread;
  steady::time_point next_exchange{};

  // Runs fn on the I/O thread; false if the network is stopped.
  bool post(std::function<void()> fn) {
    std::lock_guard l(post_mu);
    if (!io || stopped) return false;
    asio::post(*io, std::move(fn));
    return true;
  }

  // ---- I/O-thread only ----
  void start_accepting();
  void tick();
  void dial(const node_id& id, const std::string& addr, std::shared_ptr<dial_waiter> w);
  void register_connection(const std::shared_ptr<connection>& c, const std::string& hello_addr);
  void connection_closed(connection* c);
  // `upload`: the request is streamed, `body` is its head and the chunks
  // come from the pipe. `response`: the response is read as a stream. `ref`
  // learns the connection and id.
  void send_call(const node_id& to, std::string endpoint, std::string body, call_options opts,
                 reply_fn done, bool internal, std::shared_ptr<body_pipe> upload = nullptr,
                 std::shared_ptr<body_pipe> response = nullptr,
                 std::shared_ptr<call_ref> ref = nullptr);
  void handle_request(const std::shared_ptr<connection>& c, uint32_t id, std::string msg);
  void start_stream_response(const std::shared_ptr<connection>& c, uint32_t id, priority p,
                             const any_handler& h, std::string endpoint, std::string body);
  void start_upload(const std::shared_ptr<connection>& c, uint32_t id, wire::request_msg req,
                    std::shared_ptr<body_pipe> in);
  std::function<void(result<std::string>)> replier(const std::shared_ptr<connection>& c,
                                                   uint32_t id, priority p);
  // Hooks of the pipes, run on other threads: they post to the I/O thread.
  std::function<void()> waker(const std::shared_ptr<connection>& c,
                              const std::shared_ptr<outgoing_msg>& m);
  std::function<void(size_t)> granter(const std::shared_ptr<connection>& c, uint32_t id,
                                      wire::frame_kind kind);
  void send_ping(const node_id& peer);
  void send_peer_list(const node_id& peer);
  void merge_peers(const std::vector<wire::peer_entry>& list);
  std::vector<wire::peer_entry> advertised_peers();
  void record_status(const node_id& peer, std::string blob);
  void persist_peers_locked();
  void close_all();

  // ---- any thread ----
  any_handler handler_of(const std::string& endpoint);
  void run_handler(const node_id& from, const std::string& endpoint, std::string body,
                   std::function<void(result<std::string>)> reply);
  // `stream_received`: streamed response bytes, on top of r's body.
  void record_call(const node_id& to, steady::time_point start, const result<std::string>& r,
                   size_t sent, uint64_t stream_received = 0);
};

// One TLS connection to a peer, from the end of its handshake to its close.
struct connection : std::enable_shared_from_this<connection> {
  connection(network::impl& n, tcp::socket s, bool out)
      : net(n), stream(std::move(s), *n.tls), wake(n.io->get_executor()), outgoing(out) {
    remote = ep_string(stream.next_layer());
  }

  network::impl& net;
  ssl::stream<tcp::socket> stream;
  asio::steady_timer wake;  // the writer sleeps on it; cancel() wakes it
  bool outgoing;            // dialed by this node
  std::string remote;
  node_id peer{};
  bool established = false;
  bool closed = false;
  bool registered = false;
  steady::time_point established_at{};
  steady::time_point last_recv{};
  uint32_t next_id = 1;
  std::array<std::deque<std::shared_ptr<outgoing_msg>>, 3> queues;
  std::map<uint32_t, pending_call> pending;
  std::map<std::pair<uint8_t, uint32_t>, partial_msg> partials;
  std::map<uint32_t, serving_call> serving;  // by the caller's request id

  void enqueue(priority p, std::shared_ptr<outgoing_msg> m) {
    m->prio = p;
    m->queued = true;
    queues[static_cast<size_t>(p)].push_back(std::move(m));
    wake.cancel();
  }

  // Puts a streamed message back in its queue once it has something to send
  // (data within its credit, its trailer, or its failure).
  void wake_stream(const std::shared_ptr<outgoing_msg>& m) {
    if (closed || m->queued || !m->sendable()) return;
    enqueue(m->prio, m);
  }

  void send_control(wire::frame_kind kind, uint32_t id, wire::control_msg cm) {
    auto m = std::make_shared<outgoing_msg>();
    m->id = id;
    m->kind = kind;
    m->data = wire::encode_control(cm);
    enqueue(priority::high, std::move(m));
  }

  void finish_call(uint32_t id, result<std::string> r) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    pending_call pc = std::move(it->second);
    pending.erase(it);
    if (pc.timer) pc.timer->cancel();
    if (!pc.internal) net.record_call(peer, pc.start, r, pc.sent_bytes(), pc.stream_received);
    // An upload answered (or failed) before its body ended stops sending:
    // its trailer then tells the peer.
    if (pc.msg && pc.msg->pipe && !pc.msg->done) {
      pc.msg->pipe->fail(error(errc::unavailable, "the call is over"));
      if (!pc.msg->started()) {
        unqueue(pc.msg);
        pc.msg->done = true;
      } else {
        wake_stream(pc.msg);
      }
    }
    pc.done(std::move(r));
  }

  // Ends a call of ours before its answer (timeout, its reader or upload
  // dropped): the peer is told if it may have started serving it.
  void cancel_call(uint32_t id, error e) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    auto m = it->second.msg;
    bool started = m && m->started();
    unqueue(m);
    finish_call(id, std::move(e));
    if (started) send_control(wire::frame_kind::caller_control, id, {wire::control_op::cancel, 0});
  }

  // Takes a queued request that has not started out of its queue (timeouts).
  void unqueue(const std::shared_ptr<outgoing_msg>& m) {
    if (!m || m->started()) return;
    for (auto& q : queues) {
      for (auto it = q.begin(); it != q.end(); ++it) {
        if (*it == m) {
          q.erase(it);
          m->queued = false;
          return;
        }
      }
    }
  }

  // The last frame of a streamed response of ours went out.
  void stream_out_done(const std::shared_ptr<outgoing_msg>& m) {
    auto it = serving.find(m->id);
    if (it != serving.end() && it->second.out == m && it->second.request_done) serving.erase(it);
  }

  void close(const std::string& why) {
    if (closed) return;
    closed = true;
    if (established) {
      LOG_INFO("rpc: connection with {} ({}) closed: {}", layout::short_id(peer), remote, why);
    }
    error_code ec;
    stream.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream.next_layer().close(ec);
    wake.cancel();
    auto calls = std::move(pending);
    pending.clear();
    error lost(errc::unavailable, "connection to " + layout::short_id(peer) + " lost: " + why);
    for (auto& [id, pc] : calls) {
      if (pc.timer) pc.timer->cancel();
      result<std::string> r = lost;
      if (!pc.internal) net.record_call(peer, pc.start, r, pc.sent_bytes(), pc.stream_received);
      if (pc.msg && pc.msg->pipe) pc.msg->pipe->fail(lost);
      pc.done(std::move(r));
    }
    // Handlers writing or reading a stream of this connection fail now.
    for (auto& [id, sc] : serving) {
      if (sc.out) sc.out->pipe->fail(lost);
      if (sc.in) sc.in->fail(lost);
    }
    serving.clear();
    for (auto& q : queues) q.clear();
    partials.clear();
    if (registered) net.connection_closed(this);
  }

  // A whole frame was read. False: protocol error, the connection is closed.
  bool on_frame(const wire::frame_header& h, std::string& payload) {
    switch (h.kind) {
      case wire::frame_kind::request_stream:
        return on_request_stream(h, payload);
      case wire::frame_kind::response_stream:
        return on_response_stream(h, payload);
      case wire::frame_kind::caller_control:
      case wire::frame_kind::server_control:
        return on_control(h, payload);
      default:
        break;
    }
    auto key = std::pair{static_cast<uint8_t>(h.kind), h.msg_id};
    auto it = partials.find(key);
    if (it == partials.end()) {
      if (partials.size() >= max_partial_messages) {
        close("too many messages in flight");
        return false;
      }
      it = partials.emplace(key, partial_msg{}).first;
    }
    auto& pm = it->second;
    if (!pm.oversized) {
      if (pm.data.size() + payload.size() > net.opts.max_body_size + message_overhead) {
        pm.oversized = true;
        pm.data = std::string();
      } else {
        pm.data.append(payload);
      }
    }
    if (!(h.flags & wire::flag_last)) return true;
    partial_msg done = std::move(pm);
    partials.erase(it);
    auto self = shared_from_this();
    if (h.kind == wire::frame_kind::request) {
      if (done.oversized) {
        auto m = std::make_shared<outgoing_msg>();
        m->id = h.msg_id;
        m->kind = wire::frame_kind::response;
        m->data = wire::encode_response(
            error(errc::too_large,
                  "request body over " + std::to_string(net.opts.max_body_size) + " bytes"));
        enqueue(priority::normal, std::move(m));
        return true;
      }
      net.handle_request(self, h.msg_id, std::move(done.data));
      return !closed;
    }
    if (done.oversized) {
      finish_call(h.msg_id,
                  error(errc::too_large,
                        "response body over " + std::to_string(net.opts.max_body_size) + " bytes"));
      return true;
    }
    auto r = wire::decode_response(std::move(done.data));
    if (!r) {
      finish_call(h.msg_id, r.error());
      close("malformed response");
      return false;
    }
    finish_call(h.msg_id, std::move(*r));
    return true;
  }

  // A frame of a request stream: its header (the first), a chunk, or its
  // trailer (last).
  bool on_request_stream(const wire::frame_header& h, std::string& payload) {
    auto it = serving.find(h.msg_id);
    if (it == serving.end()) {
      if (h.flags & wire::flag_last) {
        close("protocol error (a stream request without a body)");
        return false;
      }
      if (partials.size() + serving.size() >= max_partial_messages) {
        close("too many messages in flight");
        return false;
      }
      auto req = wire::decode_request(std::move(payload));
      payload = std::string();
      if (!req) {
        close("protocol error (malformed stream request)");
        return false;
      }
      auto in = std::make_shared<body_pipe>(wire::initial_stream_credit, net.gauge);
      in->on_consumed = net.granter(shared_from_this(), h.msg_id, wire::frame_kind::server_control);
      serving[h.msg_id] = serving_call{nullptr, in, false};
      net.start_upload(shared_from_this(), h.msg_id, std::move(*req), std::move(in));
      return !closed;
    }
    auto& sc = it->second;
    if (sc.request_done || !sc.in) {
      close("protocol error (a stream request frame after its end)");
      return false;
    }
    if (!(h.flags & wire::flag_last)) {
      if (!sc.in->push(payload)) {
        close("protocol error (a stream sent beyond its credit)");
        return false;
      }
      return true;
    }
    auto st = wire::decode_trailer(payload);
    if (!st) {
      close("protocol error (malformed stream trailer)");
      return false;
    }
    sc.in->end(std::move(*st));
    sc.request_done = true;
    if (!sc.out || sc.out->done) serving.erase(it);
    return true;
  }

  // A frame of the streamed response to one of our calls: a chunk, or the
  // trailer (last).
  bool on_response_stream(const wire::frame_header& h, std::string& payload) {
    auto it = pending.find(h.msg_id);
    if (it == pending.end()) {
      // A call we gave up: make sure its server stops.
      if (!(h.flags & wire::flag_last)) {
        send_control(wire::frame_kind::caller_control, h.msg_id, {wire::control_op::cancel, 0});
      }
      return true;
    }
    auto& pc = it->second;
    if (!(h.flags & wire::flag_last)) {
      pc.stream_received += payload.size();
      if (pc.response) {
        if (!pc.response->push(payload)) {
          close("protocol error (a stream sent beyond its credit)");
          return false;
        }
        return true;
      }
      if (!pc.oversized && pc.gathered.size() + payload.size() > net.opts.max_body_size) {
        pc.oversized = true;
        pc.gathered = std::string();
      }
      if (!pc.oversized) pc.gathered.append(payload);
      send_control(wire::frame_kind::caller_control, h.msg_id,
                   {wire::control_op::credit, static_cast<uint32_t>(payload.size())});
      return true;
    }
    auto st = wire::decode_trailer(payload);
    if (!st) {
      finish_call(h.msg_id, st.error());
      close("protocol error (malformed stream trailer)");
      return false;
    }
    if (!*st) {
      finish_call(h.msg_id, st->error());
    } else if (pc.response) {
      finish_call(h.msg_id, std::string());
    } else if (pc.oversized) {
      finish_call(h.msg_id,
                  error(errc::too_large,
                        "response body over " + std::to_string(net.opts.max_body_size) + " bytes"));
    } else {
      std::string body = std::move(pc.gathered);
      finish_call(h.msg_id, std::move(body));
    }
    return true;
  }

  bool on_control(const wire::frame_header& h, std::string& payload) {
    auto cm = wire::decode_control(payload);
    if (!(h.flags & wire::flag_last) || !cm) {
      close("protocol error (malformed control frame)");
      return false;
    }
    if (h.kind == wire::frame_kind::caller_control) {
      auto it = serving.find(h.msg_id);
      if (it == serving.end()) return true;  // already served
      auto& sc = it->second;
      if (cm->op == wire::control_op::cancel) {
        error e(errc::unavailable, "cancelled by the caller");
        if (sc.in) sc.in->fail(e);
        if (sc.out) {
          sc.out->pipe->fail(e);
          wake_stream(sc.out);
        }
        return true;
      }
      if (sc.out) {
        sc.out->credit += cm->credit;
        wake_stream(sc.out);
      }
      return true;
    }
    if (cm->op != wire::control_op::credit) {
      close("protocol error (a server cannot cancel)");
      return false;
    }
    auto it = pending.find(h.msg_id);
    if (it == pending.end() || !it->second.msg || !it->second.msg->pipe) return true;
    it->second.msg->credit += cm->credit;
    wake_stream(it->second.msg);
    return true;
  }
};

namespace {

asio::awaitable<void> write_loop(std::shared_ptr<connection> c) {
  for (;;) {
    if (c->closed) co_return;
    std::shared_ptr<outgoing_msg> m;
    size_t prio = 0;
    for (; prio < c->queues.size(); prio++) {
      if (!c->queues[prio].empty()) {
        m = std::move(c->queues[prio].front());
        c->queues[prio].pop_front();
        break;
      }
    }
    if (!m) {
      error_code ec;
      c->wake.expires_at(steady::time_point::max());
      co_await c->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // m->queued stays set while the frame is written: a wake-up meanwhile
    // must not queue it twice. The message's state moves before the write,
    // so a cancellation meanwhile sees the frame as sent.
    wire::frame_header h;
    h.msg_id = m->id;
    h.kind = m->kind;
    std::string chunk;  // a stream frame's payload
    const char* data = nullptr;
    size_t n = 0;
    if (m->off < m->data.size()) {
      // A whole message's next frame, or a request stream's header frame.
      n = std::min(wire::max_frame_payload, m->data.size() - m->off);
      data = m->data.data() + m->off;
      m->off += n;
      if (!m->pipe && m->off == m->data.size()) {
        h.flags = wire::flag_last;
        m->done = true;
      }
    } else if (m->pipe) {
      std::optional<result<void>> trailer = std::move(m->trailer);
      m->trailer.reset();
      if (!trailer) {
        auto t = m->pipe->take(std::min<uint64_t>(wire::max_frame_payload, m->credit));
        if (t.data.empty() && !t.status) {
          m->queued = false;  // nothing to send until data or credit comes
          continue;
        }
        if (t.data.empty()) {
          trailer = std::move(t.status);
        } else {
          m->credit -= t.data.size();
          m->body_sent += t.data.size();
          m->trailer = std::move(t.status);
          chunk = std::move(t.data);
        }
      }
      if (trailer) {
        chunk = wire::encode_trailer(*trailer);
        h.flags = wire::flag_last;
        m->done = true;
      }
      data = chunk.data();
      n = chunk.size();
    } else {
      m->queued = false;
      m->done = true;
      continue;
    }
    h.length = static_cast<uint32_t>(n);
    std::string head = wire::encode_frame_header(h);
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(data, n)};
    error_code ec;
    co_await asio::async_write(c->stream, bufs, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      c->close("write failed: " + ec.message());
      co_return;
    }
    m->queued = false;
    if (m->done && m->kind == wire::frame_kind::response_stream) c->stream_out_done(m);
    // Round robin within a priority: the rest of this message goes behind
    // the others of its priority.
    if (!c->closed && m->sendable()) {
      m->queued = true;
      c->queues[prio].push_back(std::move(m));
    }
  }
}

asio::awaitable<void> read_loop(std::shared_ptr<connection> c) {
  std::array<char, wire::frame_header_size> head{};
  std::string payload;
  for (;;) {
    error_code ec;
    co_await asio::async_read(c->stream, asio::buffer(head),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      c->close(ec == asio::error::eof || ec == ssl::error::stream_truncated
                   ? std::string("closed by peer")
                   : "read failed: " + ec.message());
      co_return;
    }
    auto h = wire::decode_frame_header(std::string_view(head.data(), head.size()));
    if (!h) {
      LOG_WARN("rpc: {} from {}: {}", layout::short_id(c->peer), c->remote, h.error().message);
      c->close("protocol error");
      co_return;
    }
    payload.resize(h->length);
    if (h->length > 0) {
      co_await asio::async_read(c->stream, asio::buffer(payload),
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        c->close("read failed: " + ec.message());
        co_return;
      }
    }
    c->last_recv = steady::now();
    if (c->closed || !c->on_frame(*h, payload)) co_return;
  }
}

// Sends our hello and checks the peer's. On success fills c->peer and the
// peer's announced address.
asio::awaitable<result<std::string>> exchange_hellos(std::shared_ptr<connection> c,
                                                     std::optional<node_id> expected) {
  network::impl& net = c->net;
  SSL* ssl = c->stream.native_handle();
  unsigned char exporter[32];
  if (SSL_export_keying_material(ssl, exporter, sizeof exporter, wire::exporter_label.data(),
                                 wire::exporter_label.size(), nullptr, 0, 0) != 1) {
    co_return error(errc::unavailable, "TLS exporter unavailable");
  }
  std::string_view exp(reinterpret_cast<const char*>(exporter), sizeof exporter);
  wire::hello mine;
  mine.id = net.ident.id();
  {
    std::lock_guard l(net.mu);
    mine.public_addr = net.public_addr;
  }
  mine.mac = wire::hello_mac(net.opts.secret, exp, mine.id);
  std::string out = wire::encode_hello(mine);
  error_code ec;
  co_await asio::async_write(c->stream, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return error(errc::unavailable, "sending hello: " + ec.message());
  std::array<char, 4> lenbuf{};
  co_await asio::async_read(c->stream, asio::buffer(lenbuf),
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return error(errc::unauthenticated,
                    "the peer closed the connection during the hello (" + ec.message() +
                        "): it probably does not know this cluster's rpc_secret");
  }
  uint32_t len = (uint32_t(uint8_t(lenbuf[0])) << 24) | (uint32_t(uint8_t(lenbuf[1])) << 16) |
                 (uint32_t(uint8_t(lenbuf[2])) << 8) | uint32_t(uint8_t(lenbuf[3]));
  if (len > wire::max_hello_size) co_return error(errc::unauthenticated, "hello too long");
  std::string body(len, '\0');
  co_await asio::async_read(c->stream, asio::buffer(body),
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return error(errc::unavailable, "reading hello: " + ec.message());
  auto h = wire::decode_hello(body);
  if (!h) co_return error(errc::unauthenticated, h.error().message);
  if (h->version != wire::protocol_version) {
    co_return error(errc::unauthenticated,
                    "protocol version " + std::to_string(h->version) + " not supported");
  }
  std::string want = wire::hello_mac(net.opts.secret, exp, h->id);
  if (h->mac.size() != want.size() || CRYPTO_memcmp(h->mac.data(), want.data(), want.size()) != 0) {
    co_return error(errc::unauthenticated, "the peer does not know this cluster's rpc_secret");
  }
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) co_return error(errc::unauthenticated, "the peer sent no certificate");
  unsigned char* der = nullptr;
  int dlen = i2d_X509(cert, &der);
  if (dlen <= 0) co_return error(errc::unauthenticated, "unreadable peer certificate");
  std::string ders(reinterpret_cast<char*>(der), static_cast<size_t>(dlen));
  OPENSSL_free(der);
  auto key = ed25519_key_of_certificate_der(ders);
  if (!key) co_return error(errc::unauthenticated, "peer certificate: " + key.error().message);
  if (*key != h->id) {
    co_return error(errc::unauthenticated, "the hello's node id is not the certificate's key");
  }
  if (h->id == net.ident.id()) co_return error(errc::unauthenticated, "connected to myself");
  if (expected && *expected != h->id) {
    co_return error(errc::unauthenticated, "expected node " + layout::short_id(*expected) +
                                               ", the peer is " + layout::short_id(h->id));
  }
  c->peer = h->id;
  co_return h->public_addr;
}

// TLS handshake and hellos, under the handshake timeout; then the connection
// is registered and its loops start.
asio::awaitable<void> run_connection(std::shared_ptr<connection> c, std::optional<node_id> expected,
                                     std::string dialed_addr, std::shared_ptr<dial_waiter> w) {
  network::impl& net = c->net;
  // The timer's handler may already be queued when the handshake ends: it
  // shares its state through a shared_ptr, never the coroutine frame.
  asio::steady_timer deadline(net.io->get_executor());
  deadline.expires_after(net.opts.handshake_timeout);
  auto timer_state = std::make_shared<std::pair<bool, bool>>(true, false);  // armed, fired
  deadline.async_wait([c, timer_state](error_code ec) {
    if (ec || !timer_state->first) return;
    timer_state->second = true;
    error_code ignored;
    c->stream.next_layer().close(ignored);
  });
  error_code ec;
  co_await c->stream.async_handshake(
      c->outgoing ? ssl::stream_base::client : ssl::stream_base::server,
      asio::redirect_error(asio::use_awaitable, ec));
  result<std::string> hello_addr = std::string();
  if (ec) {
    hello_addr =
        error(errc::unavailable, "TLS handshake with " + c->remote + " failed: " + ec.message());
  } else {
    hello_addr = co_await exchange_hellos(c, expected);
  }
  deadline.cancel();
  timer_state->first = false;
  bool timed_out = timer_state->second;
  if (timed_out && hello_addr) hello_addr = error(errc::timeout, "handshake timed out");
  if (timed_out && !hello_addr) {
    hello_addr = error(errc::timeout, "handshake with " + c->remote + " timed out (" +
                                          hello_addr.error().message + ")");
  }
  if (!hello_addr || net.stopped) {
    result<void> r = hello_addr ? error(errc::unavailable, "the network stopped")
                                : std::move(hello_addr).error();
    LOG_WARN("rpc: {} connection {} refused: {}", c->outgoing ? "outgoing" : "incoming", c->remote,
             r.error().message);
    c->close("handshake failed");
    if (w) w->finish(std::move(r));
    co_return;
  }
  c->established = true;
  c->established_at = steady::now();
  c->last_recv = c->established_at;
  std::string addr = c->outgoing ? dialed_addr : *hello_addr;
  net.register_connection(c, addr);
  if (c->closed) {
    // Lost to a concurrent connection with the same peer: the peer is
    // connected all the same.
    if (w) w->finish(ok());
    co_return;
  }
  asio::co_spawn(net.io->get_executor(), write_loop(c), asio::detached);
  asio::co_spawn(net.io->get_executor(), read_loop(c), asio::detached);
  if (w) w->finish(ok());
}

asio::awaitable<void> accept_loop(network::impl* net) {
  for (;;) {
    error_code ec;
    tcp::socket s =
        co_await net->acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !net->acceptor->is_open()) co_return;
      LOG_WARN("rpc: accept failed: {}", ec.message());
      continue;
    }
    s.set_option(tcp::no_delay(true), ec);
    auto c = std::make_shared<connection>(*net, std::move(s), false);
    asio::co_spawn(net->io->get_executor(), run_connection(c, std::nullopt, "", nullptr),
                   asio::detached);
  }
}

asio::awaitable<void> dial_one(network::impl* net, node_id id, std::string addr,
                               std::shared_ptr<dial_waiter> w) {
  auto finish = [&](result<void> r) {
    bool ok_ = r.has_value();
    {
      std::lock_guard l(net->mu);
      auto it = net->peers.find(id);
      if (it != net->peers.end()) {
        it->second.dialing = false;
        if (!ok_) {
          auto& p = it->second;
          p.backoff = p.backoff.count() == 0 ? net->opts.reconnect_min
                                             : std::min(p.backoff * 2, net->opts.reconnect_max);
          p.next_attempt = steady::now() + p.backoff;
        }
      }
    }
    if (w) w->finish(std::move(r));
  };
  auto hp = split_host_port(addr);
  if (!hp) {
    finish(hp.error());
    co_return;
  }
  tcp::resolver resolver(net->io->get_executor());
  error_code ec;
  auto eps = co_await resolver.async_resolve(hp->first, hp->second,
                                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    finish(error(errc::unavailable, "cannot resolve " + addr + ": " + ec.message()));
    co_return;
  }
  auto s = std::make_shared<tcp::socket>(net->io->get_executor());
  asio::steady_timer deadline(net->io->get_executor());
  deadline.expires_after(net->opts.handshake_timeout);
  auto timer_state = std::make_shared<std::pair<bool, bool>>(true, false);  // armed, fired
  deadline.async_wait([s, timer_state](error_code e) {
    if (e || !timer_state->first) return;
    timer_state->second = true;
    error_code ignored;
    s->close(ignored);
  });
  // Dial from the bind address when it names one (not a wildcard): a node's
  // peers then see one source address per node (firewalls; the test
  // harness's WAN proxy tells zones apart by it).
  std::optional<asio::ip::address> source;
  if (auto bh = split_host_port(net->opts.bind_addr); bh) {
    error_code aec;
    auto a = asio::ip::make_address(bh->first, aec);
    if (!aec && !a.is_unspecified()) source = a;
  }
  ec = asio::error::host_not_found;
  for (const auto& entry : eps) {
    const tcp::endpoint ep = entry.endpoint();
    error_code oec;
    s->close(oec);
    s->open(ep.protocol(), oec);
    if (oec) {
      ec = oec;
      continue;
    }
    if (source && source->is_v4() == ep.address().is_v4()) {
      s->bind(tcp::endpoint(*source, 0), oec);
      if (oec) LOG_DEBUG("rpc: cannot dial from {}: {}", source->to_string(), oec.message());
    }
    co_await s->async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec || timer_state->second) break;
  }
  deadline.cancel();
  timer_state->first = false;
  bool timed_out = timer_state->second;
  if (ec || timed_out) {
    std::string what = timed_out ? std::string("timed out") : ec.message();
    LOG_DEBUG("rpc: cannot connect to {} at {}: {}", layout::short_id(id), addr, what);
    finish(error(timed_out ? errc::timeout : errc::unavailable,
                 "cannot connect to " + addr + ": " + what));
    co_return;
  }
  s->set_option(tcp::no_delay(true), ec);
  auto c = std::make_shared<connection>(*net, std::move(*s), true);
  auto inner = std::make_shared<dial_waiter>();
  auto fut = inner->p.get_future();
  co_await run_connection(c, id, addr, inner);
  finish(fut.get());
}

}  // namespace

// ---- network::impl ----

void network::impl::start_accepting() {
  asio::co_spawn(io->get_executor(), accept_loop(this), asio::detached);
}

void network::impl::dial(const node_id& id, const std::string& addr,
                         std::shared_ptr<dial_waiter> w) {
  asio::co_spawn(io->get_executor(), dial_one(this, id, addr, std::move(w)), asio::detached);
}

void network::impl::register_connection(const std::shared_ptr<connection>& c,
                                        const std::string& addr) {
  std::shared_ptr<connection> loser;
  bool is_new_peer = false;
  {
    std::lock_guard l(mu);
    auto [it, inserted] = peers.try_emplace(c->peer);
    auto& p = it->second;
    is_new_peer = inserted || !p.known;
    if (p.conn && !p.conn->closed) {
      const node_id& lower = std::min(ident.id(), c->peer);
      bool new_dialer_is_lower = (c->outgoing ? ident.id() : c->peer) == lower;
      bool same_dialer = c->outgoing == p.conn->outgoing;
      bool keep_new = same_dialer || new_dialer_is_lower ||
                      steady::now() - p.conn->established_at > replace_after;
      if (keep_new) {
        loser = std::move(p.conn);
      } else {
        loser = c;
      }
    }
    if (loser != c) {
      c->registered = true;
      p.conn = c;
      p.ping_failures = 0;
      p.backoff = std::chrono::milliseconds(0);
      p.next_ping = steady::now();
      p.ping_in_flight = false;
      if (!addr.empty() && (p.addr != addr || !p.known)) {
        p.addr = addr;
        p.known = true;
        persist_peers_locked();
      } else if (!p.known && !p.addr.empty()) {
        p.known = true;
        persist_peers_locked();
      }
    }
  }
  if (loser) {
    if (loser == c) {
      LOG_DEBUG("rpc: duplicate connection with {} dropped", layout::short_id(c->peer));
      c->close("duplicate connection");
      return;
    }
    loser->registered = false;
    loser->close("replaced by a newer connection");
  }
  LOG_INFO("rpc: connected to {} ({}, {}){}", layout::short_id(c->peer), c->remote,
           c->outgoing ? "outgoing" : "incoming", is_new_peer ? ", a new peer" : "");
  // Learn the peer's status and RTT, and tell it whom we know, right away.
  send_ping(c->peer);
  send_peer_list(c->peer);
}

void network::impl::connection_closed(connection* c) {
  std::lock_guard l(mu);
  auto it = peers.find(c->peer);
  if (it == peers.end() || it->second.conn.get() != c) return;
  auto& p = it->second;
  p.conn.reset();
  p.rtt.reset();
  p.ping_in_flight = false;
  p.backoff = opts.reconnect_min;
  p.next_attempt = steady::now() + opts.reconnect_min;
}

void network::impl::close_all() {
  error_code ec;
  if (acceptor) acceptor->close(ec);
  if (ticker) ticker->cancel();
  std::vector<std::shared_ptr<connection>> conns;
  {
    std::lock_guard l(mu);
    for (auto& [id, p] : peers) {
      if (p.conn) conns.push_back(p.conn);
    }
  }
  for (auto& c : conns) c->close("node stopping");
}

void network::impl::tick() {
  if (stopped) return;
  auto now = steady::now();
  std::vector<std::pair<node_id, std::string>> to_dial;
  std::vector<node_id> to_ping;
  std::vector<std::shared_ptr<connection>> idle;
  bool exchange = now >= next_exchange;
  std::vector<node_id> connected;
  {
    std::lock_guard l(mu);
    for (auto& [id, p] : peers) {
      if (p.conn) {
        connected.push_back(id);
        if (now - p.conn->last_recv > opts.idle_timeout) idle.push_back(p.conn);
        if (!p.ping_in_flight && now >= p.next_ping) to_ping.push_back(id);
      } else if (p.known && !p.dialing && !p.addr.empty() && now >= p.next_attempt) {
        p.dialing = true;
        to_dial.emplace_back(id, p.addr);
      }
    }
  }
  for (auto& c : idle) c->close("idle timeout");
  for (auto& id : to_ping) send_ping(id);
  for (auto& [id, addr] : to_dial) dial(id, addr, nullptr);
  if (exchange) {
    next_exchange = now + opts.peer_exchange_interval;
    for (auto& id : connected) send_peer_list(id);
  }
  ticker->expires_after(tick_interval);
  ticker->async_wait([this](error_code ec) {
    if (!ec) tick();
  });
}

void network::impl::send_call(const node_id& to, std::string endpoint, std::string body,
                              call_options o, reply_fn done, bool internal,
                              std::shared_ptr<body_pipe> upload,
                              std::shared_ptr<body_pipe> response, std::shared_ptr<call_ref> ref) {
  auto start = steady::now();
  std::shared_ptr<connection> c;
  {
    std::lock_guard l(mu);
    auto it = peers.find(to);
    if (it != peers.end()) c = it->second.conn;
  }
  if (body.size() > opts.max_body_size) {
    result<std::string> r = error(
        errc::too_large, "request body of " + std::to_string(body.size()) +
                             " bytes over the limit of " + std::to_string(opts.max_body_size));
    if (!internal) record_call(to, start, r, 0);
    done(std::move(r));
    return;
  }
  if (!c || c->closed) {
    result<std::string> r =
        error(errc::unavailable, "peer " + layout::short_id(to) + " is not connected");
    if (!internal) record_call(to, start, r, 0);
    done(std::move(r));
    return;
  }
  uint32_t id = c->next_id++;
  if (c->next_id == 0) c->next_id = 1;
  if (ref) {
    ref->conn = c;
    ref->id = id;
  }
  auto m = std::make_shared<outgoing_msg>();
  m->id = id;
  m->kind = upload ? wire::frame_kind::request_stream : wire::frame_kind::request;
  m->data = wire::encode_request(o.prio, endpoint, body);
  if (upload) {
    // (Its on_ready hook was set by open_upload, before the caller could
    // write: it finds the message through `ref`.)
    m->pipe = std::move(upload);
    m->credit = wire::initial_stream_credit;
  }
  pending_call pc;
  pc.done = std::move(done);
  pc.msg = m;
  pc.start = start;
  pc.internal = internal;
  if (response) {
    response->on_consumed = granter(c, id, wire::frame_kind::caller_control);
    pc.response = std::move(response);
  }
  pc.timer = std::make_unique<asio::steady_timer>(io->get_executor());
  pc.timer->expires_after(o.timeout);
  std::weak_ptr<connection> wc = c;
  pc.timer->async_wait([wc, id, o](error_code ec) {
    if (ec) return;
    auto c = wc.lock();
    if (!c) return;
    c->cancel_call(id, error(errc::timeout,
                             "call timed out after " + std::to_string(o.timeout.count()) + " ms"));
  });
  c->pending.emplace(id, std::move(pc));
  c->enqueue(o.prio, std::move(m));
}

std::function<void()> network::impl::waker(const std::shared_ptr<connection>& c,
                                           const std::shared_ptr<outgoing_msg>& m) {
  return [wn = weak_self, wc = std::weak_ptr<connection>(c), wm = std::weak_ptr<outgoing_msg>(m)] {
    auto n = wn.lock();
    if (!n) return;
    n->post([wc, wm] {
      auto c = wc.lock();
      auto m = wm.lock();
      if (c && m) c->wake_stream(m);
    });
  };
}

std::function<void(size_t)> network::impl::granter(const std::shared_ptr<connection>& c,
                                                   uint32_t id, wire::frame_kind kind) {
  return [wn = weak_self, wc = std::weak_ptr<connection>(c), id, kind](size_t bytes) {
    auto n = wn.lock();
    if (!n) return;
    n->post([wc, id, kind, bytes] {
      auto c = wc.lock();
      if (c && !c->closed) {
        c->send_control(kind, id, {wire::control_op::credit, static_cast<uint32_t>(bytes)});
      }
    });
  };
}

std::function<void(result<std::string>)> network::impl::replier(
    const std::shared_ptr<connection>& c, uint32_t id, priority p) {
  std::weak_ptr<connection> wc = c;
  size_t max = opts.max_body_size;
  return [this, wc, id, p, max](result<std::string> r) {
    if (r && r->size() > max) {
      r = error(errc::too_large, "response body of " + std::to_string(r->size()) +
                                     " bytes over the limit of " + std::to_string(max));
    }
    post([wc, id, p, r = std::move(r)]() mutable {
      auto c = wc.lock();
      if (!c || c->closed) return;
      auto m = std::make_shared<outgoing_msg>();
      m->id = id;
      m->kind = wire::frame_kind::response;
      m->data = wire::encode_response(r);
      c->enqueue(p, std::move(m));
    });
  };
}

void network::impl::handle_request(const std::shared_ptr<connection>& c, uint32_t id,
                                   std::string msg) {
  auto respond = [](const std::shared_ptr<connection>& c, uint32_t id, priority p,
                    const result<std::string>& r) {
    auto m = std::make_shared<outgoing_msg>();
    m->id = id;
    m->kind = wire::frame_kind::response;
    m->data = wire::encode_response(r);
    c->enqueue(p, std::move(m));
  };
  auto req = wire::decode_request(std::move(msg));
  if (!req) {
    respond(c, id, priority::normal, req.error());
    return;
  }
  if (req->endpoint == ping_endpoint) {
    auto blob = wire::decode_ping(req->body);
    if (blob) record_status(c->peer, std::move(*blob));
    std::string mine;
    {
      std::lock_guard l(mu);
      mine = local_status;
    }
    respond(c, id, priority::high, wire::encode_ping(mine));
    return;
  }
  if (req->endpoint == peers_endpoint) {
    auto list = wire::decode_peer_list(req->body);
    if (!list) {
      respond(c, id, priority::high, list.error());
      return;
    }
    merge_peers(*list);
    respond(c, id, priority::high, wire::encode_peer_list(advertised_peers()));
    return;
  }
  priority p = req->prio;
  any_handler h = handler_of(req->endpoint);
  if (h.stream) {
    start_stream_response(c, id, p, h, std::move(req->endpoint), std::move(req->body));
    return;
  }
  node_id from = c->peer;
  std::string endpoint = std::move(req->endpoint);
  auto reply = replier(c, id, p);
  bool queued =
      pool->post([this, from, endpoint = std::move(endpoint), body = std::move(req->body),
                  reply]() mutable { run_handler(from, endpoint, std::move(body), reply); });
  if (!queued) respond(c, id, p, error(errc::unavailable, "node stopping"));
}

// The handler writes into a pipe on a worker; the write loop sends what it
// holds as the caller grants credit. The pipe holds at most stream_window
// bytes, so a handler faster than the link blocks in write().
void network::impl::start_stream_response(const std::shared_ptr<connection>& c, uint32_t id,
                                          priority p, const any_handler& h, std::string endpoint,
                                          std::string body) {
  if (c->serving.contains(id)) {
    c->close("protocol error (a request id already in use)");
    return;
  }
  auto m = std::make_shared<outgoing_msg>();
  m->id = id;
  m->kind = wire::frame_kind::response_stream;
  m->prio = p;
  m->credit = wire::initial_stream_credit;
  m->pipe = std::make_shared<body_pipe>(stream_window, gauge);
  m->pipe->on_ready = waker(c, m);
  c->serving[id] = serving_call{m, nullptr, true};
  node_id from = c->peer;
  auto pipe = m->pipe;
  bool queued = stream_pool->post(
      [h, endpoint = std::move(endpoint), from, body = std::move(body), pipe]() mutable {
        (void)serve_stream_in_process(h, endpoint, from, std::move(body), *pipe);
      });
  if (!queued) {
    pipe->end(error(errc::unavailable, "node stopping"));
    c->wake_stream(m);
  }
}

// The handler reads the body from `in` on a worker as it arrives; reads
// grant the caller credit. The response is a whole message.
void network::impl::start_upload(const std::shared_ptr<connection>& c, uint32_t id,
                                 wire::request_msg req, std::shared_ptr<body_pipe> in) {
  any_handler h = handler_of(req.endpoint);
  auto reply = replier(c, id, req.prio);
  node_id from = c->peer;
  bool queued = stream_pool->post([h, endpoint = std::move(req.endpoint), from,
                                   head = std::move(req.body), in, reply]() mutable {
    reply(serve_upload_in_process(h, endpoint, from, std::move(head), in));
  });
  if (!queued) {
    in->fail(error(errc::unavailable, "node stopping"));
    reply(error(errc::unavailable, "node stopping"));
  }
}

any_handler network::impl::handler_of(const std::string& endpoint) {
  std::lock_guard l(mu);
  auto it = handlers.find(endpoint);
  return it == handlers.end() ? any_handler{} : it->second;
}

void network::impl::run_handler(const node_id& from, const std::string& endpoint, std::string body,
                                std::function<void(result<std::string>)> reply) {
  reply(serve_whole_in_process(handler_of(endpoint), endpoint, from, std::move(body),
                               opts.max_body_size));
}

void network::impl::record_call(const node_id& to, steady::time_point start,
                                const result<std::string>& r, size_t sent,
                                uint64_t stream_received) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  std::lock_guard l(mu);
  peer_metrics* m = nullptr;
  if (to == ident.id()) {
    m = &self_metrics;
  } else {
    auto it = peers.find(to);
    if (it == peers.end()) return;
    m = &it->second.metrics;
  }
  m->calls++;
  m->latency_us_sum += static_cast<uint64_t>(us);
  m->bytes_sent += sent;
  m->bytes_received += stream_received;
  if (r) {
    m->bytes_received += r->size();
  } else {
    m->errors++;
    if (r.error().code == errc::timeout) m->timeouts++;
  }
}

void network::impl::send_ping(const node_id& peer) {
  std::string status;
  {
    std::lock_guard l(mu);
    auto it = peers.find(peer);
    if (it == peers.end() || !it->second.conn) return;
    it->second.ping_in_flight = true;
    it->second.next_ping = steady::now() + opts.ping_interval;
    status = local_status;
  }
  auto start = steady::now();
  auto conn = [&] {
    std::lock_guard l(mu);
    return std::weak_ptr<connection>(peers[peer].conn);
  }();
  call_options o;
  o.prio = priority::high;
  o.timeout = opts.ping_timeout;
  send_call(
      peer, std::string(ping_endpoint), wire::encode_ping(status), o,
      [this, peer, start, conn](result<std::string> r) {
        std::shared_ptr<connection> to_close;
        if (r) {
          auto blob = wire::decode_ping(*r);
          if (blob) record_status(peer, std::move(*blob));
        }
        {
          std::lock_guard l(mu);
          auto it = peers.find(peer);
          if (it == peers.end()) return;
          auto& p = it->second;
          if (p.conn != conn.lock() || !p.conn) return;  // another connection now
          p.ping_in_flight = false;
          if (r) {
            auto sample =
                std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start);
            p.rtt = p.rtt ? (*p.rtt * 4 + sample) / 5 : sample;
            p.ping_failures = 0;
          } else if (++p.ping_failures >= opts.ping_failures_down) {
            to_close = p.conn;
          }
        }
        if (to_close) to_close->close("pings unanswered");
      },
      true);
}

void network::impl::send_peer_list(const node_id& peer) {
  call_options o;
  o.prio = priority::high;
  o.timeout = opts.ping_timeout;
  send_call(
      peer, std::string(peers_endpoint), wire::encode_peer_list(advertised_peers()), o,
      [this](result<std::string> r) {
        if (!r) return;
        auto list = wire::decode_peer_list(*r);
        if (list) merge_peers(*list);
      },
      true);
}

std::vector<wire::peer_entry> network::impl::advertised_peers() {
  std::vector<wire::peer_entry> out;
  std::lock_guard l(mu);
  out.push_back({ident.id(), public_addr});
  for (auto& [id, p] : peers) {
    if (p.conn && !p.addr.empty()) out.push_back({id, p.addr});
  }
  return out;
}

void network::impl::merge_peers(const std::vector<wire::peer_entry>& list) {
  std::lock_guard l(mu);
  bool changed = false;
  auto now = steady::now();
  for (const auto& e : list) {
    if (e.id == ident.id() || e.addr.empty()) continue;
    auto [it, inserted] = peers.try_emplace(e.id);
    auto& p = it->second;
    if (inserted || !p.known) {
      LOG_INFO("rpc: learnt peer {} at {}", layout::short_id(e.id), e.addr);
      p.addr = e.addr;
      p.known = true;
      p.next_attempt = now;
      changed = true;
    } else if (!p.conn && p.addr != e.addr) {
      LOG_INFO("rpc: peer {} now at {} (was {})", layout::short_id(e.id), e.addr, p.addr);
      p.addr = e.addr;
      p.backoff = std::chrono::milliseconds(0);
      p.next_attempt = now;
      changed = true;
    }
  }
  if (changed) persist_peers_locked();
}

void network::impl::persist_peers_locked() {
  std::map<node_id, std::string> known;
  for (auto& [id, p] : peers) {
    if (p.known && !p.addr.empty()) known[id] = p.addr;
  }
  if (auto r = save_peer_list(peer_list_path, known); !r) {
    LOG_WARN("rpc: cannot save the peer list: {}", r.error().to_string());
  }
}

void network::impl::record_status(const node_id& peer, std::string blob) {
  std::vector<status_fn> fns;
  {
    std::lock_guard l(mu);
    auto it = peers.find(peer);
    if (it == peers.end()) return;
    if (it->second.status == blob) return;
    it->second.status = blob;
    fns = status_fns;
  }
  if (fns.empty()) return;
  pool->post([fns = std::move(fns), peer, blob = std::move(blob)] {
    for (auto& f : fns) f(peer, blob);
  });
}

// ---- network ----

network::network(std::shared_ptr<impl> p) : p_(std::move(p)) {}

network::~network() { stop(); }

result<std::unique_ptr<network>> network::create(network_options opts) {
  if (opts.secret.size() != 32) {
    return error(errc::invalid_argument, "rpc_secret must be 32 bytes (64 hex digits)");
  }
  if (opts.metadata_dir.empty()) return error(errc::invalid_argument, "rpc: no metadata_dir");
  auto p = std::make_shared<impl>();
  p->weak_self = p;
  GARAGE_ASSIGN_OR_RETURN(p->ident, node_identity::load_or_create(opts.metadata_dir));
  p->peer_list_path = (std::filesystem::path(opts.metadata_dir) / "peer_list").string();
  GARAGE_ASSIGN_OR_RETURN(auto known, load_peer_list(p->peer_list_path));
  for (auto& [id, addr] : known) {
    if (id == p->ident.id()) continue;
    auto& pi = p->peers[id];
    pi.addr = addr;
    pi.known = true;
  }
  for (const auto& b : opts.bootstrap_peers) {
    auto e = wire::parse_peer_address(b);
    if (!e) return error(errc::invalid_argument, "bootstrap_peers: " + e.error().message);
    if (e->id == p->ident.id()) continue;
    auto& pi = p->peers[e->id];
    if (!pi.known) {
      pi.addr = e->addr;
      pi.known = true;
    }
  }
  p->opts = std::move(opts);
  return std::unique_ptr<network>(new network(std::move(p)));
}

result<void> network::start() {
  auto& n = *p_;
  {
    std::lock_guard l(n.post_mu);
    if (n.started) return error(errc::conflict, "rpc: already started");
    n.started = true;
    n.io = std::make_unique<asio::io_context>(1);
  }
  auto cert = n.ident.make_certificate_pem();
  if (!cert) return cert.error();
  try {
    n.tls = std::make_unique<ssl::context>(ssl::context::tls);
    SSL_CTX* ctx = n.tls->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    n.tls->use_certificate(asio::buffer(*cert), ssl::context::pem);
    n.tls->use_private_key(asio::buffer(n.ident.private_key_pem()), ssl::context::pem);
    // Any certificate passes TLS: the hello checks that its key is the node id.
    n.tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    n.tls->set_verify_callback([](bool, ssl::verify_context&) { return true; });
  } catch (const std::exception& e) {
    return error(errc::internal, std::string("rpc: TLS set-up failed: ") + e.what());
  }
  auto hp = split_host_port(n.opts.bind_addr);
  if (!hp) return error(errc::invalid_argument, "rpc_bind_addr: " + hp.error().message);
  try {
    tcp::resolver resolver(*n.io);
    auto eps = resolver.resolve(hp->first, hp->second, tcp::resolver::passive);
    if (eps.empty()) return error(errc::unavailable, "rpc: cannot resolve " + n.opts.bind_addr);
    tcp::endpoint ep = eps.begin()->endpoint();
    n.acceptor = std::make_unique<tcp::acceptor>(*n.io);
    n.acceptor->open(ep.protocol());
    n.acceptor->set_option(tcp::acceptor::reuse_address(true));
    n.acceptor->bind(ep);
    n.acceptor->listen();
    n.port = n.acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    return error(errc::unavailable,
                 "rpc: cannot listen on " + n.opts.bind_addr + ": " + std::string(e.what()));
  }
  {
    std::lock_guard l(n.mu);
    if (!n.opts.public_addr.empty()) {
      n.public_addr = n.opts.public_addr;
    } else {
      n.public_addr =
          n.opts.bind_addr.substr(0, n.opts.bind_addr.rfind(':')) + ":" + std::to_string(n.port);
    }
  }
  n.pool = std::make_unique<worker_pool>(n.opts.worker_threads);
  n.stream_pool = std::make_unique<worker_pool>(n.opts.worker_threads);
  n.ticker = std::make_unique<asio::steady_timer>(*n.io);
  n.start_accepting();
  asio::post(*n.io, [&n] { n.tick(); });
  n.io_thread = std::thread([&n] {
    try {
      n.io->run();
    } catch (const std::exception& e) {
      LOG_ERROR("rpc: I/O thread stopped: {}", e.what());
    }
  });
  LOG_INFO("rpc: node {} listening on {} (public address {})", n.ident.id().hex(), n.opts.bind_addr,
           public_addr());
  return ok();
}

void network::stop() {
  auto& n = *p_;
  {
    std::lock_guard l(n.post_mu);
    if (!n.started || n.stopped) {
      n.stopped = true;
      return;
    }
    n.stopped = true;
    asio::post(*n.io, [&n] {
      n.close_all();
      n.io->stop();
    });
  }
  if (n.io_thread.joinable()) n.io_thread.join();
  if (n.pool) n.pool->stop();
  if (n.stream_pool) n.stream_pool->stop();
  {
    std::lock_guard l(n.mu);
    for (auto& [id, p] : n.peers) p.conn.reset();
  }
  std::unique_ptr<asio::io_context> io;
  {
    std::lock_guard l(n.post_mu);
    n.ticker.reset();
    n.acceptor.reset();
    io = std::move(n.io);
  }
  io.reset();  // destroys the coroutines left, and their sockets
}

uint16_t network::port() const {
  std::lock_guard l(p_->mu);
  return p_->port;
}

std::string network::public_addr() const {
  std::lock_guard l(p_->mu);
  return p_->public_addr;
}

std::string network::full_address() const { return self().hex() + "@" + public_addr(); }

result<void> network::connect(const node_id& id, const std::string& addr,
                              std::chrono::milliseconds timeout) {
  if (id == self()) return error(errc::invalid_argument, "cannot connect a node to itself");
  if (auto hp = split_host_port(addr); !hp) return hp.error();
  if (is_up(id)) return ok();
  auto w = std::make_shared<dial_waiter>();
  auto fut = w->p.get_future();
  auto& n = *p_;
  bool posted = n.post([&n, id, addr, w]() mutable {
    {
      std::lock_guard l(n.mu);
      auto it = n.peers.find(id);
      if (it != n.peers.end() && it->second.conn) {
        w->finish(ok());
        return;
      }
    }
    n.dial(id, addr, std::move(w));
  });
  if (!posted) return error(errc::unavailable, "the network is not running");
  w.reset();
  if (fut.wait_for(timeout + n.opts.handshake_timeout) != std::future_status::ready) {
    return error(errc::timeout, "connecting to " + addr + " timed out");
  }
  auto r = fut.get();
  if (!r) return r;
  LOG_INFO("rpc: connected to {} at {} on request", layout::short_id(id), addr);
  return ok();
}

void network::set_local_status(std::string blob) {
  std::vector<node_id> connected;
  {
    std::lock_guard l(p_->mu);
    if (p_->local_status == blob) return;
    p_->local_status = std::move(blob);
    for (auto& [id, p] : p_->peers) {
      if (p.conn) connected.push_back(id);
    }
  }
  // Pushed at once: a ping carries it.
  p_->post([n = p_.get(), connected] {
    for (auto& id : connected) {
      bool in_flight = false;
      {
        std::lock_guard l(n->mu);
        auto it = n->peers.find(id);
        in_flight = it == n->peers.end() || it->second.ping_in_flight;
        if (!in_flight) it->second.next_ping = steady::now();
      }
      if (!in_flight) n->send_ping(id);
    }
  });
}

std::optional<std::string> network::peer_status_blob(const node_id& peer) const {
  std::lock_guard l(p_->mu);
  auto it = p_->peers.find(peer);
  if (it == p_->peers.end()) return std::nullopt;
  return it->second.status;
}

void network::on_peer_status(status_fn fn) {
  std::lock_guard l(p_->mu);
  p_->status_fns.push_back(std::move(fn));
}

std::vector<peer_metrics> network::metrics() const {
  std::lock_guard l(p_->mu);
  std::vector<peer_metrics> out;
  auto self_m = p_->self_metrics;
  self_m.id = p_->ident.id();
  out.push_back(self_m);
  for (auto& [id, p] : p_->peers) {
    auto m = p.metrics;
    m.id = id;
    out.push_back(m);
  }
  return out;
}

const node_id& network::self() const { return p_->ident.id(); }

void network::register_handler(const std::string& endpoint, handler_fn h) {
  std::lock_guard l(p_->mu);
  p_->handlers[endpoint] = any_handler{std::move(h), {}, {}};
}

void network::register_stream_handler(const std::string& endpoint, stream_handler_fn h) {
  std::lock_guard l(p_->mu);
  p_->handlers[endpoint] = any_handler{{}, std::move(h), {}};
}

void network::register_upload_handler(const std::string& endpoint, upload_handler_fn h) {
  std::lock_guard l(p_->mu);
  p_->handlers[endpoint] = any_handler{{}, {}, std::move(h)};
}

std::unique_ptr<stream_reader> network::open_stream(const node_id& to, const std::string& endpoint,
                                                    std::string body, call_options opts) {
  auto& n = *p_;
  auto pipe = std::make_shared<body_pipe>(
      to == self() ? stream_window : wire::initial_stream_credit, n.gauge);
  if (to == self()) {
    // In process: the handler writes into the pipe the caller reads.
    pipe->set_deadline(steady::now() + opts.timeout);
    auto start = steady::now();
    bool queued =
        n.stream_pool && n.stream_pool->post([&n, h = n.handler_of(endpoint), endpoint, pipe, start,
                                              body = std::move(body)]() mutable {
          size_t sent = body.size();
          auto st = serve_stream_in_process(h, endpoint, n.ident.id(), std::move(body), *pipe);
          result<std::string> r = st ? result<std::string>(std::string()) : st.error();
          n.record_call(n.ident.id(), start, r, sent, pipe->bytes_in());
        });
    if (!queued) pipe->end(error(errc::unavailable, "the network is not running"));
    return std::make_unique<pipe_reader>(std::move(pipe));
  }
  auto ref = std::make_shared<call_ref>();
  // The whole-response path: a plain handler's body arrives as one chunk.
  reply_fn done = [pipe](result<std::string> r) {
    if (!r) {
      pipe->end(std::move(r).error());
      return;
    }
    if (!r->empty()) pipe->push(std::move(*r), true);
    pipe->end(ok());
  };
  bool posted = n.post([&n, to, endpoint, body = std::move(body), opts, done, pipe, ref]() mutable {
    n.send_call(to, endpoint, std::move(body), opts, std::move(done), false, nullptr, pipe, ref);
  });
  if (!posted) pipe->end(error(errc::unavailable, "the network is not running"));
  return std::make_unique<pipe_reader>(pipe, [wn = n.weak_self, ref] {
    auto n = wn.lock();
    if (!n) return;
    n->post([ref] {
      if (auto c = ref->conn.lock()) {
        c->cancel_call(ref->id, error(errc::unavailable, "cancelled by the caller"));
      }
    });
  });
}

std::unique_ptr<upload_call> network::open_upload(const node_id& to, const std::string& endpoint,
                                                  std::string head, call_options opts,
                                                  size_t buffer) {
  auto& n = *p_;
  auto pipe = std::make_shared<body_pipe>(buffer, n.gauge);
  auto slot = std::make_shared<pipe_upload::response_slot>();
  auto deadline = steady::now() + opts.timeout;
  if (head.size() > wire::max_stream_head) {
    error e(errc::too_large,
            "upload head over " + std::to_string(wire::max_stream_head) + " bytes");
    slot->set(e);
    pipe->fail(e);
    return std::make_unique<pipe_upload>(std::move(pipe), std::move(slot), deadline);
  }
  if (to == self()) {
    pipe->set_deadline(deadline);
    auto start = steady::now();
    bool queued =
        n.stream_pool && n.stream_pool->post([&n, h = n.handler_of(endpoint), endpoint, pipe, slot,
                                              start, head = std::move(head)]() mutable {
          size_t sent = head.size();
          auto r = serve_upload_in_process(h, endpoint, n.ident.id(), std::move(head), pipe);
          n.record_call(n.ident.id(), start, r, sent + pipe->bytes_in());
          slot->set(std::move(r));
        });
    if (!queued) {
      error e(errc::unavailable, "the network is not running");
      slot->set(e);
      pipe->fail(e);
    }
    return std::make_unique<pipe_upload>(std::move(pipe), std::move(slot), deadline);
  }
  auto ref = std::make_shared<call_ref>();
  pipe->on_ready = [wn = n.weak_self, ref] {
    auto n = wn.lock();
    if (!n) return;
    n->post([ref] {
      auto c = ref->conn.lock();
      if (!c) return;
      auto it = c->pending.find(ref->id);
      if (it != c->pending.end() && it->second.msg) c->wake_stream(it->second.msg);
    });
  };
  reply_fn done = [pipe, slot](result<std::string> r) {
    pipe->fail(error(errc::unavailable, "the call is over"));
    slot->set(std::move(r));
  };
  bool posted = n.post([&n, to, endpoint, head = std::move(head), opts, done, pipe, ref]() mutable {
    n.send_call(to, endpoint, std::move(head), opts, std::move(done), false, pipe, nullptr, ref);
  });
  if (!posted) done(error(errc::unavailable, "the network is not running"));
  return std::make_unique<pipe_upload>(pipe, slot, deadline, [wn = n.weak_self, ref] {
    auto n = wn.lock();
    if (!n) return;
    n->post([ref] {
      if (auto c = ref->conn.lock()) {
        c->cancel_call(ref->id, error(errc::unavailable, "upload abandoned by the caller"));
      }
    });
  });
}

uint64_t network::stream_buffer_high_water() const {
  return static_cast<uint64_t>(p_->gauge->high_water.load());
}

uint64_t network::stream_buffered() const {
  return static_cast<uint64_t>(p_->gauge->buffered.load());
}

void network::call_async(const node_id& to, const std::string& endpoint, std::string body,
                         call_options opts, reply_fn done) {
  auto& n = *p_;
  if (to == self()) {
    auto start = steady::now();
    size_t sent = body.size();
    auto shared_done = std::make_shared<reply_fn>(std::move(done));
    bool queued = n.pool && n.pool->post([&n, endpoint, body = std::move(body), shared_done, start,
                                          sent]() mutable {
      n.run_handler(n.ident.id(), endpoint, std::move(body),
                    [&n, shared_done, start, sent](result<std::string> r) {
                      n.record_call(n.ident.id(), start, r, sent);
                      (*shared_done)(std::move(r));
                    });
    });
    if (!queued) (*shared_done)(error(errc::unavailable, "the network is not running"));
    return;
  }
  auto shared_done = std::make_shared<reply_fn>(std::move(done));
  bool posted = n.post([&n, to, endpoint, body = std::move(body), opts, shared_done]() mutable {
    n.send_call(to, endpoint, std::move(body), opts, std::move(*shared_done), false);
  });
  if (!posted) (*shared_done)(error(errc::unavailable, "the network is not running"));
}

bool network::is_up(const node_id& peer) const {
  if (peer == self()) return true;
  std::lock_guard l(p_->mu);
  auto it = p_->peers.find(peer);
  return it != p_->peers.end() && it->second.conn &&
         it->second.ping_failures < p_->opts.ping_failures_down;
}

std::optional<std::chrono::microseconds> network::rtt(const node_id& peer) const {
  if (peer == self()) return std::chrono::microseconds(0);
  std::lock_guard l(p_->mu);
  auto it = p_->peers.find(peer);
  if (it == p_->peers.end() || !it->second.conn) return std::nullopt;
  return it->second.rtt;
}

std::vector<peer_status> network::peers() const {
  std::lock_guard l(p_->mu);
  std::vector<peer_status> out;
  for (auto& [id, p] : p_->peers) {
    if (!p.known && !p.conn) continue;
    peer_status s;
    s.id = id;
    s.addr = p.addr;
    s.connected = p.conn != nullptr && p.ping_failures < p_->opts.ping_failures_down;
    if (p.conn) s.rtt = p.rtt;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace garage::rpc
