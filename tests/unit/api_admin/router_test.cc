// Routing and request parsing of the admin API: paths, methods and the JSON
// shapes of Garage's admin API v2.
#include "api/admin/router.h"

#include <gtest/gtest.h>

namespace garage::admin {
namespace {

route must_route(std::string_view method, std::string_view path) {
  auto r = find_route(method, path);
  EXPECT_TRUE(r.has_value()) << method << " " << path << ": " << (r ? "" : r.error().message);
  return r ? *r : route{};
}

template <class T>
T must_parse(std::string_view method, std::string_view path, std::string_view query,
             std::string_view body = {}) {
  auto r = must_route(method, path);
  auto req = parse_request(r, query, body);
  if (!req) {
    ADD_FAILURE() << path << "?" << query << ": " << req.error().code << " " << req.error().message;
    return T{};
  }
  if (!std::holds_alternative<T>(*req)) {
    ADD_FAILURE() << path << " parsed to another request type";
    return T{};
  }
  return std::get<T>(*req);
}

api_error must_fail(std::string_view method, std::string_view path, std::string_view query,
                    std::string_view body = {}) {
  auto r = find_route(method, path);
  if (!r) return r.error();
  auto req = parse_request(*r, query, body);
  EXPECT_FALSE(req.has_value()) << path << "?" << query << " body " << body;
  return req ? api_error{} : req.error();
}

TEST(admin_router, routes_every_served_endpoint_with_its_auth) {
  struct expect {
    const char* method;
    const char* path;
    endpoint ep;
    auth_kind auth;
    bool body;
  };
  const expect cases[] = {
      {"GET", "/health", endpoint::health, auth_kind::none, false},
      {"GET", "/ready", endpoint::ready, auth_kind::none, false},
      {"GET", "/metrics", endpoint::metrics, auth_kind::metrics_token, false},
      {"GET", "/v2/GetClusterHealth", endpoint::get_cluster_health, auth_kind::admin_token, false},
      {"GET", "/v2/GetClusterStatus", endpoint::get_cluster_status, auth_kind::admin_token, false},
      {"GET", "/v2/GetNodeInfo", endpoint::get_node_info, auth_kind::admin_token, false},
      {"GET", "/v2/ListKeys", endpoint::list_keys, auth_kind::admin_token, false},
      {"GET", "/v2/GetKeyInfo", endpoint::get_key_info, auth_kind::admin_token, false},
      {"POST", "/v2/CreateKey", endpoint::create_key, auth_kind::admin_token, true},
      {"POST", "/v2/ImportKey", endpoint::import_key, auth_kind::admin_token, true},
      {"POST", "/v2/UpdateKey", endpoint::update_key, auth_kind::admin_token, true},
      {"POST", "/v2/DeleteKey", endpoint::delete_key, auth_kind::admin_token, false},
      {"GET", "/v2/ListBuckets", endpoint::list_buckets, auth_kind::admin_token, false},
      {"GET", "/v2/GetBucketInfo", endpoint::get_bucket_info, auth_kind::admin_token, false},
      {"POST", "/v2/CreateBucket", endpoint::create_bucket, auth_kind::admin_token, true},
      {"POST", "/v2/UpdateBucket", endpoint::update_bucket, auth_kind::admin_token, true},
      {"POST", "/v2/DeleteBucket", endpoint::delete_bucket, auth_kind::admin_token, false},
      {"POST", "/v2/AllowBucketKey", endpoint::allow_bucket_key, auth_kind::admin_token, true},
      {"POST", "/v2/DenyBucketKey", endpoint::deny_bucket_key, auth_kind::admin_token, true},
      {"POST", "/v2/AddBucketAlias", endpoint::add_bucket_alias, auth_kind::admin_token, true},
      {"POST", "/v2/RemoveBucketAlias", endpoint::remove_bucket_alias, auth_kind::admin_token,
       true},
  };
  for (const auto& c : cases) {
    auto r = must_route(c.method, c.path);
    EXPECT_EQ(r.ep, c.ep) << c.path;
    EXPECT_EQ(r.auth, c.auth) << c.path;
    EXPECT_EQ(r.reads_body, c.body) << c.path;
  }
  EXPECT_EQ(must_route("GET", "/v2/GetKeyInfo").name, "GetKeyInfo");
  EXPECT_EQ(must_route("GET", "/health").name, "Health");
  EXPECT_EQ(must_route("GET", "/ready").name, "Ready");
}

TEST(admin_router, unknown_paths_are_404_and_wrong_methods_405) {
  for (auto path : {"/", "/v2/", "/v2/NoSuchThing", "/v1/ListKeys", "/v2/ListKeys/extra",
                    "/ListKeys", "/v2/listkeys"}) {
    auto r = find_route("GET", path);
    ASSERT_FALSE(r.has_value()) << path;
    EXPECT_EQ(r.error().status, 404u) << path;
    EXPECT_EQ(r.error().code, "NoSuchEndpoint");
  }
  auto r = find_route("GET", "/v2/CreateKey");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, 405u);
  r = find_route("POST", "/v2/ListKeys");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, 405u);
  EXPECT_TRUE(find_route("HEAD", "/health").has_value());
}

