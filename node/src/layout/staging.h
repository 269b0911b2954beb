// layout_staging: role and parameter changes waiting for the next layout
// version (what `garage layout assign/remove/config` record and `apply`
// consumes).
//
// A plain value. Staging is gossiped between nodes: merge keeps the one with
// the higher stamp (a logical clock bumped by every change), and on equal
// stamps the one with the larger encoding, so every node picks the same.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "layout/role.h"

namespace garage::layout {

class layout_staging {
 public:
  // Stages a new role for a node (replacing any change staged for it).
  void set_role(const node_id& id, node_role role);
  // Stages the removal of a node's role.
  void remove_role(const node_id& id);
  void set_parameters(layout_parameters params);
  // Forgets all staged changes (stamp still advances, so the reset spreads).
  void clear();

  bool empty() const { return roles_.empty() && !parameters_; }
  // Per node: the staged role, or nullopt for a staged removal.
  const std::map<node_id, std::optional<node_role>>& roles() const { return roles_; }
  const std::optional<layout_parameters>& parameters() const { return parameters_; }
  uint64_t stamp() const { return stamp_; }

  // `current` with the staged role changes applied.
  std::map<node_id, node_role> apply_to(const std::map<node_id, node_role>& current) const;

  // Merges gossip; returns true when this value changed.
  bool merge(const layout_staging& other);

  // For the decoder.
  static layout_staging from_parts(std::map<node_id, std::optional<node_role>> roles,
                                   std::optional<layout_parameters> params, uint64_t stamp);

  bool operator==(const layout_staging&) const = default;

 private:
  std::map<node_id, std::optional<node_role>> roles_;
  std::optional<layout_parameters> parameters_;
  uint64_t stamp_ = 0;
};

}  // namespace garage::layout
