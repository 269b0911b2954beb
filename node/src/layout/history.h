// layout_history: the live layout versions of a cluster, the staged changes
// for the next one, and per-node update trackers that say when an old version
// may be retired.
//
// During a transition several versions are live at once. The cluster keeps
// read-after-write consistency by sending writes to the nodes of every live
// version (write_sets_of) and reads to the newest version whose data every
// storage node has finished syncing (read_version). Three trackers, each a
// per-node version number that only grows (as in Garage):
//   ack[n]      node n uses version v for new writes and has no write in
//               flight that ignores it (ack_min(): every node did);
//   sync[n]     node n has synced its data up to version v: it holds what
//               version v gives it, so reads may use v once every storage
//               node did (sync_min());
//   sync_ack[n] node n knows sync_min() >= v and reads from v; once every
//               node of the current version did, older versions are retired.
// A node without an entry counts as min_stored() (the oldest live version).
//
// Gossip: merge() is commutative, associative and idempotent on trackers and
// versions (versions are only appended, numbered without gaps), and picks the
// staging with the larger stamp.
//
// Not thread-safe: callers serialise access (the cluster keeps one instance
// behind its own lock and hands out copies).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "layout/compute.h"
#include "layout/staging.h"
#include "layout/version.h"
#include "util/result.h"

namespace garage::layout {

struct update_trackers {
  std::map<node_id, uint64_t> ack;
  std::map<node_id, uint64_t> sync;
  std::map<node_id, uint64_t> sync_ack;
  bool operator==(const update_trackers&) const = default;
};

// What skip_dead_nodes changed (node ids ascending).
struct skip_report {
  std::vector<node_id> ack_raised;   // ack raised to the version
  std::vector<node_id> sync_raised;  // sync raised to the version
  // Dead storage nodes whose sync was left as it was: some partition of an
  // older version has write-quorum many dead nodes, so an acknowledged write
  // may exist only on dead disks (raise them with allow_missing_data).
  std::vector<node_id> sync_kept;
};

struct merge_outcome {
  bool changed = false;
  // Versions that both sides hold with different contents (two `apply` calls
  // with the same number: an operator error); ours are kept.
  std::vector<uint64_t> conflicting_versions;
};

class layout_history {
 public:
  // A cluster that never applied a layout: version 0, empty. Precondition:
  // validate(initial) succeeds (the default, RF 3 / maximum, does).
  explicit layout_history(layout_parameters initial = {});

  // For the decoder. Errors (corrupted): no version, or versions not
  // consecutive.
  static result<layout_history> from_parts(std::vector<layout_version> versions,
                                           update_trackers trackers, layout_staging staging);

  // ---- versions ----
  const layout_version& current() const { return versions_.back(); }
  // Live versions, oldest first; never empty.
  const std::vector<layout_version>& versions() const { return versions_; }
  uint64_t min_stored() const { return versions_.front().version(); }
  // Nodes with a role in any live version, ascending; and those with capacity.
  std::vector<node_id> all_nodes() const;
  std::vector<node_id> all_storage_nodes() const;

  // ---- staging ----
  const layout_staging& staging() const { return staging_; }
  // Errors (invalid_argument): the role is invalid (see validate(node_role)).
  result<void> stage_role(const node_id& id, node_role role);
  // Errors (not_found): the node has no role, current or staged.
  result<void> stage_remove(const node_id& id);
  // Change one field of the node's role (current or staged). nullopt capacity
  // makes the node a gateway. Errors: not_found, invalid_argument.
  result<void> stage_capacity(const node_id& id, std::optional<uint64_t> capacity);
  result<void> stage_zone(const node_id& id, std::string zone);
  result<void> stage_tags(const node_id& id, std::vector<std::string> tags);
  // Errors (invalid_argument): see validate(layout_parameters).
  result<void> stage_parameters(layout_parameters params);
  std::map<node_id, node_role> staged_roles() const;
  layout_parameters staged_parameters() const;

  // What apply() would produce, without changing anything.
  result<computed_layout> preview() const;
  // Computes the next version from the staged changes and makes it current.
  // Errors: conflict when expected_version != current().version() + 1 (another
  // apply won the race, or the caller looked at a stale layout); the errors of
  // compute_layout when the constraints cannot be met (nothing changes then).
  result<layout_report> apply(uint64_t expected_version);
  // Drops the staged changes.
  void revert();

  // ---- update trackers ----
  const update_trackers& trackers() const { return trackers_; }
  // Raise node's tracker to v (never lowers it); return whether it changed.
  // Retires versions that are no longer needed.
  bool set_ack(const node_id& node, uint64_t v);
  bool set_sync(const node_id& node, uint64_t v);
  bool set_sync_ack(const node_id& node, uint64_t v);
  // What a node does for itself after every layout change: ack up to
  // `max_ack` (the newest version it has no older write in flight for;
  // usually current().version()), record that it is synced at least to the
  // oldest live version, and sync_ack what every node synced.
  bool update_local(const node_id& node, uint64_t max_ack);

  // An operator's decision that `dead` nodes (those of them with a role in a
  // live version) will never come back, so that the versions older than
  // `version` can retire without them (`garage layout skip-dead-nodes`):
  //   ack   raised to `version`: a dead node has no write in flight;
  //   sync  raised to `version` when every node set of an older version that
  //         holds the node has fewer than `write_quorum` dead members (every
  //         acknowledged write then has a copy on a live node, which hands it
  //         to the new owners in its sync rounds), or when allow_missing_data
  //         (writes held by dead nodes only are given up).
  // Nothing else: reads still move to `version` only once every live storage
  // node has synced it. Errors (invalid_argument), nothing changed: a single
  // live version; `version` is not the current one; a node of `dead` has a
  // role in the current version (remove it and apply first); no node of
  // `dead` has a role in a live version.
  result<skip_report> skip_dead_nodes(uint64_t version, const std::vector<node_id>& dead,
                                      bool allow_missing_data, size_t write_quorum);
  // Whether anti-entropy may pass over `node` while it is unreachable: it has
  // no role in the current version and has synced it (a removed node that
  // handed its data over, or one skip_dead_nodes passed over).
  bool sync_can_skip(const node_id& node) const;

  // Minimum ack over every node with a role in a live version.
  uint64_t ack_min() const;
  // Minimum sync over every storage node of a live version.
  uint64_t sync_min() const;
  uint64_t sync_ack_min() const;  // over the nodes of the current version

  // ---- routing ----
  // The version reads go to: the newest live version every storage node
  // synced (the current one when only one is live).
  const layout_version& read_version() const;
  std::vector<node_id> read_nodes_of(uint32_t partition) const;
  // One node set per live version with an assignment, oldest first; a write
  // needs a quorum in each.
  std::vector<std::vector<node_id>> write_sets_of(uint32_t partition) const;
  // Union of the write sets, ascending: every node that must hold the partition.
  std::vector<node_id> storage_nodes_of(uint32_t partition) const;

  // ---- gossip ----
  merge_outcome merge(const layout_history& other);

  bool operator==(const layout_history&) const = default;

 private:
  uint64_t tracker_of(const std::map<node_id, uint64_t>& tracker, const node_id& node) const;
  uint64_t min_over(const std::map<node_id, uint64_t>& tracker,
                    const std::vector<node_id>& nodes) const;
  bool raise(std::map<node_id, uint64_t>& tracker, const node_id& node, uint64_t v);
  void retire_old_versions();
  result<node_role> role_for_change(const node_id& id) const;

  std::vector<layout_version> versions_;
  update_trackers trackers_;
  layout_staging staging_;
};

}  // namespace garage::layout
