// Quorums: the consistency modes and the quorum sizes they give, and quorum
// calls over several node sets (the write of a partition during a layout
// transition must reach a quorum in the node set of every live layout
// version). Used by replicated tables and replicated blocks; thread-safe.
//
// With replication factor rf (Garage's modes):
//   consistent  write rf/2+1, read ceil(rf/2)  (they intersect: read-after-write)
//   degraded    write rf/2+1, read 1           (reads survive more failures)
//   dangerous   write 1,      read 1
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "layout/history.h"
#include "rpc/transport.h"
#include "util/result.h"

namespace garage::rpc {

enum class consistency_mode { consistent, degraded, dangerous };
// "consistent", "degraded" or "dangerous"; errors (invalid_argument) name the value.
result<consistency_mode> parse_consistency_mode(std::string_view text);
const char* to_string(consistency_mode m);
size_t write_quorum_of(size_t replication_factor, consistency_mode m);
size_t read_quorum_of(size_t replication_factor, consistency_mode m);

// The cluster's current layout, as a snapshot that stays valid while held
// (never null).
using layout_source = std::function<std::shared_ptr<const layout::layout_history>()>;

// Sends `body` once to every node of the union of `sets` and returns when
// each set has `quorum` successful answers (a node in several sets counts in
// each). Fails (unavailable, naming the errors) as soon as one set can no
// longer reach its quorum, or on timeout. Calls still in flight keep running.
result<void> multi_quorum_call(transport& net, const std::vector<std::vector<node_id>>& sets,
                               const std::string& endpoint, const std::string& body, size_t quorum,
                               call_options opts);

// The same with a streamed request body (open_upload): `head` up front, then
// `body` in pieces. The body is buffered for each node as a whole message
// would be (a slow node never holds up the others), and sent as each node's
// credit allows.
result<void> multi_quorum_upload(transport& net, const std::vector<std::vector<node_id>>& sets,
                                 const std::string& endpoint, const std::string& head,
                                 std::string_view body, size_t quorum, call_options opts);

}  // namespace garage::rpc
