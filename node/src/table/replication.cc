#include "table/replication.h"

#include "layout/partition.h"

namespace garage::table {

std::vector<node_id> local_replication::storage_nodes(const hash256&) const { return {self_}; }

size_t sharded_replication::replication_factor() const {
  return source_()->current().replication_factor();
}

std::vector<node_id> sharded_replication::storage_nodes(const hash256& h) const {
  return source_()->read_nodes_of(layout::partition_of(h));
}

std::vector<std::vector<node_id>> sharded_replication::write_sets(const hash256& h) const {
  return source_()->write_sets_of(layout::partition_of(h));
}

std::vector<node_id> sharded_replication::sync_nodes(const hash256& h) const {
  return source_()->storage_nodes_of(layout::partition_of(h));
}

size_t sharded_replication::write_quorum() const {
  return write_quorum_of(replication_factor(), mode_);
}

size_t sharded_replication::read_quorum() const {
  return read_quorum_of(replication_factor(), mode_);
}

rpc::write_tracker::guard sharded_replication::begin_write() const {
  return writes_ ? writes_->begin() : rpc::write_tracker::guard{};
}

bool sharded_replication::sync_can_skip(const node_id& node) const {
  return source_()->sync_can_skip(node);
}

rpc::write_tracker::guard full_replication::begin_write() const {
  return writes_ ? writes_->begin() : rpc::write_tracker::guard{};
}

bool full_replication::sync_can_skip(const node_id& node) const {
  return source_()->sync_can_skip(node);
}

std::vector<node_id> full_replication::all_nodes() const {
  auto nodes = source_()->all_nodes();
  if (nodes.empty()) nodes.push_back(self_);
  return nodes;
}

std::vector<node_id> full_replication::storage_nodes(const hash256&) const { return {self_}; }

std::vector<std::vector<node_id>> full_replication::write_sets(const hash256&) const {
  return {all_nodes()};
}

std::vector<node_id> full_replication::sync_nodes(const hash256&) const { return all_nodes(); }

size_t full_replication::write_quorum() const { return all_nodes().size() / 2 + 1; }

}  // namespace garage::table
