// The admin operations over a real store in a temporary directory, through
// the same parse → execute path as the HTTP front end.
#include "api/admin/handlers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/bucket_ops.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "util/random.h"

namespace garage::admin {
namespace {

using json = nlohmann::json;

class admin_handlers : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-admin-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    auto s = model::store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    store_ = std::move(*s);
    facts_.node_id = store_->node_id();
    facts_.version = "test";
    facts_.data_dir = cfg_.data_dir;
    facts_.metadata_dir = cfg_.metadata_dir;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs one request; the reply (any status) as {status, json}.
  std::pair<unsigned, json> call(std::string_view method, std::string_view path,
                                 std::string_view query = {}, std::string_view body = {}) {
    auto r = find_route(method, path);
    if (!r) return {r.error().status, json{{"code", r.error().code}}};
    auto req = parse_request(*r, query, body);
    if (!req) return {req.error().status, json{{"code", req.error().code}}};
    auto out = execute(*store_, facts_, *req);
    if (!out) return {out.error().status, json{{"code", out.error().code}}};
    json j = out->body.empty() ? json::object() : json::parse(out->body);
    return {out->status, j};
  }
  json ok(std::string_view method, std::string_view path, std::string_view query = {},
          std::string_view body = {}) {
    auto [status, j] = call(method, path, query, body);
    EXPECT_EQ(status, 200u) << method << " " << path << "?" << query << " -> " << j.dump();
    return j;
  }

  std::filesystem::path dir_;
  config cfg_;
  node_facts facts_;
  std::unique_ptr<model::store> store_;
};

TEST_F(admin_handlers, key_lifecycle) {
  json k = ok("POST", "/v2/CreateKey", "", R"({"name":"alice"})");
  std::string id = k["accessKeyId"];
  EXPECT_TRUE(id.starts_with("GK"));
  EXPECT_EQ(k["name"], "alice");
  ASSERT_TRUE(k["secretAccessKey"].is_string());  // shown once, at creation
  std::string secret = k["secretAccessKey"];
  EXPECT_EQ(k["permissions"]["createBucket"], false);
  EXPECT_TRUE(k["buckets"].empty());

  json info = ok("GET", "/v2/GetKeyInfo", "id=" + id);
  EXPECT_TRUE(info["secretAccessKey"].is_null());
  info = ok("GET", "/v2/GetKeyInfo", "search=alice&showSecretKey=true");
  EXPECT_EQ(info["accessKeyId"], id);
  EXPECT_EQ(info["secretAccessKey"], secret);
  info = ok("GET", "/v2/GetKeyInfo", "search=" + id.substr(0, 8));
  EXPECT_EQ(info["accessKeyId"], id);

  json list = ok("GET", "/v2/ListKeys");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["name"], "alice");

  json u =
      ok("POST", "/v2/UpdateKey", "id=" + id, R"({"name":"bob","allow":{"createBucket":true}})");
  EXPECT_EQ(u["name"], "bob");
  EXPECT_EQ(u["permissions"]["createBucket"], true);
  EXPECT_TRUE(u["secretAccessKey"].is_null());
  u = ok("POST", "/v2/UpdateKey", "id=" + id, R"({"deny":{"createBucket":true}})");
  EXPECT_EQ(u["permissions"]["createBucket"], false);
  EXPECT_EQ(u["name"], "bob");

  ok("POST", "/v2/DeleteKey", "id=" + id);
  EXPECT_EQ(call("GET", "/v2/GetKeyInfo", "id=" + id).first, 404u);
  EXPECT_EQ(call("POST", "/v2/DeleteKey", "id=" + id).first, 404u);
  EXPECT_TRUE(ok("GET", "/v2/ListKeys").empty());
}

TEST_F(admin_handlers, unknown_keys_are_404_no_such_access_key) {
  auto [status, j] = call("GET", "/v2/GetKeyInfo", "id=GK000000000000000000000000");
  EXPECT_EQ(status, 404u);
  EXPECT_EQ(j["code"], "NoSuchAccessKey");
  EXPECT_EQ(call("GET", "/v2/GetKeyInfo", "search=nobody").first, 404u);
  EXPECT_EQ(call("POST", "/v2/UpdateKey", "id=GK000000000000000000000000", "{}").first, 404u);
}

TEST_F(admin_handlers, import_key_keeps_id_and_secret_and_refuses_duplicates) {
  std::string id = "GK0123456789abcdef01234567";
  std::string secret(64, 'a');
  json body = {{"accessKeyId", id}, {"secretAccessKey", secret}, {"name", "imported"}};
  json k = ok("POST", "/v2/ImportKey", "", body.dump());
  EXPECT_EQ(k["accessKeyId"], id);
  EXPECT_EQ(ok("GET", "/v2/GetKeyInfo", "id=" + id + "&showSecretKey=true")["secretAccessKey"],
            secret);
  auto [status, j] = call("POST", "/v2/ImportKey", "", body.dump());
  EXPECT_EQ(status, 409u);
  EXPECT_EQ(j["code"], "KeyAlreadyExists");
  body["accessKeyId"] = "not-a-key-id";
  EXPECT_EQ(call("POST", "/v2/ImportKey", "", body.dump()).first, 400u);
}

