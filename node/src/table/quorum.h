// Quorum writes over several node sets: the write of a partition during a
// layout transition must reach a quorum in the node set of every live
// layout version. Used by replicated_table; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "rpc/transport.h"
#include "table/replication.h"
#include "util/result.h"

namespace garage::table {

// Sends `body` once to every node of the union of `sets` and returns when
// each set has `quorum` successful answers (a node in several sets counts in
// each). Fails (unavailable, naming the errors) as soon as one set can no
// longer reach its quorum, or on timeout. Calls still in flight keep running.
result<void> multi_quorum_call(rpc::transport& net, const std::vector<std::vector<node_id>>& sets,
                               const std::string& endpoint, const std::string& body, size_t quorum,
                               rpc::call_options opts);

}  // namespace garage::table
