#include "api/s3/router.h"

#include <gtest/gtest.h>

namespace garage::s3 {
namespace {

using ek = endpoint_kind;

s3_result<parsed_request> route(std::string method, std::string target,
                                std::string host = "localhost:3900",
                                std::vector<std::pair<std::string, std::string>> extra = {},
                                std::string_view root = ".s3.garage.localhost") {
  http::request_head h;
  h.method = std::move(method);
  h.target = std::move(target);
  h.headers.add("Host", host);
  for (auto& [n, v] : extra) h.headers.add(n, v);
  return route_request(h, root);
}

ek kind(std::string method, std::string target,
        std::vector<std::pair<std::string, std::string>> extra = {}) {
  auto r = route(std::move(method), target, "localhost", std::move(extra));
  EXPECT_TRUE(r) << target << ": " << (r ? "" : r.error().message);
  return r ? r->kind : ek::list_buckets;
}

TEST(router, path_style) {
  auto r = route("GET", "/bucket/dir/a%20b%2Bc.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, ek::get_object);
  EXPECT_EQ(r->bucket, "bucket");
  EXPECT_EQ(r->key, "dir/a b+c.txt");
  EXPECT_FALSE(r->virtual_host);

  r = route("GET", "/bucket/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, ek::list_objects);
  EXPECT_EQ(r->key, "");

  r = route("GET", "/bucket//leading-slash");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->key, "/leading-slash");
}

TEST(router, virtual_host_style) {
  for (std::string host : {"bucket.s3.garage.localhost", "bucket.s3.garage.localhost:3900",
                           "Bucket.S3.Garage.Localhost."}) {
    auto r = route("GET", "/some/key?versionId=v1", host);
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->bucket, "bucket");
    EXPECT_EQ(r->key, "some/key");
    EXPECT_TRUE(r->virtual_host);
    EXPECT_EQ(r->version_id, "v1");
  }
  auto r = route("GET", "/?list-type=2", "my.dotted.bucket.s3.example.com", {}, "s3.example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bucket, "my.dotted.bucket");
  EXPECT_EQ(r->kind, ek::list_objects_v2);
  // The root domain itself, or another host: path style.
  r = route("GET", "/bucket/key", "s3.garage.localhost:3900");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bucket, "bucket");
  EXPECT_EQ(r->key, "key");
  r = route("GET", "/bucket/key", "[::1]:3900");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bucket, "bucket");
  r = route("GET", "/bucket/key", "bucket.s3.garage.localhost", {}, "");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->virtual_host);
}

