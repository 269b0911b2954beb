// transport: the contract between the layers that need other nodes (table,
// block, the cluster's membership) and whatever carries the bytes.
//
// A call names a peer, an endpoint ("table/object/put", "block/get", …) and
// carries one request body; it gets one response body or an error. Either
// body may instead be streamed (open_stream, open_upload: see below). Handlers
// run on worker threads and may block (they usually touch the database).
// Calls to oneself are served in-process by the same handlers, so the layers
// above never special-case the local node.
//
// Two implementations:
//   rpc/network.h     TLS 1.3 connections between real processes;
//   rpc/local_net.h   an in-process network for unit tests, with links that
//                     can be cut and delayed.
//
// Thread-safety: every member is safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "layout/role.h"
#include "util/result.h"

namespace garage::rpc {

using layout::node_id;

// Requests of a higher priority are never queued behind the frames of a lower
// one on the same connection: membership pings before table traffic before
// block transfers.
enum class priority : uint8_t { high = 0, normal = 1, background = 2 };

struct call_options {
  priority prio = priority::normal;
  std::chrono::milliseconds timeout{30'000};
};

// A handler gets the caller's id and the request body and returns the
// response body. An error is sent back to the caller as that error (code and
// message).
using handler_fn = std::function<result<std::string>(const node_id& from, std::string body)>;
using reply_fn = std::function<void(result<std::string>)>;

// ---- streamed bodies ----
//
// A body too big to hold whole (a block, a large table dump) can be streamed:
// it travels in chunks, and at most a bounded number of its bytes
// (stream_window, per body, on each side) is ever buffered by the transport.
// A slow consumer slows the producer down; it never makes memory grow.

// Bytes of one streamed body the transport buffers at most on each side: a
// writer blocks beyond it, and a receiver grants the sender credit only as its
// consumer reads.
inline constexpr size_t stream_window = 256 * 1024;

// The receiving end of a streamed body. One thread at a time.
class stream_reader {
 public:
  virtual ~stream_reader() = default;
  // Blocks until the next chunk (never empty), std::nullopt once the whole
  // body was read, or the error that ended it: the producer's own error (a
  // handler that failed midway), timeout, unavailable (connection lost,
  // cancelled). After nullopt or an error, every read returns the same.
  // Destroying a reader before the end cancels the stream: the producer's
  // next write fails.
  virtual result<std::optional<std::string>> read() = 0;
};

// The sending end of a streamed body. One thread at a time.
class stream_writer {
 public:
  virtual ~stream_writer() = default;
  // Queues a chunk (any size; empty is a no-op) for sending. Blocks while
  // stream_window bytes of this body are not yet sent (or, over a network,
  // not yet granted by the receiver). Errors: the stream is over (the
  // consumer cancelled it, the caller timed out, the connection dropped):
  // stop producing and return.
  virtual result<void> write(std::string_view chunk) = 0;
};

// The caller's end of a call with a streamed request body (open_upload):
// write the body, then finish() to get the response.
class upload_call : public stream_writer {
 public:
  // Ends the body and waits for the response (or the call's error). Once.
  // Destroying an upload_call without finish() cancels the call: the
  // handler's reader fails and its response is dropped.
  virtual result<std::string> finish() = 0;
  // Abandons the body with `e`: the handler's reader fails with it, and
  // finish() returns the handler's answer (usually that error).
  virtual void abort(error e) = 0;
  // finish() without waiting: ends the body; `done` runs once, on an
  // internal thread, with the response or the call's error (it must not
  // block). The upload_call may be destroyed right after.
  virtual void finish_async(std::function<void(result<std::string>)> done) = 0;
};

// A handler whose response body is streamed: it writes the body with `out`
// while it runs and returns ok at the end. An error returned after some chunks
// were written reaches the caller as that error, never as a short body.
using stream_handler_fn =
    std::function<result<void>(const node_id& from, std::string body, stream_writer& out)>;
// A handler of a streamed request body: `head` is the small part of the
// request sent up front (e.g. an id), `body` the rest, read as it arrives. It
// runs as soon as the head arrives, on a worker thread, and returns the
// (whole) response.
using upload_handler_fn =
    std::function<result<std::string>(const node_id& from, std::string head, stream_reader& body)>;

struct peer_status {
  node_id id{};
  std::string addr;  // host:port last known
  bool connected = false;
  std::optional<std::chrono::microseconds> rtt;  // smoothed ping round trip
};

class transport {
 public:
  virtual ~transport() = default;

