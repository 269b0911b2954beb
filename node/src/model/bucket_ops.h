// Operations on buckets, aliases and permissions, shared by the S3 API (create
// and delete bucket, resolve a name) and the admin API. Each mutation is one
// metadata transaction that updates both sides (bucket and key, bucket and
// alias) together.
//
// Errors: not_found (no such bucket/key/alias), already_exists (alias taken),
// conflict (bucket not empty, removing the last alias), invalid_argument (a
// name S3 would refuse).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/bucket.h"
#include "model/counter.h"
#include "model/key.h"
#include "model/permission.h"
#include "util/result.h"

namespace garage::model {

class store;

// The bucket id a global alias points to.
result<std::string> resolve_alias(store& s, std::string_view name);
// A live (not deleted) bucket.
result<bucket> get_bucket(store& s, std::string_view bucket_id);
std::vector<std::string> active_aliases(const bucket& b);
result<bucket_counts> get_counts(store& s, std::string_view bucket_id);

// Creates a bucket with global alias `name` (may be empty: no alias). When
// owner_key_id is given, that key gets read, write and owner on it.
result<bucket> create_bucket(store& s, std::string_view name,
                             std::optional<std::string_view> owner_key_id);
// conflict when it still holds objects or uploads.
result<void> delete_bucket(store& s, std::string_view bucket_id);
result<std::vector<bucket>> list_buckets(store& s);

result<void> add_alias(store& s, std::string_view bucket_id, std::string_view name);
// conflict when `name` is the bucket's last alias, global or local.
result<void> remove_alias(store& s, std::string_view bucket_id, std::string_view name);

// Aliases local to an access key: `name` means bucket_id for key_id only.
// Both sides (key.local_aliases, bucket.local_aliases) change in one
// transaction. already_exists when the key's name points at another bucket;
// not_found for an unknown key or bucket (or, on removal, an alias the key
// does not have for that bucket); conflict when it is the bucket's last alias.
result<void> add_local_alias(store& s, std::string_view bucket_id, std::string_view key_id,
                             std::string_view name);
result<void> remove_local_alias(store& s, std::string_view bucket_id, std::string_view key_id,
                                std::string_view name);
// (key id, name) of the bucket's active local aliases, sorted.
std::vector<std::pair<std::string, std::string>> active_local_aliases(const bucket& b);
// The bucket a key's local alias `name` points to, if it has one (pure).
std::optional<std::string> local_alias_target(const access_key& k, std::string_view name);
// The bucket `name` means for key `k` (null: no key): its local alias if it
// has one, else the global alias, as Garage resolves S3 bucket names.
result<std::string> resolve_bucket_name(store& s, const access_key* k, std::string_view name);

// allow: grants the flags set in `perm`; deny: revokes them.
result<void> allow_key(store& s, std::string_view bucket_id, std::string_view key_id,
                       bucket_permission perm);
result<void> deny_key(store& s, std::string_view bucket_id, std::string_view key_id,
                      bucket_permission perm);

bool is_valid_bucket_name(std::string_view name);

}  // namespace garage::model