TEST(router, service_level) {
  EXPECT_EQ(kind("GET", "/"), ek::list_buckets);
  auto r = route("PUT", "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::method_not_allowed);
  EXPECT_EQ(kind("OPTIONS", "/bucket/key"), ek::options_preflight);
}

TEST(router, bucket_endpoints) {
  EXPECT_EQ(kind("PUT", "/b"), ek::create_bucket);
  EXPECT_EQ(kind("HEAD", "/b"), ek::head_bucket);
  EXPECT_EQ(kind("DELETE", "/b"), ek::delete_bucket);
  EXPECT_EQ(kind("GET", "/b?location"), ek::get_bucket_location);
  EXPECT_EQ(kind("GET", "/b?prefix=a&delimiter=%2F"), ek::list_objects);
  EXPECT_EQ(kind("GET", "/b?list-type=2&prefix=a"), ek::list_objects_v2);
  EXPECT_EQ(kind("GET", "/b?versions"), ek::list_object_versions);
  EXPECT_EQ(kind("GET", "/b?uploads"), ek::list_multipart_uploads);
  EXPECT_EQ(kind("POST", "/b?delete"), ek::delete_objects);
  EXPECT_EQ(kind("POST", "/b", {{"Content-Type", "multipart/form-data; boundary=x"}}),
            ek::post_object);
  struct {
    const char* q;
    ek get, put, del;
  } subs[] = {
      {"cors", ek::get_bucket_cors, ek::put_bucket_cors, ek::delete_bucket_cors},
      {"website", ek::get_bucket_website, ek::put_bucket_website, ek::delete_bucket_website},
      {"lifecycle", ek::get_bucket_lifecycle_configuration, ek::put_bucket_lifecycle_configuration,
       ek::delete_bucket_lifecycle},
      {"policy", ek::get_bucket_policy, ek::put_bucket_policy, ek::delete_bucket_policy},
      {"tagging", ek::get_bucket_tagging, ek::put_bucket_tagging, ek::delete_bucket_tagging},
      {"encryption", ek::get_bucket_encryption, ek::put_bucket_encryption,
       ek::delete_bucket_encryption},
      {"replication", ek::get_bucket_replication, ek::put_bucket_replication,
       ek::delete_bucket_replication},
      {"ownershipControls", ek::get_bucket_ownership_controls, ek::put_bucket_ownership_controls,
       ek::delete_bucket_ownership_controls},
      {"publicAccessBlock", ek::get_public_access_block, ek::put_public_access_block,
       ek::delete_public_access_block},
      {"inventory&id=x", ek::get_bucket_inventory_configuration,
       ek::put_bucket_inventory_configuration, ek::delete_bucket_inventory_configuration},
      {"metrics&id=x", ek::get_bucket_metrics_configuration, ek::put_bucket_metrics_configuration,
       ek::delete_bucket_metrics_configuration},
      {"analytics&id=x", ek::get_bucket_analytics_configuration,
       ek::put_bucket_analytics_configuration, ek::delete_bucket_analytics_configuration},
      {"intelligent-tiering&id=x", ek::get_bucket_intelligent_tiering_configuration,
       ek::put_bucket_intelligent_tiering_configuration,
       ek::delete_bucket_intelligent_tiering_configuration},
  };
  for (auto& s : subs) {
    std::string t = std::string("/b?") + s.q;
    EXPECT_EQ(kind("GET", t), s.get) << t;
    EXPECT_EQ(kind("PUT", t), s.put) << t;
    EXPECT_EQ(kind("DELETE", t), s.del) << t;
  }
  struct {
    const char* q;
    ek get, put;
  } get_put[] = {
      {"versioning", ek::get_bucket_versioning, ek::put_bucket_versioning},
      {"acl", ek::get_bucket_acl, ek::put_bucket_acl},
      {"logging", ek::get_bucket_logging, ek::put_bucket_logging},
      {"notification", ek::get_bucket_notification_configuration,
       ek::put_bucket_notification_configuration},
      {"accelerate", ek::get_bucket_accelerate_configuration,
       ek::put_bucket_accelerate_configuration},
      {"requestPayment", ek::get_bucket_request_payment, ek::put_bucket_request_payment},
      {"object-lock", ek::get_object_lock_configuration, ek::put_object_lock_configuration},
  };
  for (auto& s : get_put) {
    std::string t = std::string("/b?") + s.q;
    EXPECT_EQ(kind("GET", t), s.get) << t;
    EXPECT_EQ(kind("PUT", t), s.put) << t;
  }
  EXPECT_EQ(kind("GET", "/b?policyStatus"), ek::get_bucket_policy_status);
  EXPECT_EQ(kind("GET", "/b?inventory"), ek::list_bucket_inventory_configurations);
  EXPECT_EQ(kind("GET", "/b?metrics"), ek::list_bucket_metrics_configurations);
  EXPECT_EQ(kind("GET", "/b?analytics"), ek::list_bucket_analytics_configurations);
  EXPECT_EQ(kind("GET", "/b?intelligent-tiering"),
            ek::list_bucket_intelligent_tiering_configurations);
  auto r = route("DELETE", "/b?versioning");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::method_not_allowed);
  EXPECT_EQ(r.error().status(), 405u);
  EXPECT_FALSE(route("POST", "/b"));
  EXPECT_FALSE(route("PATCH", "/b"));
}