  virtual const node_id& self() const = 0;

  // Registers the handler of an endpoint (replacing any earlier one). A call
  // to an endpoint without a handler fails with not_found on the caller.
  virtual void register_handler(const std::string& endpoint, handler_fn h) = 0;

  // Sends a request; `done` runs exactly once, on an internal thread, with the
  // response or an error (unavailable: peer not connected or connection lost;
  // timeout; or the handler's own error). `done` must not block.
  virtual void call_async(const node_id& to, const std::string& endpoint, std::string body,
                          call_options opts, reply_fn done) = 0;

  // Streamed bodies (see above). Registering any kind of handler for an
  // endpoint replaces the handler of any kind registered for it before.
  //
  // A whole call() to a stream handler gets the body gathered whole (within
  // the transport's body limit); open_stream() of a plain handler gets its
  // body as one chunk. An upload to a plain handler, or a whole call to an
  // upload handler, fails with invalid_argument.
  virtual void register_stream_handler(const std::string& endpoint, stream_handler_fn h) = 0;
  virtual void register_upload_handler(const std::string& endpoint, upload_handler_fn h) = 0;
  // Calls `endpoint` and returns the reader of its streamed response at once;
  // errors (unreachable peer, the handler's error, timeout: opts.timeout
  // bounds the whole transfer) come out of read(). Never null.
  virtual std::unique_ptr<stream_reader> open_stream(const node_id& to, const std::string& endpoint,
                                                     std::string body, call_options opts) = 0;
  // Calls `endpoint` with a streamed request body: `head` (at most about
  // 60 KiB) goes first; the body is what the caller then writes. `buffer`:
  // the bytes not yet sent beyond which write() blocks; a caller that holds
  // the whole body anyway (and sends it to several nodes) may pass its size,
  // so that a slow peer never holds up the others. Never null.
  virtual std::unique_ptr<upload_call> open_upload(const node_id& to, const std::string& endpoint,
                                                   std::string head, call_options opts,
                                                   size_t buffer = stream_window) = 0;

  // Whether the peer is believed up (connected, answering pings). Always true
  // for self().
  virtual bool is_up(const node_id& peer) const = 0;
  // Smoothed round-trip time to the peer; zero for self(), nullopt if unknown.
  virtual std::optional<std::chrono::microseconds> rtt(const node_id& peer) const = 0;
  virtual std::vector<peer_status> peers() const = 0;

  // ---- blocking helpers, built on call_async (transport.cc) ----

  result<std::string> call(const node_id& to, const std::string& endpoint, std::string body,
                           call_options opts = {});

  // open_stream, feeding every chunk to `sink` in order on the calling
  // thread. An error of the sink cancels the call and is returned.
  result<void> call_stream(const node_id& to, const std::string& endpoint, std::string body,
                           call_options opts,
                           const std::function<result<void>(std::string_view)>& sink);
  // open_upload, pulling the body from `source` (the next chunk, nullopt at
  // the end, or an error that aborts the call and is returned) as the
  // transport drains it: the body is never held whole.
  result<std::string> call_upload(
      const node_id& to, const std::string& endpoint, std::string head, call_options opts,
      const std::function<result<std::optional<std::string>>()>& source);

  // Sends the same request to every node of `to` at once and returns as soon
  // as `quorum` of them answered successfully, with those answers. Fails
  // (unavailable, with the errors met) as soon as the quorum can no longer be
  // reached, or with timeout. Calls still in flight when it returns keep
  // running and their answers are dropped: a write reaches every replica it
  // can, the caller waits only for the quorum.
  result<std::vector<std::pair<node_id, std::string>>> quorum_call(std::span<const node_id> to,
                                                                   const std::string& endpoint,
                                                                   const std::string& body,
                                                                   size_t quorum,
                                                                   call_options opts = {});
};

}  // namespace garage::rpc
