// cluster_view: what the admin API sees of the cluster's membership. Filled
// by the composition root from the RPC network (rpc/network.h), so that this
// layer depends on plain values and functions only. Every function may be
// called from any thread and may block (the handlers run on the blocking
// pool); an empty function means "not available".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace garage::admin {

struct cluster_peer {
  std::string id;    // 64 hex digits
  std::string addr;  // host:port last known
  bool is_up = false;
  std::optional<double> rtt_ms;  // smoothed ping round trip, when up
};

struct cluster_view {
  std::string self_id;          // 64 hex digits: this node's RPC identity
  std::string rpc_public_addr;  // host:port other nodes dial
  // Every known peer but this node.
  std::function<std::vector<cluster_peer>()> peers;
  // Connects to "<node id>@<host:port>"; an error says why not.
  std::function<result<void>(const std::string& node)> connect;
};

}  // namespace garage::admin
