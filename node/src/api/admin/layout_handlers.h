// The cluster layout endpoints (GetClusterLayout, GetClusterLayoutHistory,
// UpdateClusterLayout, PreviewClusterLayoutChanges, ApplyClusterLayout,
// RevertClusterLayout, ClusterLayoutSkipDeadNodes) over the node's rpc::layout_manager. Internal to
// api/admin; `execute` dispatches to them. Blocking (the manager stores every
// change before answering). Errors: 400 InvalidRequest for a bad node id, an
// invalid role, a node without a role to remove, a wrong version number or
// constraints the layout cannot meet; 500 when the layout cannot be stored.
#pragma once

#include "api/admin/handlers.h"
#include "api/admin/router.h"

namespace garage::rpc {
class layout_manager;
}

namespace garage::admin {

api_result<reply> handle(rpc::layout_manager& m, const get_cluster_layout_request& r);
api_result<reply> handle(rpc::layout_manager& m, const get_cluster_layout_history_request& r);
api_result<reply> handle(rpc::layout_manager& m, const update_cluster_layout_request& r);
api_result<reply> handle(rpc::layout_manager& m, const preview_cluster_layout_changes_request& r);
api_result<reply> handle(rpc::layout_manager& m, const apply_cluster_layout_request& r);
api_result<reply> handle(rpc::layout_manager& m, const revert_cluster_layout_request& r);
// ClusterLayoutSkipDeadNodes: `write_quorum` of the node's consistency mode
// decides whether a dead node's data is covered by the live ones (see
// layout_history::skip_dead_nodes). 400 for every refusal.
api_result<reply> handle(rpc::layout_manager& m, const cluster_layout_skip_dead_nodes_request& r,
                         size_t write_quorum);

template <class T>
inline constexpr bool is_layout_request =
    std::is_same_v<T, get_cluster_layout_request> ||
    std::is_same_v<T, get_cluster_layout_history_request> ||
    std::is_same_v<T, update_cluster_layout_request> ||
    std::is_same_v<T, preview_cluster_layout_changes_request> ||
    std::is_same_v<T, apply_cluster_layout_request> ||
    std::is_same_v<T, revert_cluster_layout_request>;

}  // namespace garage::admin