TEST_F(admin_handlers, bucket_lifecycle_with_permissions_and_aliases) {
  std::string key_id = ok("POST", "/v2/CreateKey", "", R"({"name":"alice"})")["accessKeyId"];
  json b = ok("POST", "/v2/CreateBucket", "", R"({"globalAlias":"photos"})");
  std::string bid = b["id"];
  EXPECT_EQ(b["globalAliases"], json::array({"photos"}));
  EXPECT_EQ(b["objects"], 0);
  EXPECT_EQ(b["bytes"], 0);
  EXPECT_TRUE(b["keys"].empty());
  EXPECT_TRUE(b["quotas"]["maxSize"].is_null());

  auto [dup_status, dup] = call("POST", "/v2/CreateBucket", "", R"({"globalAlias":"photos"})");
  EXPECT_EQ(dup_status, 409u);
  EXPECT_EQ(dup["code"], "BucketAlreadyExists");
  EXPECT_EQ(call("POST", "/v2/CreateBucket", "", R"({"globalAlias":"Bad_Name"})").first, 400u);

  json perm = {{"bucketId", bid},
               {"accessKeyId", key_id},
               {"permissions", {{"read", true}, {"write", true}}}};
  json after = ok("POST", "/v2/AllowBucketKey", "", perm.dump());
  ASSERT_EQ(after["keys"].size(), 1u);
  EXPECT_EQ(after["keys"][0]["accessKeyId"], key_id);
  EXPECT_EQ(after["keys"][0]["name"], "alice");
  EXPECT_EQ(after["keys"][0]["permissions"],
            json({{"read", true}, {"write", true}, {"owner", false}}));

  json key = ok("GET", "/v2/GetKeyInfo", "id=" + key_id);
  ASSERT_EQ(key["buckets"].size(), 1u);
  EXPECT_EQ(key["buckets"][0]["id"], bid);
  EXPECT_EQ(key["buckets"][0]["globalAliases"], json::array({"photos"}));

  perm["permissions"] = {{"write", true}};
  after = ok("POST", "/v2/DenyBucketKey", "", perm.dump());
  EXPECT_EQ(after["keys"][0]["permissions"],
            json({{"read", true}, {"write", false}, {"owner", false}}));

  after =
      ok("POST", "/v2/AddBucketAlias", "", json{{"bucketId", bid}, {"globalAlias", "pics"}}.dump());
  EXPECT_EQ(after["globalAliases"], json::array({"photos", "pics"}));
  EXPECT_EQ(ok("GET", "/v2/GetBucketInfo", "globalAlias=pics")["id"], bid);
  EXPECT_EQ(ok("GET", "/v2/GetBucketInfo", "search=pics")["id"], bid);
  EXPECT_EQ(ok("GET", "/v2/GetBucketInfo", "search=" + bid.substr(0, 10))["id"], bid);
  EXPECT_EQ(ok("GET", "/v2/GetBucketInfo", "id=" + bid)["id"], bid);
  after = ok("POST", "/v2/RemoveBucketAlias", "",
             json{{"bucketId", bid}, {"globalAlias", "photos"}}.dump());
  EXPECT_EQ(after["globalAliases"], json::array({"pics"}));
  EXPECT_EQ(call("GET", "/v2/GetBucketInfo", "globalAlias=photos").first, 404u);
  // The last alias stays: a bucket without any would be unreachable.
  EXPECT_EQ(call("POST", "/v2/RemoveBucketAlias", "",
                 json{{"bucketId", bid}, {"globalAlias", "pics"}}.dump())
                .first,
            409u);

  json list = ok("GET", "/v2/ListBuckets");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], bid);
  EXPECT_EQ(list[0]["globalAliases"], json::array({"pics"}));

  EXPECT_EQ(ok("POST", "/v2/UpdateBucket", "id=" + bid, "{}")["id"], bid);
  ok("POST", "/v2/DeleteBucket", "id=" + bid);
  EXPECT_TRUE(ok("GET", "/v2/ListBuckets").empty());
  EXPECT_TRUE(ok("GET", "/v2/GetKeyInfo", "id=" + key_id)["buckets"].empty());
  auto [gone, j] = call("GET", "/v2/GetBucketInfo", "id=" + bid);
  EXPECT_EQ(gone, 404u);
  EXPECT_EQ(j["code"], "NoSuchBucket");
}

TEST_F(admin_handlers, permission_changes_name_what_is_missing) {
  std::string key_id = ok("POST", "/v2/CreateKey", "", "{}")["accessKeyId"];
  std::string bid = ok("POST", "/v2/CreateBucket", "", R"({"globalAlias":"bucket-b"})")["id"];
  json perm = {{"bucketId", std::string(64, '0')},
               {"accessKeyId", key_id},
               {"permissions", {{"read", true}}}};
  auto [s1, j1] = call("POST", "/v2/AllowBucketKey", "", perm.dump());
  EXPECT_EQ(s1, 404u);
  EXPECT_EQ(j1["code"], "NoSuchBucket");
  perm["bucketId"] = bid;
  perm["accessKeyId"] = "GK000000000000000000000000";
  auto [s2, j2] = call("POST", "/v2/AllowBucketKey", "", perm.dump());
  EXPECT_EQ(s2, 404u);
  EXPECT_EQ(j2["code"], "NoSuchAccessKey");
}

