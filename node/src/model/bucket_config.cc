#include "model/bucket_config.h"

#include <fmt/format.h>

#include "model/bucket_ops.h"
#include "model/store.h"

namespace garage::model {

namespace {

crdt::lww<std::string>& field(bucket& b, bucket_document which) {
  switch (which) {
    case bucket_document::cors:
      return b.cors;
    case bucket_document::website:
      return b.website;
    case bucket_document::lifecycle:
      break;
  }
  return b.lifecycle;
}

template <class Change>
result<void> change_bucket(store& s, std::string_view bucket_id, Change change) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto b, s.buckets().get(*tx, bucket_id, ""));
  if (!b || b->deleted)
    return error(errc::not_found, fmt::format("bucket {} not found", bucket_id));
  change(*b);
  GARAGE_TRY(s.buckets().insert(*tx, *b));
  return tx->commit();
}

}  // namespace

result<void> set_bucket_document(store& s, std::string_view bucket_id, bucket_document which,
                                 std::string json) {
  return change_bucket(s, bucket_id, [&](bucket& b) { field(b, which).update(std::move(json)); });
}

result<std::string> get_bucket_document(store& s, std::string_view bucket_id,
                                        bucket_document which) {
  GARAGE_ASSIGN_OR_RETURN(auto b, get_bucket(s, bucket_id));
  return field(b, which).value;
}

result<void> set_bucket_quotas(store& s, std::string_view bucket_id, bucket_quotas q) {
  return change_bucket(s, bucket_id, [&](bucket& b) { b.quotas.update(q); });
}

result<void> check_quotas(store& s, std::string_view bucket_id, std::string_view key,
                          uint64_t new_size) {
  GARAGE_ASSIGN_OR_RETURN(auto b, get_bucket(s, bucket_id));
  const bucket_quotas& q = b.quotas.value;
  if (!q.max_objects && !q.max_size) return ok();
  GARAGE_ASSIGN_OR_RETURN(auto counts, get_counts(s, bucket_id));
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.objects().get(bucket_id, key));
  const object_version* cur = existing ? existing->current() : nullptr;
  int64_t object_diff = cur ? 0 : 1;
  int64_t size_diff = static_cast<int64_t>(new_size) - (cur ? int64_t(cur->meta.size) : 0);
  if (q.max_objects && object_diff > 0 &&
      counts.objects + object_diff > static_cast<int64_t>(*q.max_objects)) {
    return error(errc::permission_denied,
                 fmt::format("Object quota is reached, maximum objects for this bucket: {}",
                             *q.max_objects));
  }
  if (q.max_size && size_diff > 0 && counts.bytes + size_diff > static_cast<int64_t>(*q.max_size)) {
    return error(errc::permission_denied,
                 fmt::format("Bucket size quota is reached, maximum total size of objects for "
                             "this bucket: {}. The bucket is already {} bytes, and this object "
                             "would add {} bytes.",
                             *q.max_size, counts.bytes, size_diff));
  }
  return ok();
}

result<void> check_size_quota_not_reached(store& s, std::string_view bucket_id) {
  GARAGE_ASSIGN_OR_RETURN(auto b, get_bucket(s, bucket_id));
  const auto& max = b.quotas.value.max_size;
  if (!max) return ok();
  GARAGE_ASSIGN_OR_RETURN(auto counts, get_counts(s, bucket_id));
  if (counts.bytes >= static_cast<int64_t>(*max)) {
    return error(errc::permission_denied,
                 fmt::format("Bucket size quota is reached, maximum total size of objects for "
                             "this bucket: {}. The bucket is already {} bytes.",
                             *max, counts.bytes));
  }
  return ok();
}

}  // namespace garage::model
