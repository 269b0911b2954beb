// The bucket table (keyed by bucket id) and the global alias table (keyed by
// alias name). Both are small and, in a cluster, fully replicated.
//
// A bucket is reachable by the S3 API through its global aliases; which access
// keys may use it is kept on both sides (bucket.keys and key.buckets) and
// updated together, in one transaction, by model/bucket_ops.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/permission.h"
#include "util/crdt/lww.h"
#include "util/crdt/lww_map.h"
#include "util/result.h"

namespace garage::model {

// Limits enforced on writes (nullopt: no limit).
struct bucket_quotas {
  std::optional<uint64_t> max_size;     // bytes
  std::optional<uint64_t> max_objects;  // objects
  auto operator<=>(const bucket_quotas&) const = default;
};

struct bucket {
  std::string id;
  uint64_t created_msec = 0;
  // Monotonic: a deleted bucket keeps only its id, so that it stays deleted.
  bool deleted = false;
  crdt::lww_map<std::string, bool> aliases;            // global alias → active
  crdt::lww_map<std::string, bucket_permission> keys;  // access key id → permission
  // Aliases local to an access key, "<key id>/<name>" → active; the key's side
  // (access_key::local_aliases) is updated in the same transaction.
  crdt::lww_map<std::string, bool> local_aliases;
  // Configuration documents, each the canonical JSON of what the API accepted
  // (empty: not configured). Parsed by the layer that applies them: CORS by
  // api/s3, website by the web endpoint, lifecycle by the model's worker.
  crdt::lww<std::string> cors;
  crdt::lww<std::string> website;
  crdt::lww<std::string> lifecycle;
  crdt::lww<bucket_quotas> quotas;

  std::string partition_key() const { return id; }
  std::string sort_key() const { return {}; }
  void merge(const bucket& other);
  bool is_tombstone() const { return deleted; }
  std::string encode() const;
  static result<bucket> decode(std::string_view bytes);
  bool operator==(const bucket&) const = default;
};

struct bucket_alias {
  std::string name;
  crdt::lww<std::string> bucket_id;  // empty: the alias points nowhere

  std::string partition_key() const { return name; }
  std::string sort_key() const { return {}; }
  void merge(const bucket_alias& other) { bucket_id.merge(other.bucket_id); }
  bool is_tombstone() const { return bucket_id.value.empty(); }
  std::string encode() const;
  static result<bucket_alias> decode(std::string_view bytes);
  bool operator==(const bucket_alias&) const = default;
};

}  // namespace garage::model
