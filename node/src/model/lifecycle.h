// A bucket's lifecycle configuration (what PutBucketLifecycleConfiguration
// accepted), stored in bucket.lifecycle as the JSON written by
// lifecycle_to_json, and the predicates the lifecycle worker
// (model/lifecycle_worker.h) applies. Pure functions, thread-safe.
//
// Supported actions: Expiration (Days or Date) of current objects and
// AbortIncompleteMultipartUpload (DaysAfterInitiation); filters by prefix and
// object size. The API layer refuses everything else before storing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace garage::model {

inline constexpr uint64_t kDayMsec = 86'400'000;

struct lifecycle_filter {
  std::string prefix;
  std::optional<uint64_t> size_greater_than;  // ObjectSizeGreaterThan (strict)
  std::optional<uint64_t> size_less_than;     // ObjectSizeLessThan (strict)
  bool operator==(const lifecycle_filter&) const = default;
};

struct lifecycle_rule {
  std::string id;
  bool enabled = true;
  lifecycle_filter filter;
  // Expiration: at most one of the two.
  std::optional<uint32_t> expiration_days;
  std::optional<uint64_t> expiration_date_msec;  // midnight UTC
  std::optional<uint32_t> abort_incomplete_upload_days;
  bool operator==(const lifecycle_rule&) const = default;
};

struct lifecycle_config {
  std::vector<lifecycle_rule> rules;
  bool operator==(const lifecycle_config&) const = default;
};

std::string lifecycle_to_json(const lifecycle_config& c);
// corrupted when the document is not one lifecycle_to_json writes.
result<lifecycle_config> lifecycle_from_json(std::string_view json);

// Whether an object `key` of `size` bytes is selected by the filter.
bool filter_matches(const lifecycle_filter& f, std::string_view key, uint64_t size);

// Whether an object last written at `written_msec` is expired by the rule's
// Expiration at `now_msec`. As AWS: Days counts from the write time rounded up
// to the next midnight UTC; Date is the moment from which objects expire.
// False when the rule is disabled or has no Expiration.
bool object_expired(const lifecycle_rule& r, uint64_t written_msec, uint64_t now_msec);

// Whether an incomplete multipart upload started at `initiated_msec` is due
// for abort by the rule's AbortIncompleteMultipartUpload (same rounding).
bool upload_abort_due(const lifecycle_rule& r, uint64_t initiated_msec, uint64_t now_msec);

}  // namespace garage::model
