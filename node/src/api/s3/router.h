// Turns an HTTP request head into a typed S3 endpoint: which operation, on
// which bucket and key (path-style or virtual-host-style addressing). Pure
// functions, thread-safe. Knowing an endpoint does not mean it is implemented:
// the handler layer answers 501 NotImplemented for those it does not serve.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/common/http.h"
#include "api/s3/s3_error.h"

namespace garage::s3 {

// Every S3 operation of the AWS API reference the router recognises.
enum class endpoint_kind {
  // service
  list_buckets,
  options_preflight,
  // bucket
  create_bucket,
  head_bucket,
  delete_bucket,
  get_bucket_location,
  list_objects,
  list_objects_v2,
  list_object_versions,
  list_multipart_uploads,
  delete_objects,
  post_object,
  get_bucket_acl,
  put_bucket_acl,
  get_bucket_cors,
  put_bucket_cors,
  delete_bucket_cors,
  get_bucket_website,
  put_bucket_website,
  delete_bucket_website,
  get_bucket_lifecycle_configuration,
  put_bucket_lifecycle_configuration,
  delete_bucket_lifecycle,
  get_bucket_versioning,
  put_bucket_versioning,
  get_bucket_policy,
  put_bucket_policy,
  delete_bucket_policy,
  get_bucket_policy_status,
  get_bucket_tagging,
  put_bucket_tagging,
  delete_bucket_tagging,
  get_bucket_encryption,
  put_bucket_encryption,
  delete_bucket_encryption,
  get_bucket_replication,
  put_bucket_replication,
  delete_bucket_replication,
  get_bucket_logging,
  put_bucket_logging,
  get_bucket_notification_configuration,
  put_bucket_notification_configuration,
  get_bucket_ownership_controls,
  put_bucket_ownership_controls,
  delete_bucket_ownership_controls,
  get_public_access_block,
  put_public_access_block,
  delete_public_access_block,
  get_bucket_accelerate_configuration,
  put_bucket_accelerate_configuration,
  get_bucket_request_payment,
  put_bucket_request_payment,
  get_object_lock_configuration,
  put_object_lock_configuration,
  get_bucket_inventory_configuration,
  put_bucket_inventory_configuration,
  delete_bucket_inventory_configuration,
  list_bucket_inventory_configurations,
  get_bucket_metrics_configuration,
  put_bucket_metrics_configuration,
  delete_bucket_metrics_configuration,
  list_bucket_metrics_configurations,
  get_bucket_analytics_configuration,
  put_bucket_analytics_configuration,
  delete_bucket_analytics_configuration,
  list_bucket_analytics_configurations,
  get_bucket_intelligent_tiering_configuration,
  put_bucket_intelligent_tiering_configuration,
  delete_bucket_intelligent_tiering_configuration,
  list_bucket_intelligent_tiering_configurations,
  // object
  get_object,
  head_object,
  put_object,
  copy_object,
  delete_object,
  create_multipart_upload,
  upload_part,
  upload_part_copy,
  complete_multipart_upload,
  abort_multipart_upload,
  list_parts,
  get_object_tagging,
  put_object_tagging,
  delete_object_tagging,
  get_object_acl,
  put_object_acl,
  get_object_retention,
  put_object_retention,
  get_object_legal_hold,
  put_object_legal_hold,
  restore_object,
  select_object_content,
  get_object_attributes,
  get_object_torrent,
};

// The AWS operation name ("GetObject", "ListObjectsV2", ...): a metrics label.
const char* endpoint_name(endpoint_kind k);

struct parsed_request {
  endpoint_kind kind = endpoint_kind::list_buckets;
  std::string bucket;         // empty for service-level endpoints
  std::string key;            // decoded; empty for bucket-level endpoints
  bool virtual_host = false;  // bucket came from the Host header
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::optional<std::string> upload_id;
  std::optional<uint32_t> part_number;  // 1..10000
  std::optional<std::string> version_id;

  // First value of a query parameter (exact case), if present.
  std::optional<std::string_view> param(std::string_view name) const;
};

// Routes a request. `root_domain` is the configured S3 root domain
// (".s3.garage.localhost" or "s3.example.com"; leading dot optional; empty
// disables virtual-host-style addressing): a Host of "<bucket>.<root_domain>"
// (with or without a port) addresses <bucket>; any other Host means path
// style ("/<bucket>/<key>"). Errors: InvalidURI (bad percent-encoding),
// KeyTooLongError, InvalidArgument (key not UTF-8, bad partNumber),
// MethodNotAllowed (no S3 operation for this method and resource).
s3_result<parsed_request> route_request(const http::request_head& head,
                                        std::string_view root_domain);

// S3 bucket naming rules: 3-63 characters of a-z 0-9 . -, starting and ending
// with a letter or digit, no "..", not an IPv4 address, none of the reserved
// prefixes/suffixes (xn--, sthree-, -s3alias, --ol-s3).
bool is_valid_bucket_name(std::string_view name);
// Keys: at most 1024 bytes of UTF-8. KeyTooLongError or InvalidArgument.
s3_result<void> validate_object_key(std::string_view key);

// The value of x-amz-copy-source: "[/]bucket/key[?versionId=id]", URL-encoded.
struct copy_source {
  std::string bucket;
  std::string key;
  std::optional<std::string> version_id;
};
// InvalidArgument if malformed.
s3_result<copy_source> parse_copy_source(std::string_view header);

}  // namespace garage::s3