TEST(admin_router, garage_endpoints_not_built_here_parse_to_unimplemented) {
  for (auto name : {"ListAdminTokens", "CreateMetadataSnapshot", "ListBlockErrors", "PurgeBlocks",
                    "CleanupIncompleteUploads", "GetClusterStatistics"}) {
    auto r = must_route("POST", std::string("/v2/") + name);
    EXPECT_EQ(r.ep, endpoint::unimplemented);
    EXPECT_EQ(r.auth, auth_kind::admin_token);
    auto u = must_parse<unimplemented_request>("POST", std::string("/v2/") + name, "");
    EXPECT_EQ(u.name, name);
  }
}

TEST(admin_router, get_key_info_takes_id_or_search_and_the_secret_flag) {
  auto g = must_parse<get_key_info_request>("GET", "/v2/GetKeyInfo", "id=GK1&showSecretKey=true");
  EXPECT_EQ(g.id, "GK1");
  EXPECT_FALSE(g.search.has_value());
  EXPECT_TRUE(g.show_secret);
  g = must_parse<get_key_info_request>("GET", "/v2/GetKeyInfo", "search=my%20key");
  EXPECT_EQ(g.search, "my key");
  EXPECT_FALSE(g.show_secret);
  g = must_parse<get_key_info_request>("GET", "/v2/GetKeyInfo", "id=GK1&showSecretKey=false");
  EXPECT_FALSE(g.show_secret);
  EXPECT_EQ(must_fail("GET", "/v2/GetKeyInfo", "").status, 400u);
  EXPECT_EQ(must_fail("GET", "/v2/GetKeyInfo", "id=a&search=b").status, 400u);
  EXPECT_EQ(must_fail("GET", "/v2/GetKeyInfo", "id=").status, 400u);
}

TEST(admin_router, bodies_must_be_json_objects_with_typed_fields) {
  auto e = must_fail("POST", "/v2/CreateKey", "", "{not json");
  EXPECT_EQ(e.status, 400u);
  EXPECT_EQ(e.code, "InvalidRequest");
  EXPECT_EQ(must_fail("POST", "/v2/CreateKey", "", "[1,2]").status, 400u);
  EXPECT_EQ(must_fail("POST", "/v2/CreateKey", "", R"({"name": 3})").status, 400u);
  // An empty body counts as {}; a null name as no name.
  EXPECT_EQ(must_parse<create_key_request>("POST", "/v2/CreateKey", "", "").name, "");
  EXPECT_EQ(must_parse<create_key_request>("POST", "/v2/CreateKey", "", R"({"name":null})").name,
            "");
  EXPECT_EQ(must_parse<create_key_request>("POST", "/v2/CreateKey", "", R"({"name":"alice"})").name,
            "alice");
}

