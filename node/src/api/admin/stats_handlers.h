// GetNodeStatistics: this node's tables (entries, Merkle root, changes not
// yet folded into the trie), its blocks (files, bytes, GC and resync queues)
// and its insert queues. Two replicas with the same Merkle root for a table
// hold the same entries of it: tests and operators compare roots to see that
// anti-entropy converged.
#pragma once

#include "api/admin/handlers.h"
#include "api/admin/router.h"
#include "model/store.h"
#include "rpc/layout_manager.h"

namespace garage::admin {

// With r.partitions, also the partitions of which each table holds entries
// and those the layout assigns to this node (256 scans per table).
api_result<reply> node_statistics(model::store& s, const node_facts& f,
                                  const get_node_statistics_request& r,
                                  rpc::layout_manager* layout);

}  // namespace garage::admin
