#include "layout/history.h"

#include <algorithm>
#include <set>
#include <string>

namespace garage::layout {

layout_history::layout_history(layout_parameters initial) { versions_.emplace_back(initial); }

result<layout_history> layout_history::from_parts(std::vector<layout_version> versions,
                                                  update_trackers trackers,
                                                  layout_staging staging) {
  if (versions.empty()) return error(errc::corrupted, "layout history without versions");
  for (size_t i = 1; i < versions.size(); ++i)
    if (versions[i].version() != versions[i - 1].version() + 1)
      return error(errc::corrupted, "layout history versions are not consecutive");
  layout_history h;
  h.versions_ = std::move(versions);
  h.trackers_ = std::move(trackers);
  h.staging_ = std::move(staging);
  return h;
}

std::vector<node_id> layout_history::all_nodes() const {
  std::vector<node_id> out;
  for (const auto& v : versions_)
    for (const auto& [id, role] : v.roles()) out.push_back(id);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<node_id> layout_history::all_storage_nodes() const {
  std::vector<node_id> out;
  for (const auto& v : versions_)
    out.insert(out.end(), v.storage_nodes().begin(), v.storage_nodes().end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// ---- staging ----

result<void> layout_history::stage_role(const node_id& id, node_role role) {
  if (auto r = validate(role); !r)
    return error(errc::invalid_argument, "node " + short_id(id) + ": " + r.error().message);
  staging_.set_role(id, std::move(role));
  return ok();
}

result<node_role> layout_history::role_for_change(const node_id& id) const {
  auto roles = staged_roles();
  auto it = roles.find(id);
  if (it == roles.end())
    return error(errc::not_found,
                 "node " + short_id(id) + " has no role, current or staged; assign it one first");
  return it->second;
}

result<void> layout_history::stage_remove(const node_id& id) {
  GARAGE_TRY(role_for_change(id));
  staging_.remove_role(id);
  return ok();
}

result<void> layout_history::stage_capacity(const node_id& id, std::optional<uint64_t> capacity) {
  GARAGE_ASSIGN_OR_RETURN(node_role role, role_for_change(id));
  role.capacity = capacity;
  return stage_role(id, std::move(role));
}

result<void> layout_history::stage_zone(const node_id& id, std::string zone) {
  GARAGE_ASSIGN_OR_RETURN(node_role role, role_for_change(id));
  role.zone = std::move(zone);
  return stage_role(id, std::move(role));
}

result<void> layout_history::stage_tags(const node_id& id, std::vector<std::string> tags) {
  GARAGE_ASSIGN_OR_RETURN(node_role role, role_for_change(id));
  role.tags = std::move(tags);
  return stage_role(id, std::move(role));
}

result<void> layout_history::stage_parameters(layout_parameters params) {
  GARAGE_TRY(validate(params));
  staging_.set_parameters(params);
  return ok();
}

std::map<node_id, node_role> layout_history::staged_roles() const {
  return staging_.apply_to(current().roles());
}

layout_parameters layout_history::staged_parameters() const {
  return staging_.parameters().value_or(current().parameters());
}

result<computed_layout> layout_history::preview() const {
  return compute_layout(current(), staged_roles(), staged_parameters());
}

result<layout_report> layout_history::apply(uint64_t expected_version) {
  const uint64_t next = current().version() + 1;
  if (expected_version != next)
    return error(errc::conflict, "cannot apply layout version " + std::to_string(expected_version) +
                                     ": the current version is " +
                                     std::to_string(current().version()) +
                                     ", so the next one must be " + std::to_string(next) +
                                     "; review the staged changes and retry with that number");
  GARAGE_ASSIGN_OR_RETURN(computed_layout computed, preview());
  versions_.push_back(std::move(computed.version));
  staging_.clear();
  retire_old_versions();
  return std::move(computed.report);
}

void layout_history::revert() { staging_.clear(); }

// ---- trackers ----

uint64_t layout_history::tracker_of(const std::map<node_id, uint64_t>& tracker,
                                    const node_id& node) const {
  auto it = tracker.find(node);
  return std::max(min_stored(), it == tracker.end() ? 0 : it->second);
}

uint64_t layout_history::min_over(const std::map<node_id, uint64_t>& tracker,
                                  const std::vector<node_id>& nodes) const {
  // With no node to wait for, nothing holds the cluster back.
  if (nodes.empty()) return current().version();
  uint64_t m = current().version();
  for (const auto& n : nodes) m = std::min(m, tracker_of(tracker, n));
  return m;
}

bool layout_history::raise(std::map<node_id, uint64_t>& tracker, const node_id& node, uint64_t v) {
  auto [it, inserted] = tracker.try_emplace(node, v);
  if (!inserted) {
    if (it->second >= v) return false;
    it->second = v;
  }
  retire_old_versions();
  return true;
}

bool layout_history::set_ack(const node_id& node, uint64_t v) {
  return raise(trackers_.ack, node, v);
}
bool layout_history::set_sync(const node_id& node, uint64_t v) {
  return raise(trackers_.sync, node, v);
}
bool layout_history::set_sync_ack(const node_id& node, uint64_t v) {
  return raise(trackers_.sync_ack, node, v);
}

bool layout_history::update_local(const node_id& node, uint64_t max_ack) {
  bool changed = set_ack(node, std::min(max_ack, current().version()));
  changed = set_sync(node, min_stored()) || changed;
  changed = set_sync_ack(node, sync_min()) || changed;
  return changed;
}

namespace {

std::string id_list(const std::vector<node_id>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + short_id(id);
  return out;
}

bool contains(const std::vector<node_id>& v, const node_id& id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

}  // namespace

result<skip_report> layout_history::skip_dead_nodes(uint64_t version,
                                                    const std::vector<node_id>& dead,
                                                    bool allow_missing_data, size_t write_quorum) {
  const uint64_t cur = current().version();
  if (versions_.size() == 1)
    return error(errc::invalid_argument,
                 "only one layout version (" + std::to_string(cur) +
                     ") is live: no transition waits for a dead node, nothing to skip");
  if (version != cur)
    return error(errc::invalid_argument,
                 "version " + std::to_string(version) + " is not the current layout version " +
                     std::to_string(cur) + ": pass --version " + std::to_string(cur));
  const auto everyone = all_nodes();
  std::vector<node_id> skipped;
  for (const auto& n : everyone)
    if (contains(dead, n)) skipped.push_back(n);
  std::vector<node_id> in_current;
  for (const auto& n : skipped)
    if (current().roles().count(n)) in_current.push_back(n);
  if (!in_current.empty())
    return error(errc::invalid_argument,
                 "node(s) " + id_list(in_current) + " are down but have a role in the current " +
                     "layout version " + std::to_string(cur) +
                     ": only nodes that left the layout can be skipped; replace or remove them " +
                     "(garage layout assign / remove, then apply) first, or bring them back");
  if (skipped.empty()) {
    std::vector<node_id> lagging;
    for (const auto& n : everyone)
      if (tracker_of(trackers_.ack, n) < cur || tracker_of(trackers_.sync, n) < cur)
        lagging.push_back(n);
    std::string why = lagging.empty()
                          ? std::string(" and every node has acknowledged and synced it")
                          : "; node(s) " + id_list(lagging) +
                                " have not finished with it but are up: they "
                                "catch up by themselves (or fix their network)";
    return error(errc::invalid_argument,
                 "no node with a role in a live layout version is down: nothing to skip "
                 "for version " +
                     std::to_string(cur) + why);
  }
  // Dead nodes per node set of the older versions: the sync of a dead node
  // is covered when each set it belongs to keeps a live member of every
  // write quorum.
  std::set<node_id> uncovered;
  for (const auto& v : versions_) {
    if (v.version() == cur || !v.has_assignment()) continue;
    for (uint32_t p = 0; p < partition_count; ++p) {
      auto set = v.nodes_of(p);
      size_t n_dead = 0;
      for (const auto& n : set) n_dead += contains(skipped, n);
      if (n_dead >= write_quorum)
        for (const auto& n : set)
          if (contains(skipped, n)) uncovered.insert(n);
    }
  }
  const auto storage_nodes = all_storage_nodes();
  skip_report out;
  for (const auto& n : skipped) {
    if (set_ack(n, version)) out.ack_raised.push_back(n);
    if (!contains(storage_nodes, n)) continue;
    if (allow_missing_data || !uncovered.count(n)) {
      if (set_sync(n, version)) out.sync_raised.push_back(n);
    } else if (tracker_of(trackers_.sync, n) < version) {
      out.sync_kept.push_back(n);
    }
  }
  return out;
}

bool layout_history::sync_can_skip(const node_id& node) const {
  return !current().roles().count(node) && tracker_of(trackers_.sync, node) >= current().version();
}

uint64_t layout_history::ack_min() const { return min_over(trackers_.ack, all_nodes()); }
uint64_t layout_history::sync_min() const { return min_over(trackers_.sync, all_storage_nodes()); }
uint64_t layout_history::sync_ack_min() const {
  return min_over(trackers_.sync_ack, current().all_nodes());
}

// An old version can go once every node of the current version reads from a
// newer one. A leading version without assignment (version 0) serves nobody
// and goes as soon as a version with an assignment exists.
void layout_history::retire_old_versions() {
  if (current().has_assignment())
    while (versions_.size() > 1 && !versions_.front().has_assignment())
      versions_.erase(versions_.begin());
  const uint64_t readers_at = sync_ack_min();
  while (versions_.size() > 1 && min_stored() < readers_at) versions_.erase(versions_.begin());
}

// ---- routing ----

const layout_version& layout_history::read_version() const {
  const uint64_t v = sync_min();
  for (const auto& version : versions_)
    if (version.version() == v) return version;
  return current();
}

std::vector<node_id> layout_history::read_nodes_of(uint32_t partition) const {
  return read_version().nodes_of(partition);
}

std::vector<std::vector<node_id>> layout_history::write_sets_of(uint32_t partition) const {
  std::vector<std::vector<node_id>> out;
  for (const auto& v : versions_)
    if (v.has_assignment()) out.push_back(v.nodes_of(partition));
  return out;
}

std::vector<node_id> layout_history::storage_nodes_of(uint32_t partition) const {
  std::vector<node_id> out;
  for (const auto& set : write_sets_of(partition)) out.insert(out.end(), set.begin(), set.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// ---- gossip ----

merge_outcome layout_history::merge(const layout_history& other) {
  merge_outcome out;
  if (current().version() < other.min_stored()) {
    // We are so far behind that nothing we hold is live any more.
    if (!(*this == other)) {
      *this = other;
      out.changed = true;
    }
    return out;
  }
  for (const auto& v : other.versions_) {
    if (v.version() == current().version() + 1) {
      versions_.push_back(v);
      out.changed = true;
    } else if (v.version() >= min_stored() && v.version() <= current().version()) {
      if (!(versions_[v.version() - min_stored()] == v))
        out.conflicting_versions.push_back(v.version());
    }
  }
  auto merge_map = [&](std::map<node_id, uint64_t>& mine,
                       const std::map<node_id, uint64_t>& theirs) {
    for (const auto& [node, value] : theirs) {
      auto [it, inserted] = mine.try_emplace(node, value);
      if (inserted || it->second < value) {
        it->second = value;
        out.changed = true;
      }
    }
  };
  merge_map(trackers_.ack, other.trackers_.ack);
  merge_map(trackers_.sync, other.trackers_.sync);
  merge_map(trackers_.sync_ack, other.trackers_.sync_ack);
  if (staging_.merge(other.staging_)) out.changed = true;
  retire_old_versions();
  return out;
}

}  // namespace garage::layout
