#include "table/replication.h"

#include "layout/partition.h"

namespace garage::table {

result<consistency_mode> parse_consistency_mode(std::string_view text) {
  if (text == "consistent") return consistency_mode::consistent;
  if (text == "degraded") return consistency_mode::degraded;
  if (text == "dangerous") return consistency_mode::dangerous;
  return error(errc::invalid_argument, "consistency_mode: \"" + std::string(text) +
                                           "\" is not consistent, degraded or dangerous");
}

const char* to_string(consistency_mode m) {
  switch (m) {
    case consistency_mode::consistent:
      return "consistent";
    case consistency_mode::degraded:
      return "degraded";
    case consistency_mode::dangerous:
      return "dangerous";
  }
  return "?";
}

size_t write_quorum_of(size_t rf, consistency_mode m) {
  if (rf == 0) return 0;
  return m == consistency_mode::dangerous ? 1 : rf / 2 + 1;
}

size_t read_quorum_of(size_t rf, consistency_mode m) {
  if (rf == 0) return 0;
  return m == consistency_mode::consistent ? (rf + 1) / 2 : 1;
}

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
