#include "model/object_ops.h"

#include "model/ids.h"
#include "model/store.h"
#include "util/clock.h"

namespace garage::model {

namespace {

// A timestamp newer than every version this object already has.
uint64_t next_version_timestamp(const std::optional<object>& existing) {
  uint64_t last = 0;
  if (existing) {
    for (const auto& v : existing->versions) last = std::max(last, v.timestamp);
  }
  return next_timestamp(last);
}

object single(std::string_view bucket_id, std::string_view key, object_version v) {
  object o;
  o.bucket_id = std::string(bucket_id);
  o.key = std::string(key);
  o.versions.push_back(std::move(v));
  return o;
}

// The object as far as a new version's timestamp needs it. Standalone: the
// entry, read in the transaction. In a cluster, a write that checks nothing
// does not wait for a quorum read: this node's copy (if it holds one) gives
// the timestamp to beat, and the clock does the rest (last writer wins, as
// in Garage).
result<std::optional<object>> entry_for_timestamp(store& s, meta_tx& tx, std::string_view bucket_id,
                                                  std::string_view key) {
  if (s.clustered()) return s.objects().get_local(bucket_id, key);
  return s.objects().get(tx, bucket_id, key);
}

// Inserts a new version with a fresh timestamp, reading the entry in the same
// transaction so the timestamp is after every version already there.
result<std::string> insert_new_version(store& s, std::string_view bucket_id, std::string_view key,
                                       object_version v, const write_precondition& pre) {
  auto tx = s.begin();
  std::optional<object> existing;
  if (pre.any()) {
    GARAGE_ASSIGN_OR_RETURN(existing, s.objects().get(*tx, bucket_id, key));
  } else {
    GARAGE_ASSIGN_OR_RETURN(existing, entry_for_timestamp(s, *tx, bucket_id, key));
  }
  GARAGE_TRY(check_precondition(existing, pre));
  v.timestamp = next_version_timestamp(existing);
  std::string id = v.id;
  GARAGE_TRY(s.objects().insert(*tx, single(bucket_id, key, std::move(v))));
  GARAGE_TRY(tx->commit());
  return id;
}

}  // namespace

result<std::optional<object>> get_object(store& s, std::string_view bucket_id,
                                         std::string_view key) {
  return s.objects().get(bucket_id, key);
}

result<version> get_version(store& s, std::string_view version_id) {
  GARAGE_ASSIGN_OR_RETURN(auto v, s.versions().get(version_id, ""));
  if (!v || v->deleted) return error(errc::not_found, "version not found");
  return std::move(*v);
}

result<version> get_version_for_read(store& s, std::string_view version_id, uint64_t size) {
  if (s.clustered()) {
    GARAGE_ASSIGN_OR_RETURN(auto local, s.versions().get_local(version_id, ""));
    if (local && !local->deleted && !local->blocks.empty()) {
      const auto& first = local->blocks.begin()->first;
      uint64_t next = 0;
      bool whole = true;
      for (const auto& [loc, b] : local->blocks) {  // ordered by location
        if (loc.part_number != first.part_number || loc.attempt != first.attempt ||
            loc.offset != next) {
          whole = false;
          break;
        }
        next += b.size;
      }
      if (whole && next == size) return std::move(*local);
    }
  }
  return get_version(s, version_id);
}

result<void> check_precondition(const std::optional<object>& existing,
                                const write_precondition& pre) {
  const object_version* cur = existing ? existing->current() : nullptr;
  if (pre.if_none_match_any && cur) {
    return error(errc::already_exists, "If-None-Match: the object exists");
  }
  if (pre.if_match) {
    if (!cur) return error(errc::not_found, std::string(kIfMatchNoObject));
    if (*pre.if_match != "*" && *pre.if_match != cur->meta.etag) {
      return error(errc::already_exists, "If-Match: the ETag differs");
    }
  }
  return ok();
}

result<std::string> put_inline(store& s, std::string_view bucket_id, std::string_view key,
                               object_meta meta, std::string data, const write_precondition& pre) {
  object_version v;
  v.id = new_version_id();
  v.state = version_state::complete;
  v.data = version_data::inline_bytes;
  v.meta = std::move(meta);
  v.inline_data = std::move(data);
  return insert_new_version(s, bucket_id, key, std::move(v), pre);
}

result<std::string> begin_upload(store& s, std::string_view bucket_id, std::string_view key,
                                 bool multipart, header_list headers) {
  object_meta initial;
  initial.headers = std::move(headers);
  return begin_upload(s, bucket_id, key, multipart, std::move(initial));
}

result<std::string> begin_upload(store& s, std::string_view bucket_id, std::string_view key,
                                 bool multipart, object_meta initial, std::string version_id) {
  object_version v;
  v.id = version_id.empty() ? new_version_id() : std::move(version_id);
  v.state = version_state::uploading;
  v.multipart = multipart;
  v.meta = std::move(initial);
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto existing, entry_for_timestamp(s, *tx, bucket_id, key));
  v.timestamp = next_version_timestamp(existing);
  std::string id = v.id;
  version ver;
  ver.id = id;
  ver.bucket_id = std::string(bucket_id);
  ver.key = std::string(key);
  ver.updated_msec = now_msec();
  GARAGE_TRY(s.versions().insert(*tx, ver));
  GARAGE_TRY(s.objects().insert(*tx, single(bucket_id, key, std::move(v))));
  GARAGE_TRY(tx->commit());
  return id;
}

