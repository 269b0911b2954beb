// local_net: an in-process network of transports, for unit tests of the
// layers that talk to peers (tables, blocks, membership).
//
// Every node added gets a transport; calls between them run the target's
// handler on the net's worker threads, after the link's one-way delay each
// way. A node can be taken down (as if killed: calls to it fail with
// unavailable, it sends nothing) and a link can be cut (both directions).
// Calls in flight when their link is cut or their node goes down fail.
//
//   rpc::local_net net;
//   auto& a = net.add(id_a);
//   auto& b = net.add(id_b);
//   b.register_handler("echo", [](const node_id&, std::string s) -> result<std::string> { return s;
//   }); net.set_delay(id_a, id_b, 5ms); a.call(id_b, "echo", "hi");
//
// Thread-safe. Destroy the users of the transports before the net.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "rpc/transport.h"

namespace garage::rpc {

class local_net {
 public:
  explicit local_net(size_t threads = 8);
  ~local_net();
  local_net(const local_net&) = delete;
  local_net& operator=(const local_net&) = delete;

  // Adds a node (up, no delay on its links). Adding an id twice returns the
  // same transport.
  transport& add(const node_id& id);
  transport& node(const node_id& id);

  void set_up(const node_id& id, bool up);
  void cut(const node_id& a, const node_id& b, bool is_cut = true);
  // One-way delay of the link a <-> b (applied to the request and the reply).
  void set_delay(const node_id& a, const node_id& b, std::chrono::microseconds one_way);
  // How many requests for `endpoint` reached the handler of `to` (any caller).
  uint64_t delivered(const node_id& to, const std::string& endpoint) const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace garage::rpc
