// Computing a layout version from roles and parameters.
//
// This is the entry point for both users of the engine: the node (through
// layout_history::apply) and the Kubernetes operator, which previews a layout
// from the roles it plans without any running cluster. Pure and deterministic:
// the result depends only on the arguments, never on their order of
// insertion or on the machine.
#pragma once

#include <map>

#include "layout/report.h"
#include "layout/role.h"
#include "layout/version.h"
#include "util/result.h"

namespace garage::layout {

struct computed_layout {
  layout_version version;
  layout_report report;
};

// The next version after `previous` (numbered previous.version() + 1) with the
// given roles and parameters; the assignment stores as much as the capacities
// allow and moves as few replicas away from `previous` as possible.
//
// Errors (invalid_argument), each naming the failed constraint and a fix:
// invalid parameters or roles (empty zone, zero capacity), fewer storage nodes
// than the replication factor, fewer zones than the zone redundancy asks for,
// capacities too small to hold 256 * replication factor partition replicas.
result<computed_layout> compute_layout(const layout_version& previous,
                                       const std::map<node_id, node_role>& roles,
                                       const layout_parameters& params);

// A layout from scratch (as version 1), for previews.
result<computed_layout> preview_layout(const std::map<node_id, node_role>& roles,
                                       const layout_parameters& params);

}  // namespace garage::layout