TEST(router, object_endpoints) {
  EXPECT_EQ(kind("GET", "/b/k"), ek::get_object);
  EXPECT_EQ(kind("HEAD", "/b/k"), ek::head_object);
  EXPECT_EQ(kind("PUT", "/b/k"), ek::put_object);
  EXPECT_EQ(kind("PUT", "/b/k", {{"x-amz-copy-source", "/src/key"}}), ek::copy_object);
  EXPECT_EQ(kind("DELETE", "/b/k"), ek::delete_object);
  EXPECT_EQ(kind("POST", "/b/k?uploads"), ek::create_multipart_upload);
  EXPECT_EQ(kind("PUT", "/b/k?partNumber=3&uploadId=u"), ek::upload_part);
  EXPECT_EQ(kind("PUT", "/b/k?partNumber=3&uploadId=u", {{"x-amz-copy-source", "s/k"}}),
            ek::upload_part_copy);
  EXPECT_EQ(kind("POST", "/b/k?uploadId=u"), ek::complete_multipart_upload);
  EXPECT_EQ(kind("DELETE", "/b/k?uploadId=u"), ek::abort_multipart_upload);
  EXPECT_EQ(kind("GET", "/b/k?uploadId=u"), ek::list_parts);
  EXPECT_EQ(kind("GET", "/b/k?tagging"), ek::get_object_tagging);
  EXPECT_EQ(kind("PUT", "/b/k?tagging"), ek::put_object_tagging);
  EXPECT_EQ(kind("DELETE", "/b/k?tagging"), ek::delete_object_tagging);
  EXPECT_EQ(kind("GET", "/b/k?acl"), ek::get_object_acl);
  EXPECT_EQ(kind("PUT", "/b/k?acl"), ek::put_object_acl);
  EXPECT_EQ(kind("GET", "/b/k?retention"), ek::get_object_retention);
  EXPECT_EQ(kind("PUT", "/b/k?retention"), ek::put_object_retention);
  EXPECT_EQ(kind("GET", "/b/k?legal-hold"), ek::get_object_legal_hold);
  EXPECT_EQ(kind("PUT", "/b/k?legal-hold"), ek::put_object_legal_hold);
  EXPECT_EQ(kind("POST", "/b/k?restore"), ek::restore_object);
  EXPECT_EQ(kind("POST", "/b/k?select&select-type=2"), ek::select_object_content);
  EXPECT_EQ(kind("GET", "/b/k?attributes"), ek::get_object_attributes);
  EXPECT_EQ(kind("GET", "/b/k?torrent"), ek::get_object_torrent);
  // The x-id parameter newer SDKs add changes nothing.
  EXPECT_EQ(kind("GET", "/b/k?x-id=GetObject"), ek::get_object);

  auto r = route("GET", "/b/k?partNumber=2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->part_number, 2u);
  for (const char* bad : {"/b/k?partNumber=0", "/b/k?partNumber=10001", "/b/k?partNumber=x"}) {
    auto e = route("GET", bad);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code, s3_errc::invalid_argument);
  }
  EXPECT_FALSE(route("PUT", "/b/k?uploadId=u"));
  EXPECT_FALSE(route("POST", "/b/k"));
}

TEST(router, bad_paths_and_keys) {
  auto r = route("GET", "/b/%zz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::invalid_uri);
  EXPECT_FALSE(route("GET", "no-slash"));
  r = route("GET", "/b/" + std::string(1025, 'k'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::key_too_long);
  EXPECT_TRUE(route("GET", "/b/" + std::string(1024, 'k')));
  r = route("GET", "/b/%FF%FE");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::invalid_argument);
  EXPECT_TRUE(route("GET", "/b/%E6%97%A5%F0%9F%98%80"));
}

TEST(router, endpoint_names) {
  EXPECT_STREQ(endpoint_name(ek::list_buckets), "ListBuckets");
  EXPECT_STREQ(endpoint_name(ek::list_objects_v2), "ListObjectsV2");
  EXPECT_STREQ(endpoint_name(ek::delete_objects), "DeleteObjects");
  EXPECT_STREQ(endpoint_name(ek::upload_part_copy), "UploadPartCopy");
  EXPECT_STREQ(endpoint_name(ek::get_object_torrent), "GetObjectTorrent");
}

TEST(router, bucket_names) {
  for (std::string good : {std::string("abc"), std::string("my-bucket"), std::string("my.bucket.1"),
                           std::string("123"), std::string(63, 'a')})
    EXPECT_TRUE(is_valid_bucket_name(good)) << good;
  for (std::string bad : {std::string("ab"), std::string(64, 'a'), std::string("Bucket"),
                          std::string("-abc"), std::string("abc-"), std::string(".abc"),
                          std::string("a..b"), std::string("a_b"), std::string("192.168.1.1"),
                          std::string("xn--abc"), std::string("abc-s3alias"), std::string("a b c")})
    EXPECT_FALSE(is_valid_bucket_name(bad)) << bad;
}

TEST(router, copy_source) {
  auto c = parse_copy_source("/src-bucket/dir/a%20b.txt?versionId=v2");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bucket, "src-bucket");
  EXPECT_EQ(c->key, "dir/a b.txt");
  EXPECT_EQ(c->version_id, "v2");
  c = parse_copy_source("b/k");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->key, "k");
  EXPECT_FALSE(c->version_id);
  for (const char* bad : {"", "/", "bucket", "bucket/", "/key-only", "b/%zz"})
    EXPECT_FALSE(parse_copy_source(bad)) << bad;
}

}  // namespace
}  // namespace garage::s3