TEST(admin_router, import_key_needs_id_and_secret) {
  auto i = must_parse<import_key_request>(
      "POST", "/v2/ImportKey", "", R"({"accessKeyId":"GK00","secretAccessKey":"ab","name":"old"})");
  EXPECT_EQ(i.access_key_id, "GK00");
  EXPECT_EQ(i.secret_access_key, "ab");
  EXPECT_EQ(i.name, "old");
  EXPECT_EQ(must_fail("POST", "/v2/ImportKey", "", R"({"accessKeyId":"GK00"})").status, 400u);
  EXPECT_EQ(must_fail("POST", "/v2/ImportKey", "", R"({"secretAccessKey":"x"})").status, 400u);
}

TEST(admin_router, update_key_maps_allow_and_deny_to_one_flag) {
  auto u = must_parse<update_key_request>("POST", "/v2/UpdateKey", "id=GK1",
                                          R"({"allow":{"createBucket":true}})");
  EXPECT_EQ(u.id, "GK1");
  EXPECT_EQ(u.allow_create_bucket, true);
  EXPECT_FALSE(u.name.has_value());
  u = must_parse<update_key_request>("POST", "/v2/UpdateKey", "id=GK1",
                                     R"({"deny":{"createBucket":true},"name":"n"})");
  EXPECT_EQ(u.allow_create_bucket, false);
  EXPECT_EQ(u.name, "n");
  // createBucket false on either side changes nothing, as in Garage.
  u = must_parse<update_key_request>("POST", "/v2/UpdateKey", "id=GK1",
                                     R"({"allow":{"createBucket":false}})");
  EXPECT_FALSE(u.allow_create_bucket.has_value());
  EXPECT_EQ(must_fail("POST", "/v2/UpdateKey", "id=GK1",
                      R"({"allow":{"createBucket":true},"deny":{"createBucket":true}})")
                .status,
            400u);
  EXPECT_EQ(must_fail("POST", "/v2/UpdateKey", "", "{}").status, 400u);
  EXPECT_EQ(must_fail("POST", "/v2/UpdateKey", "id=GK1", R"({"expiration":"2030-01-01"})").status,
            501u);
}

TEST(admin_router, permission_changes_read_all_three_flags) {
  auto p = must_parse<bucket_key_perm_request>(
      "POST", "/v2/AllowBucketKey", "",
      R"({"bucketId":"b1","accessKeyId":"GK1","permissions":{"read":true,"owner":true}})");
  EXPECT_TRUE(p.allow);
  EXPECT_EQ(p.bucket_id, "b1");
  EXPECT_EQ(p.access_key_id, "GK1");
  EXPECT_TRUE(p.perm.read);
  EXPECT_FALSE(p.perm.write);
  EXPECT_TRUE(p.perm.owner);
  p = must_parse<bucket_key_perm_request>(
      "POST", "/v2/DenyBucketKey", "",
      R"({"bucketId":"b1","accessKeyId":"GK1","permissions":{"write":true}})");
  EXPECT_FALSE(p.allow);
  EXPECT_TRUE(p.perm.write);
  EXPECT_EQ(
      must_fail("POST", "/v2/AllowBucketKey", "", R"({"bucketId":"b1","accessKeyId":"k"})").status,
      400u);
  EXPECT_EQ(must_fail("POST", "/v2/AllowBucketKey", "",
                      R"({"bucketId":"b1","accessKeyId":"k","permissions":{"read":"yes"}})")
                .status,
            400u);
}

