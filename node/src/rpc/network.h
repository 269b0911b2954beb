// network: the transport between real `garage` processes (see README.md for
// the wire protocol).
//
// Each node has a persistent Ed25519 identity (identity.h); node id = public
// key. Peers talk over one TLS 1.3 connection per pair of nodes, after both
// proved with a hello that they know the cluster's rpc_secret; the hello's
// node id must be the key of the peer's certificate. Requests and responses
// are multiplexed on that connection, cut into frames of at most 64 KiB; the
// sender always sends the next frame of the highest-priority message waiting
// (round robin within one priority), so a table call is never stuck behind a
// block transfer. Either body of a call may be streamed (transport.h), with
// per-stream credit so that neither side buffers more than a window of it.
//
// Membership: known peers (bootstrap peers, connect(), peers learnt from other
// peers) are persisted in <metadata_dir>/peer_list and redialed with an
// exponential backoff (1 s doubling to 60 s). Connected peers are pinged
// (priority high) every ping_interval; a peer is down when its connection
// drops or ping_failures_down pings in a row fail. Every peer_exchange_interval
// each node sends its connected peers to every peer, so joining one node joins
// the cluster; an address learnt for a peer that is not connected replaces the
// old one, and a connected peer's own hello is authoritative for its address.
//
// Status: a node publishes an opaque blob (set_local_status: e.g. layout
// version and digest, free space) that rides on every ping and its answer and
// is pushed to every peer at once when it changes. The last blob received from
// a peer is peer_status_blob(); on_peer_status callbacks run, on a worker
// thread, each time a peer's blob changes (also on its first ping after a
// (re)connection), so the layout manager can see a newer layout version and
// pull it with a normal call.
//
// Threads: one I/O thread runs every socket; handlers run on a pool of worker
// threads (they may block); call_async's `done` runs on the I/O thread (or a
// worker for calls to self()) and must not block. Every public member is
// thread-safe. start() once, stop() once (the destructor stops too); stop()
// fails the calls in flight with unavailable and waits for running handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rpc/identity.h"
#include "rpc/transport.h"
#include "util/result.h"

namespace garage::rpc {

struct network_options {
  // Directory of node_key, node_key.pub and peer_list (created if absent).
  std::string metadata_dir;
  // host:port to listen on ("127.0.0.1:0" picks a free port: see port()).
  std::string bind_addr = "127.0.0.1:3901";
  // Address announced to peers; empty: the bind address (with the port
  // actually bound).
  std::string public_addr;
  // The cluster secret: 32 raw bytes (decode the hex of the config first).
  std::string secret;
  // "<hex id>@<host:port>", dialed at start and remembered.
  std::vector<std::string> bootstrap_peers;

  size_t worker_threads = 8;
  size_t max_body_size = 64 << 20;  // a bigger request or response is too_large
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds ping_interval{5'000};
  std::chrono::milliseconds ping_timeout{5'000};
  unsigned ping_failures_down = 2;
  // A connection on which nothing was received for this long is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds peer_exchange_interval{10'000};
  std::chrono::milliseconds reconnect_min{1'000};
  std::chrono::milliseconds reconnect_max{60'000};
};

// Counters of the calls this node made to one peer (self() included),
// since start. A snapshot: plain values.
struct peer_metrics {
  node_id id{};
  uint64_t calls = 0;           // calls completed (ok or not)
  uint64_t errors = 0;          // of which failed (any error, timeouts included)
  uint64_t timeouts = 0;        // of which timed out
  uint64_t latency_us_sum = 0;  // sum of the completion times of all calls
  uint64_t bytes_sent = 0;      // request bodies sent
  uint64_t bytes_received = 0;  // response bodies received
};

class network final : public transport {
 public:
  // Loads or creates the node key; nothing listens yet. Errors: io_error,
  // corrupted (key files), invalid_argument (options, bootstrap peers, a
  // secret that is not 32 bytes).
  static result<std::unique_ptr<network>> create(network_options opts);
  ~network() override;

  // Binds, starts the I/O thread and the workers and dials every known
  // peer. Errors: unavailable (cannot bind).
  result<void> start();
  // Closes every connection and joins the threads. Idempotent.
  void stop();

  // The port bound (after start()), and the address peers are told.
  uint16_t port() const;
  std::string public_addr() const;
  // "<full hex id>@<public addr>": what `garage node id` prints.
  std::string full_address() const;

  // Dials `id` at `addr` (host:port) unless already connected, and waits
  // until the connection is established (returns ok) or failed: unavailable
  // (cannot connect, TLS failure), unauthenticated (the peer does not know
  // the secret, or is not `id`), timeout. The peer is remembered either way
  // only once it succeeded. Blocks: never call from a handler's `done`.
  result<void> connect(const node_id& id, const std::string& addr,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

  // Status blobs (see above).
  void set_local_status(std::string blob);
  std::optional<std::string> peer_status_blob(const node_id& peer) const;
  using status_fn = std::function<void(const node_id& peer, const std::string& blob)>;
  void on_peer_status(status_fn fn);

  std::vector<peer_metrics> metrics() const;

  // Bytes of streamed bodies buffered by this node now (pipes between
  // handlers or callers and the connections, both directions), and the most
  // ever buffered at once since start. Each stream holds at most
  // stream_window bytes to send and wire::initial_stream_credit received.
  uint64_t stream_buffered() const;
  uint64_t stream_buffer_high_water() const;

  // transport
  const node_id& self() const override;
  void register_handler(const std::string& endpoint, handler_fn h) override;
  void register_stream_handler(const std::string& endpoint, stream_handler_fn h) override;
  void register_upload_handler(const std::string& endpoint, upload_handler_fn h) override;
  std::unique_ptr<stream_reader> open_stream(const node_id& to, const std::string& endpoint,
                                             std::string body, call_options opts) override;
  std::unique_ptr<upload_call> open_upload(const node_id& to, const std::string& endpoint,
                                           std::string head, call_options opts,
                                           size_t buffer = stream_window) override;
  void call_async(const node_id& to, const std::string& endpoint, std::string body,
                  call_options opts, reply_fn done) override;
  bool is_up(const node_id& peer) const override;
  std::optional<std::chrono::microseconds> rtt(const node_id& peer) const override;
  std::vector<peer_status> peers() const override;

  struct impl;

 private:
  explicit network(std::shared_ptr<impl> p);
  std::shared_ptr<impl> p_;
};

}  // namespace garage::rpc
