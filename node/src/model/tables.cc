#include "model/tables.h"

#include <set>

#include "util/clock.h"

namespace garage::model {

result<void> block_ref_schema::updated(db::transaction& tx, const block_ref* old,
                                       const block_ref& now) {
  bool was_live = old && !old->deleted;
  bool is_live = !now.deleted;
  if (!was_live && is_live) return blocks->incref(tx, now.block);
  // A reference first seen already deleted never counted.
  if (was_live && !is_live) return blocks->decref(tx, now.block, now_msec());
  return ok();
}

result<void> version_schema::updated(db::transaction& tx, const version* old, const version& now) {
  if (now.deleted) {
    if (!old || old->deleted) return ok();
    std::set<hash256> seen;
    for (const auto& [loc, b] : old->blocks) {
      if (!seen.insert(b.hash).second) continue;
      GARAGE_TRY(refs(tx, block_ref{b.hash, now.id, true}));
    }
    return ok();
  }
  for (const auto& [loc, b] : now.blocks) {
    if (old && old->blocks.count(loc)) continue;
    GARAGE_TRY(refs(tx, block_ref{b.hash, now.id, false}));
  }
  return ok();
}

bucket_counts counts_of(const object* o) {
  bucket_counts c;
  if (!o) return c;
  if (const auto* v = o->current()) {
    c.objects = 1;
    c.bytes = static_cast<int64_t>(v->meta.size);
  }
  for (const auto& v : o->versions) {
    if (v.state == version_state::uploading) ++c.uploads;
  }
  return c;
}

result<void> object_schema::updated(db::transaction& tx, const object* old, const object& now) {
  // Versions that were live and are now gone or aborted lose their blocks.
  if (old) {
    for (const auto& v : old->versions) {
      if (v.state == version_state::aborted) continue;
      bool had_blocks = v.state == version_state::uploading || v.data == version_data::blocks;
      if (!had_blocks) continue;
      const auto* nv = now.find(v.id);
      if (nv && nv->state != version_state::aborted) continue;
      version tomb;
      tomb.id = v.id;
      tomb.deleted = true;
      tomb.bucket_id = now.bucket_id;
      tomb.key = now.key;
      GARAGE_TRY(versions(tx, tomb));
    }
  }
  bucket_counts before = counts_of(old);
  bucket_counts after = counts_of(&now);
  if (before == after) return ok();
  bucket_counts delta{after.objects - before.objects, after.bytes - before.bytes,
                      after.uploads - before.uploads};
  GARAGE_ASSIGN_OR_RETURN(auto existing, counters->get(tx, now.bucket_id, ""));
  bucket_counter c;
  c.bucket_id = now.bucket_id;
  crdt::lww<bucket_counts> slot;
  if (existing) {
    auto it = existing->slots.find(node_id);
    if (it != existing->slots.end()) slot = it->second;
  }
  bucket_counts value = slot.value;
  value += delta;
  slot.update(value);
  c.slots[node_id] = slot;
  return counters->insert(tx, c);
}

}  // namespace garage::model
