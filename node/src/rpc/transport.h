// transport: the contract between the layers that need other nodes (table,
// block, the cluster's membership) and whatever carries the bytes.
//
// A call names a peer, an endpoint ("table/object/put", "block/get", …) and
// carries one request body; it gets one response body or an error. Handlers
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
#include <optional>
#include <span>
#include <string>
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

  // Whether the peer is believed up (connected, answering pings). Always true
  // for self().
  virtual bool is_up(const node_id& peer) const = 0;
  // Smoothed round-trip time to the peer; zero for self(), nullopt if unknown.
  virtual std::optional<std::chrono::microseconds> rtt(const node_id& peer) const = 0;
  virtual std::vector<peer_status> peers() const = 0;

  // ---- blocking helpers, built on call_async (transport.cc) ----

  result<std::string> call(const node_id& to, const std::string& endpoint, std::string body,
                           call_options opts = {});

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
