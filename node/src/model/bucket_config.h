// A bucket's configuration documents (CORS, website, lifecycle) and quotas:
// each setter is one metadata transaction on the bucket entry; and the quota
// checks the S3 write paths make.
//
// Errors: not_found (no such bucket); permission_denied from the quota checks,
// with Garage's messages ("Object quota is reached, ...", "Bucket size quota
// is reached, ..."): the S3 API answers them 403 AccessDenied, as Garage does.
// Blocking calls: run them off the I/O threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/bucket.h"
#include "util/result.h"

namespace garage::model {

class store;

enum class bucket_document { cors, website, lifecycle };

// Replaces the document (empty: removes it).
result<void> set_bucket_document(store& s, std::string_view bucket_id, bucket_document which,
                                 std::string json);
// The stored document; empty when none.
result<std::string> get_bucket_document(store& s, std::string_view bucket_id,
                                        bucket_document which);
result<void> set_bucket_quotas(store& s, std::string_view bucket_id, bucket_quotas q);

// Refuses a write that makes `key` an object of `new_size` bytes when the
// bucket would then exceed its max_objects or max_size (counting what the
// object replaces). Succeeds at once when the bucket has no quota.
result<void> check_quotas(store& s, std::string_view bucket_id, std::string_view key,
                          uint64_t new_size);
// Refuses more data for a bucket that already holds max_size bytes or more
// (UploadPart, whose final object size is not known yet).
result<void> check_size_quota_not_reached(store& s, std::string_view bucket_id);

}  // namespace garage::model