TEST(admin_router, aliases_global_or_local_to_a_key) {
  auto a = must_parse<bucket_alias_request>("POST", "/v2/AddBucketAlias", "",
                                            R"({"bucketId":"b1","globalAlias":"pics"})");
  EXPECT_TRUE(a.add);
  EXPECT_EQ(a.global_alias, "pics");
  a = must_parse<bucket_alias_request>("POST", "/v2/RemoveBucketAlias", "",
                                       R"({"bucketId":"b1","globalAlias":"pics"})");
  EXPECT_FALSE(a.add);
  a = must_parse<bucket_alias_request>("POST", "/v2/AddBucketAlias", "",
                                       R"({"bucketId":"b1","localAlias":"x","accessKeyId":"GK1"})");
  EXPECT_EQ(a.global_alias, "x");
  EXPECT_EQ(a.access_key_id, "GK1");
  EXPECT_EQ(
      must_fail("POST", "/v2/AddBucketAlias", "", R"({"bucketId":"b1","localAlias":"x"})").status,
      400u);
  EXPECT_EQ(must_fail("POST", "/v2/AddBucketAlias", "",
                      R"({"bucketId":"b1","localAlias":"x","globalAlias":"y","accessKeyId":"K"})")
                .status,
            400u);
  EXPECT_EQ(must_fail("POST", "/v2/AddBucketAlias", "", R"({"bucketId":"b1"})").status, 400u);
}

TEST(admin_router, buckets_by_one_identifier_and_unsupported_options) {
  auto g = must_parse<get_bucket_info_request>("GET", "/v2/GetBucketInfo", "globalAlias=photos");
  EXPECT_EQ(g.global_alias, "photos");
  EXPECT_EQ(must_fail("GET", "/v2/GetBucketInfo", "").status, 400u);
  EXPECT_EQ(must_fail("GET", "/v2/GetBucketInfo", "id=a&search=b").status, 400u);
  EXPECT_EQ(must_parse<create_bucket_request>("POST", "/v2/CreateBucket", "",
                                              R"({"globalAlias":"photos"})")
                .global_alias,
            "photos");
  auto c = must_parse<create_bucket_request>(
      "POST", "/v2/CreateBucket", "",
      R"({"localAlias":{"accessKeyId":"GK1","alias":"x","allow":{"read":true}}})");
  EXPECT_EQ(c.local_key_id, "GK1");
  EXPECT_EQ(c.local_alias, "x");
  EXPECT_TRUE(c.local_allow.read);
  EXPECT_FALSE(c.local_allow.write);
  EXPECT_EQ(must_fail("POST", "/v2/CreateBucket", "", R"({"localAlias":{"alias":"x"}})").status,
            400u);
  EXPECT_EQ(must_parse<update_bucket_request>("POST", "/v2/UpdateBucket", "id=b1", "{}").id, "b1");
  auto q = must_parse<update_bucket_request>("POST", "/v2/UpdateBucket", "id=b1",
                                             R"({"quotas":{"maxSize":1,"maxObjects":null}})");
  ASSERT_TRUE(q.quotas.has_value());
  EXPECT_EQ(q.quotas->max_size, 1u);
  EXPECT_FALSE(q.quotas->max_objects.has_value());
  EXPECT_FALSE(q.website.has_value());
  auto w = must_parse<update_bucket_request>(
      "POST", "/v2/UpdateBucket", "id=b1",
      R"({"websiteAccess":{"enabled":true,"indexDocument":"index.html"}})");
  ASSERT_TRUE(w.website.has_value());
  EXPECT_TRUE(w.website->enabled);
  EXPECT_EQ(w.website->index_document, "index.html");
  EXPECT_FALSE(w.website->error_document.has_value());
  EXPECT_FALSE(w.quotas.has_value());
  EXPECT_EQ(must_fail("POST", "/v2/UpdateBucket", "id=b1", R"({"websiteAccess":{"enabled":true}})")
                .status,
            400u);
  EXPECT_EQ(must_fail("POST", "/v2/UpdateBucket", "id=b1", R"({"quotas":{"maxSize":-1}})").status,
            400u);
  EXPECT_EQ(must_fail("POST", "/v2/DeleteBucket", "").status, 400u);
  EXPECT_EQ(must_parse<delete_bucket_request>("POST", "/v2/DeleteBucket", "id=b1").id, "b1");
}

}  // namespace
}  // namespace garage::admin
