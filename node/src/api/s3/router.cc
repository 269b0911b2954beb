#include "api/s3/router.h"

#include <algorithm>
#include <charconv>
#include <iterator>

#include "model/bucket_ops.h"
#include "util/encoding.h"

namespace garage::s3 {
namespace {

using ek = endpoint_kind;

// Indexed by endpoint_kind.
constexpr const char* k_names[] = {
    "ListBuckets",
    "OptionsPreflight",
    "CreateBucket",
    "HeadBucket",
    "DeleteBucket",
    "GetBucketLocation",
    "ListObjects",
    "ListObjectsV2",
    "ListObjectVersions",
    "ListMultipartUploads",
    "DeleteObjects",
    "PostObject",
    "GetBucketAcl",
    "PutBucketAcl",
    "GetBucketCors",
    "PutBucketCors",
    "DeleteBucketCors",
    "GetBucketWebsite",
    "PutBucketWebsite",
    "DeleteBucketWebsite",
    "GetBucketLifecycleConfiguration",
    "PutBucketLifecycleConfiguration",
    "DeleteBucketLifecycle",
    "GetBucketVersioning",
    "PutBucketVersioning",
    "GetBucketPolicy",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketTagging",
    "PutBucketTagging",
    "DeleteBucketTagging",
    "GetBucketEncryption",
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "GetBucketReplication",
    "PutBucketReplication",
    "DeleteBucketReplication",
    "GetBucketLogging",
    "PutBucketLogging",
    "GetBucketNotificationConfiguration",
    "PutBucketNotificationConfiguration",
    "GetBucketOwnershipControls",
    "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls",
    "GetPublicAccessBlock",
    "PutPublicAccessBlock",
    "DeletePublicAccessBlock",
    "GetBucketAccelerateConfiguration",
    "PutBucketAccelerateConfiguration",
    "GetBucketRequestPayment",
    "PutBucketRequestPayment",
    "GetObjectLockConfiguration",
    "PutObjectLockConfiguration",
    "GetBucketInventoryConfiguration",
    "PutBucketInventoryConfiguration",
    "DeleteBucketInventoryConfiguration",
    "ListBucketInventoryConfigurations",
    "GetBucketMetricsConfiguration",
    "PutBucketMetricsConfiguration",
    "DeleteBucketMetricsConfiguration",
    "ListBucketMetricsConfigurations",
    "GetBucketAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations",
    "GetBucketIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations",
    "GetObject",
    "HeadObject",
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "GetObjectAcl",
    "PutObjectAcl",
    "GetObjectRetention",
    "PutObjectRetention",
    "GetObjectLegalHold",
    "PutObjectLegalHold",
    "RestoreObject",
    "SelectObjectContent",
    "GetObjectAttributes",
    "GetObjectTorrent",
};
static_assert(std::size(k_names) == static_cast<size_t>(ek::get_object_torrent) + 1,
              "k_names must list every endpoint_kind in order");

// A bucket sub-resource: the query flag and the operation for each method
// (nullopt: that method has no operation on it).
struct sub_resource {
  const char* flag;
  std::optional<ek> get, put, del;
};

// Checked in order; "?id=" selects one configuration of the *-configuration lists.
const sub_resource k_bucket_subresources[] = {
    {"location", ek::get_bucket_location, {}, {}},
    {"acl", ek::get_bucket_acl, ek::put_bucket_acl, {}},
    {"cors", ek::get_bucket_cors, ek::put_bucket_cors, ek::delete_bucket_cors},
    {"website", ek::get_bucket_website, ek::put_bucket_website, ek::delete_bucket_website},
    {"lifecycle", ek::get_bucket_lifecycle_configuration, ek::put_bucket_lifecycle_configuration,
     ek::delete_bucket_lifecycle},
    {"versioning", ek::get_bucket_versioning, ek::put_bucket_versioning, {}},
    {"policyStatus", ek::get_bucket_policy_status, {}, {}},
    {"policy", ek::get_bucket_policy, ek::put_bucket_policy, ek::delete_bucket_policy},
    {"tagging", ek::get_bucket_tagging, ek::put_bucket_tagging, ek::delete_bucket_tagging},
    {"encryption", ek::get_bucket_encryption, ek::put_bucket_encryption,
     ek::delete_bucket_encryption},
    {"replication", ek::get_bucket_replication, ek::put_bucket_replication,
     ek::delete_bucket_replication},
    {"logging", ek::get_bucket_logging, ek::put_bucket_logging, {}},
    {"notification",
     ek::get_bucket_notification_configuration,
     ek::put_bucket_notification_configuration,
     {}},
    {"ownershipControls", ek::get_bucket_ownership_controls, ek::put_bucket_ownership_controls,
     ek::delete_bucket_ownership_controls},
    {"publicAccessBlock", ek::get_public_access_block, ek::put_public_access_block,
     ek::delete_public_access_block},
    {"accelerate",
     ek::get_bucket_accelerate_configuration,
     ek::put_bucket_accelerate_configuration,
     {}},
    {"requestPayment", ek::get_bucket_request_payment, ek::put_bucket_request_payment, {}},
    {"object-lock", ek::get_object_lock_configuration, ek::put_object_lock_configuration, {}},
    {"versions", ek::list_object_versions, {}, {}},
    {"uploads", ek::list_multipart_uploads, {}, {}},
};

// Sub-resources holding a list of configurations: GET without ?id lists them.
struct config_list {
  const char* flag;
  ek get, put, del, list;
};
const config_list k_bucket_config_lists[] = {
    {"inventory", ek::get_bucket_inventory_configuration, ek::put_bucket_inventory_configuration,
     ek::delete_bucket_inventory_configuration, ek::list_bucket_inventory_configurations},
    {"metrics", ek::get_bucket_metrics_configuration, ek::put_bucket_metrics_configuration,
     ek::delete_bucket_metrics_configuration, ek::list_bucket_metrics_configurations},
    {"analytics", ek::get_bucket_analytics_configuration, ek::put_bucket_analytics_configuration,
     ek::delete_bucket_analytics_configuration, ek::list_bucket_analytics_configurations},
    {"intelligent-tiering", ek::get_bucket_intelligent_tiering_configuration,
     ek::put_bucket_intelligent_tiering_configuration,
     ek::delete_bucket_intelligent_tiering_configuration,
     ek::list_bucket_intelligent_tiering_configurations},
};

s3_error not_allowed() { return make_error(s3_errc::method_not_allowed); }

bool has(const parsed_request& r, std::string_view flag) { return r.param(flag).has_value(); }

s3_result<ek> route_bucket(const http::request_head& head, const parsed_request& r) {
  const std::string& m = head.method;
  if (m == "HEAD") return ek::head_bucket;
  if (m == "POST") {
    if (has(r, "delete")) return ek::delete_objects;
    auto ct = head.headers.get("content-type");
    if (ct && http::to_lower(ct->substr(0, 19)) == "multipart/form-data") return ek::post_object;
    return not_allowed();
  }
  if (m != "GET" && m != "PUT" && m != "DELETE") return not_allowed();
  for (const auto& s : k_bucket_subresources) {
    if (!has(r, s.flag)) continue;
    auto k = m == "GET" ? s.get : m == "PUT" ? s.put : s.del;
    if (!k) return not_allowed();
    return *k;
  }
  for (const auto& s : k_bucket_config_lists) {
    if (!has(r, s.flag)) continue;
    if (m == "GET") return has(r, "id") ? s.get : s.list;
    return m == "PUT" ? s.put : s.del;
  }
  if (m == "PUT") return ek::create_bucket;
  if (m == "DELETE") return ek::delete_bucket;
  auto list_type = r.param("list-type");
  if (list_type && *list_type == "2") return ek::list_objects_v2;
  return ek::list_objects;
}

s3_result<ek> route_object(const http::request_head& head, const parsed_request& r) {
  const std::string& m = head.method;
  bool upload = r.upload_id.has_value();
  if (m == "HEAD") return ek::head_object;
  if (m == "GET") {
    if (upload) return ek::list_parts;
    if (has(r, "tagging")) return ek::get_object_tagging;
    if (has(r, "acl")) return ek::get_object_acl;
    if (has(r, "retention")) return ek::get_object_retention;
    if (has(r, "legal-hold")) return ek::get_object_legal_hold;
    if (has(r, "attributes")) return ek::get_object_attributes;
    if (has(r, "torrent")) return ek::get_object_torrent;
    return ek::get_object;
  }
  bool copy = head.headers.has("x-amz-copy-source");
  if (m == "PUT") {
    if (upload || r.part_number) {
      if (!upload || !r.part_number)
        return make_error(s3_errc::invalid_request,
                          "UploadPart needs both partNumber and uploadId");
      return copy ? ek::upload_part_copy : ek::upload_part;
    }
    if (has(r, "tagging")) return ek::put_object_tagging;
    if (has(r, "acl")) return ek::put_object_acl;
    if (has(r, "retention")) return ek::put_object_retention;
    if (has(r, "legal-hold")) return ek::put_object_legal_hold;
    return copy ? ek::copy_object : ek::put_object;
  }
  if (m == "POST") {
    if (has(r, "uploads")) return ek::create_multipart_upload;
    if (upload) return ek::complete_multipart_upload;
    if (has(r, "restore")) return ek::restore_object;
    if (has(r, "select")) return ek::select_object_content;
    return not_allowed();
  }
  if (m == "DELETE") {
    if (upload) return ek::abort_multipart_upload;
    if (has(r, "tagging")) return ek::delete_object_tagging;
    return ek::delete_object;
  }
  return not_allowed();
}

// Host without port, lower case, without a trailing dot. Empty for IPv6 literals.
std::string host_name(std::string_view host) {
  if (host.starts_with('[')) return {};
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  while (host.ends_with('.')) host.remove_suffix(1);
  return http::to_lower(host);
}

// The bucket named by a virtual-host-style Host, if any.
std::optional<std::string> vhost_bucket(const http::request_head& head,
                                        std::string_view root_domain) {
  while (root_domain.starts_with('.')) root_domain.remove_prefix(1);
  if (root_domain.empty()) return std::nullopt;
  auto host = head.headers.get("host");
  if (!host) return std::nullopt;
  std::string h = host_name(*host);
  std::string root = "." + http::to_lower(root_domain);
  if (h.size() <= root.size() || !h.ends_with(root)) return std::nullopt;
  return h.substr(0, h.size() - root.size());
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c >> 5) == 6) {
      n = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 14) {
      n = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 30) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t j = 1; j <= n; ++j) {
      auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

const char* endpoint_name(endpoint_kind k) { return k_names[static_cast<size_t>(k)]; }

std::optional<std::string_view> parsed_request::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

s3_result<parsed_request> route_request(const http::request_head& head,
                                        std::string_view root_domain) {
  parsed_request r;
  std::string_view path = head.path();
  if (!path.starts_with('/')) return make_error(s3_errc::invalid_uri);
  path.remove_prefix(1);
  if (auto b = vhost_bucket(head, root_domain)) {
    r.bucket = std::move(*b);
    r.virtual_host = true;
  } else {
    size_t slash = path.find('/');
    auto bucket = uri_decode(path.substr(0, slash), false);
    if (!bucket) return make_error(s3_errc::invalid_uri);
    r.bucket = std::move(*bucket);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  auto key = uri_decode(path, false);
  if (!key) return make_error(s3_errc::invalid_uri);
  r.key = std::move(*key);
  if (r.bucket.empty() && !r.key.empty()) return make_error(s3_errc::invalid_uri);
  if (!r.key.empty()) {
    auto ok = validate_object_key(r.key);
    if (!ok) return std::move(ok).error();
  }

  r.query = http::parse_query(head.query());
  if (auto u = r.param("uploadId")) r.upload_id = std::string(*u);
  if (auto v = r.param("versionId")) r.version_id = std::string(*v);
  if (auto p = r.param("partNumber")) {
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(p->data(), p->data() + p->size(), n);
    if (ec != std::errc() || end != p->data() + p->size() || n < 1 || n > 10000)
      return make_error(s3_errc::invalid_argument,
                        "Part number must be an integer between 1 and 10000, inclusive");
    r.part_number = n;
  }

  if (head.method == "OPTIONS") {
    r.kind = ek::options_preflight;
    return r;
  }
  if (r.bucket.empty()) {
    if (head.method != "GET") return not_allowed();
    r.kind = ek::list_buckets;
    return r;
  }
  auto kind = r.key.empty() ? route_bucket(head, r) : route_object(head, r);
  if (!kind) return std::move(kind).error();
  r.kind = *kind;
  return r;
}

bool is_valid_bucket_name(std::string_view name) { return model::is_valid_bucket_name(name); }

s3_result<void> validate_object_key(std::string_view key) {
  if (key.size() > 1024) return make_error(s3_errc::key_too_long);
  if (!valid_utf8(key)) return make_error(s3_errc::invalid_argument, "Object key is not UTF-8");
  return {};
}

s3_result<copy_source> parse_copy_source(std::string_view header) {
  auto bad = [] { return make_error(s3_errc::invalid_argument, "Invalid copy source"); };
  std::optional<std::string> version;
  size_t q = header.find('?');
  if (q != std::string_view::npos) {
    for (auto& [k, v] : http::parse_query(header.substr(q + 1)))
      if (k == "versionId") version = v;
    header = header.substr(0, q);
  }
  auto decoded = uri_decode(header, false);
  if (!decoded) return bad();
  std::string_view s = *decoded;
  if (s.starts_with('/')) s.remove_prefix(1);
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return bad();
  copy_source out{std::string(s.substr(0, slash)), std::string(s.substr(slash + 1)),
                  std::move(version)};
  auto ok = validate_object_key(out.key);
  if (!ok) return std::move(ok).error();
  return out;
}

}  // namespace garage::s3