result<void> add_block(store& s, std::string_view version_id, std::string_view bucket_id,
                       std::string_view key, block_location loc, version_block block) {
  auto tx = s.begin();
  // Only into a live upload: a version aborted (and perhaps already forgotten)
  // must not come back to life holding references nothing will release. In a
  // cluster the version's replicas see to it (a deleted version stays deleted
  // whatever is merged into it, and references only what it held), so the
  // block costs one round trip, not two.
  if (!s.clustered()) {
    GARAGE_ASSIGN_OR_RETURN(auto existing, s.versions().get(*tx, version_id, ""));
    if (!existing || existing->deleted) return error(errc::conflict, "the upload was aborted");
  }
  version ver;
  ver.id = std::string(version_id);
  ver.bucket_id = std::string(bucket_id);
  ver.key = std::string(key);
  ver.updated_msec = now_msec();
  ver.blocks.emplace(loc, block);
  GARAGE_TRY(s.versions().insert(*tx, ver));
  return tx->commit();
}

result<void> complete_upload(store& s, std::string_view bucket_id, std::string_view key,
                             std::string_view version_id, object_meta meta,
                             const write_precondition& pre) {
  auto tx = s.begin();
  std::optional<object> existing;
  if (s.clustered() && !pre.any()) {
    // The upload as this node wrote it, when it holds a copy; else a quorum.
    GARAGE_ASSIGN_OR_RETURN(existing, s.objects().get_local(bucket_id, key));
    const object_version* mine = existing ? existing->find(version_id) : nullptr;
    if (!mine || mine->state != version_state::uploading) existing.reset();
  }
  if (!existing) {
    GARAGE_ASSIGN_OR_RETURN(existing, s.objects().get(*tx, bucket_id, key));
  }
  GARAGE_TRY(check_precondition(existing, pre));
  const object_version* cur = existing ? existing->find(version_id) : nullptr;
  // Gone from the entry: a newer version completed meanwhile, which replaces
  // this one anyway (last writer wins), and the hook has released its blocks.
  if (!cur) return ok();
  if (cur->state != version_state::uploading) {
    return error(errc::conflict, "the upload was aborted");
  }
  object_version v = *cur;
  v.state = version_state::complete;
  v.multipart = false;
  v.data = version_data::blocks;
  v.meta = std::move(meta);
  GARAGE_TRY(s.objects().insert(*tx, single(bucket_id, key, std::move(v))));
  return tx->commit();
}

result<void> abort_upload(store& s, std::string_view bucket_id, std::string_view key,
                          std::string_view version_id) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.objects().get(*tx, bucket_id, key));
  object_version v;
  v.id = std::string(version_id);
  if (const object_version* cur = existing ? existing->find(version_id) : nullptr) {
    if (cur->state != version_state::uploading) return ok();
    v = *cur;
  }
  v.state = version_state::aborted;
  GARAGE_TRY(s.objects().insert(*tx, single(bucket_id, key, std::move(v))));
  // The version may already have been dropped from the object entry; make
  // sure its blocks are released either way.
  version tomb;
  tomb.id = std::string(version_id);
  tomb.deleted = true;
  tomb.bucket_id = std::string(bucket_id);
  tomb.key = std::string(key);
  GARAGE_TRY(s.versions().insert(*tx, tomb));
  return tx->commit();
}

result<bool> delete_object(store& s, std::string_view bucket_id, std::string_view key) {
  auto tx = s.begin();
  std::optional<object> existing;
  if (s.clustered()) {
    // This node's copy shows an object: delete it in one round trip. It
    // shows none: ask a quorum (a marker on nothing would be garbage, and
    // would end uploads in progress).
    GARAGE_ASSIGN_OR_RETURN(existing, s.objects().get_local(bucket_id, key));
    if (existing && !existing->current()) existing.reset();
  }
  if (!existing) {
    GARAGE_ASSIGN_OR_RETURN(existing, s.objects().get(*tx, bucket_id, key));
  }
  if (!existing || !existing->current()) return false;
  object_version v;
  v.id = new_version_id();
  v.timestamp = next_version_timestamp(existing);
  v.state = version_state::complete;
  v.data = version_data::delete_marker;
  GARAGE_TRY(s.objects().insert(*tx, single(bucket_id, key, std::move(v))));
  GARAGE_TRY(tx->commit());
  return true;
}

result<void> set_object_tags(store& s, std::string_view bucket_id, std::string_view key,
                             header_list tags) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.objects().get(*tx, bucket_id, key));
  const object_version* cur = existing ? existing->current() : nullptr;
  if (!cur) return error(errc::not_found, "no such object");
  object_version v = *cur;
  v.meta.tags = std::move(tags);
  // After the tags it replaces, and after now so that a later write wins.
  v.meta.tags_timestamp = next_timestamp(std::max(cur->meta.tags_timestamp, cur->timestamp));
  GARAGE_TRY(s.objects().insert(*tx, single(bucket_id, key, std::move(v))));
  return tx->commit();
}

result<std::vector<object>> list_objects(store& s, std::string_view bucket_id,
                                         std::string_view start, bool exclusive, size_t limit) {
  object_table::range_query q;
  q.start_sk = std::string(start);
  q.limit = limit + (exclusive ? 1 : 0);
  q.filter = [](const object& o) { return o.current() != nullptr; };
  GARAGE_ASSIGN_OR_RETURN(auto page, s.objects().get_range(bucket_id, q));
  if (exclusive && !page.empty() && page.front().key == start) page.erase(page.begin());
  if (page.size() > limit) page.resize(limit);
  return page;
}

result<bool> bucket_is_empty(store& s, std::string_view bucket_id) {
  object_table::range_query q;
  q.limit = 1;
  q.filter = [](const object& o) { return counts_of(&o) != bucket_counts{}; };
  GARAGE_ASSIGN_OR_RETURN(auto page, s.objects().get_range(bucket_id, q));
  return page.empty();
}

}  // namespace garage::model
