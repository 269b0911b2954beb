// Bringing a bucket to what a GarageBucket asks for, through the admin API.
// Idempotent: every function reads first and only writes what differs, so a
// reconciler may call it at every pass.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "garage/admin_client.h"
#include "util/result.h"

namespace garage::op::admin {

struct bucket_spec {
  std::string global_alias{};          // the bucket name S3 clients use
  std::optional<uint64_t> max_size{};  // quota in bytes; nullopt: none
  std::optional<uint64_t> max_objects{};
  bool website = false;  // website access on (with the documents below) or off
  std::string index_document = "index.html";
  std::string error_document{};  // empty: none
};

struct bucket_state {
  std::string id{};  // 64 hex digits
  uint64_t objects = 0;
  uint64_t bytes = 0;
  uint64_t unfinished_uploads = 0;
  bool created = false;  // this call created the bucket
  bool updated = false;  // this call changed its quotas or website access
};

// Finds the bucket by global alias (GetBucketInfo?globalAlias=), creates it
// when missing (CreateBucket), then sets quotas and website access to the
// spec with UpdateBucket, only for what differs. Errors as the admin client
// maps them (invalid_argument for a name S3 refuses, unavailable, ...).
result<bucket_state> ensure_bucket(admin_client& c, const bucket_spec& spec);

// Deletes the bucket of this global alias. true when it was deleted or did
// not exist. errc::conflict while it still holds objects or unfinished
// uploads (the message says how many).
result<bool> delete_bucket(admin_client& c, const std::string& global_alias);

}  // namespace garage::op::admin
