// Bringing an access key to what a GarageAccessKey asks for, through the
// admin API. Idempotent, like sync_bucket.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "garage/admin_client.h"
#include "util/result.h"

namespace garage::op::admin {

struct key_permission {
  std::string bucket_alias{};  // a global alias
  bool read = false, write = false, owner = false;
};

struct key_spec {
  std::string name{};
  std::vector<key_permission> permissions{};  // several items for one bucket add up
};

struct key_state {
  std::string id{};      // "GK" + 24 hex digits
  std::string secret{};  // 64 hex digits
  bool created = false;  // this call created the key
};

// When existing_id names a key that exists: renames it if needed, then makes
// its bucket permissions exactly the spec (allows what is missing, denies
// what is extra, on every bucket the key has access to) and returns its
// secret (GetKeyInfo?showSecretKey=true). When existing_id is absent or not
// found: CreateKey, then the permissions. Every bucket alias is resolved
// before anything is written: one that does not exist is errc::not_found
// naming the bucket, and nothing is created or changed.
result<key_state> ensure_key(admin_client& c, const std::optional<std::string>& existing_id,
                             const key_spec& spec);

// DeleteKey; a key that does not exist is fine.
result<void> delete_key(admin_client& c, const std::string& id);

}  // namespace garage::op::admin