TEST_F(admin_handlers, a_bucket_with_objects_is_not_deleted_and_reports_its_counts) {
  std::string bid = ok("POST", "/v2/CreateBucket", "", R"({"globalAlias":"full"})")["id"];
  model::object_meta meta{5, "etag", {}};
  ASSERT_TRUE(model::put_inline(*store_, bid, "hello.txt", meta, "hello").has_value());
  json b = ok("GET", "/v2/GetBucketInfo", "id=" + bid);
  EXPECT_EQ(b["objects"], 1);
  EXPECT_EQ(b["bytes"], 5);
  auto [status, j] = call("POST", "/v2/DeleteBucket", "id=" + bid);
  EXPECT_EQ(status, 409u);
  EXPECT_EQ(j["code"], "BucketNotEmpty");
  EXPECT_EQ(ok("GET", "/v2/GetBucketInfo", "id=" + bid)["id"], bid);
}

TEST_F(admin_handlers, ambiguous_bucket_search_is_a_bad_request) {
  // The empty pattern is refused; a prefix both ids share (when they share
  // one) is ambiguous; one more character picks one bucket.
  std::string a = ok("POST", "/v2/CreateBucket", "", R"({"globalAlias":"first"})")["id"];
  std::string b = ok("POST", "/v2/CreateBucket", "", R"({"globalAlias":"second"})")["id"];
  EXPECT_EQ(call("GET", "/v2/GetBucketInfo", "search=").first, 400u);
  size_t common = 0;
  while (common < a.size() && a[common] == b[common]) ++common;
  if (common > 0) {
    EXPECT_EQ(call("GET", "/v2/GetBucketInfo", "search=" + a.substr(0, common)).first, 400u);
  }
  EXPECT_EQ(ok("GET", "/v2/GetBucketInfo", "search=" + a.substr(0, common + 1))["id"], a);
}

TEST_F(admin_handlers, cluster_endpoints_describe_this_node) {
  json h = ok("GET", "/v2/GetClusterHealth");
  EXPECT_EQ(h["status"], "healthy");
  EXPECT_EQ(h["partitions"], 256);
  json s = ok("GET", "/v2/GetClusterStatus");
  ASSERT_EQ(s["nodes"].size(), 1u);
  EXPECT_EQ(s["nodes"][0]["id"], store_->node_id());
  EXPECT_EQ(s["nodes"][0]["isUp"], true);
  EXPECT_EQ(s["nodes"][0]["garageVersion"], "test");
  EXPECT_TRUE(s["nodes"][0]["dataPartition"]["total"].get<uint64_t>() > 0);
  json n = ok("GET", "/v2/GetNodeInfo", "node=self");
  EXPECT_EQ(n["success"][store_->node_id()]["nodeId"], store_->node_id());
  n = ok("GET", "/v2/GetNodeInfo", "node=other");
  EXPECT_TRUE(n["success"].empty());
  EXPECT_TRUE(n["error"].contains("other"));
  EXPECT_EQ(call("POST", "/v2/PurgeBlocks", "", "{}").first, 501u);
}

TEST_F(admin_handlers, update_bucket_sets_quotas_and_website_access) {
  json b = ok("POST", "/v2/CreateBucket", "", R"({"globalAlias":"site"})");
  std::string q = "id=" + b["id"].get<std::string>();
  EXPECT_EQ(b["websiteAccess"], false);
  b = ok("POST", "/v2/UpdateBucket", q,
         R"({"quotas":{"maxSize":1000,"maxObjects":null},
             "websiteAccess":{"enabled":true,"indexDocument":"index.html",
                              "errorDocument":"err.html"}})");
  EXPECT_EQ(b["quotas"]["maxSize"], 1000);
  EXPECT_TRUE(b["quotas"]["maxObjects"].is_null());
  EXPECT_EQ(b["websiteAccess"], true);
  EXPECT_EQ(b["websiteConfig"]["indexDocument"], "index.html");
  EXPECT_EQ(b["websiteConfig"]["errorDocument"], "err.html");
  // Unchanged when absent; removed when disabled / null.
  b = ok("POST", "/v2/UpdateBucket", q, R"({"quotas":{"maxObjects":5}})");
  EXPECT_TRUE(b["quotas"]["maxSize"].is_null());
  EXPECT_EQ(b["quotas"]["maxObjects"], 5);
  EXPECT_EQ(b["websiteAccess"], true);
  b = ok("POST", "/v2/UpdateBucket", q, R"({"websiteAccess":{"enabled":false}})");
  EXPECT_EQ(b["websiteAccess"], false);
  EXPECT_TRUE(b["websiteConfig"].is_null());
  EXPECT_EQ(call("POST", "/v2/UpdateBucket", "id=nope", R"({"quotas":{}})").first, 404u);
}

}  // namespace
}  // namespace garage::admin
