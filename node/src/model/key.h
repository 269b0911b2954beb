// The access key table, keyed by key id.
#pragma once

#include <string>
#include <string_view>

#include "model/permission.h"
#include "util/crdt/lww.h"
#include "util/crdt/lww_map.h"
#include "util/result.h"

namespace garage::model {

struct access_key {
  std::string id;      // "GK…"
  std::string secret;  // set at creation, never changes
  crdt::lww<std::string> name;
  crdt::lww<bool> allow_create_bucket;
  crdt::lww_map<std::string, bucket_permission> buckets;  // bucket id → permission
  // Bucket names only this key sees: name → bucket id (empty: removed). The
  // bucket's side (bucket::local_aliases) is updated in the same transaction.
  crdt::lww_map<std::string, std::string> local_aliases;
  bool deleted = false;  // monotonic; a deleted key keeps only its id

  std::string partition_key() const { return id; }
  std::string sort_key() const { return {}; }
  void merge(const access_key& other);
  bool is_tombstone() const { return deleted; }
  std::string encode() const;
  static result<access_key> decode(std::string_view bytes);
  bool operator==(const access_key&) const = default;

  bucket_permission permission_on(std::string_view bucket_id) const;
};

}  // namespace garage::model
