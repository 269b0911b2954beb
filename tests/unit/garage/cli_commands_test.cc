// The admin commands against a fake admin API: which requests they send and
// what they print.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "garage/cli.h"
#include "garage/cli_context.h"

namespace garage::cli {
namespace {

using json = nlohmann::json;

// Canned replies by "METHOD target" (exact), and the requests seen.
struct fake_api {
  std::map<std::string, std::pair<unsigned, std::string>> replies;
  std::vector<http_request> seen;
  api_caller caller() {
    return [this](const http_request& r) -> result<http_response> {
      seen.push_back(r);
      auto it = replies.find(r.method + " " + r.target);
      http_response resp;
      if (it == replies.end()) {
        resp.status = 404;
        resp.body = R"({"code":"NoSuchEndpoint","message":"not canned: )" + r.target + "\"}";
      } else {
        resp.status = it->second.first;
        resp.body = it->second.second;
      }
      return resp;
    };
  }
};

struct run_result {
  int code;
  std::string out, err;
};

run_result run(fake_api& api, std::vector<std::string> argv) {
  auto cmd = parse_command_line(argv);
  EXPECT_TRUE(cmd.has_value());
  std::ostringstream out, err;
  int code = run_command(*cmd, api.caller(), out, err);
  return {code, out.str(), err.str()};
}

const json kKey = {{"accessKeyId", "GK11"},
                   {"name", "alice"},
                   {"secretAccessKey", nullptr},
                   {"permissions", {{"createBucket", false}}},
                   {"buckets",
                    {{{"id", "b0b0b0b0b0b0b0b0ffff"},
                      {"globalAliases", {"photos"}},
                      {"localAliases", json::array()},
                      {"permissions", {{"read", true}, {"write", false}, {"owner", true}}}}}}};

const json kBucket = {{"id", "b0b0b0b0b0b0b0b0ffff"},
                      {"created", "2024-01-02T03:04:05.000Z"},
                      {"globalAliases", {"photos"}},
                      {"websiteAccess", false},
                      {"keys",
                       {{{"accessKeyId", "GK11"},
                         {"name", "alice"},
                         {"permissions", {{"read", true}, {"write", true}, {"owner", false}}},
                         {"bucketLocalAliases", json::array()}}}},
                      {"objects", 3},
                      {"bytes", 1234567},
                      {"unfinishedUploads", 0}};

TEST(cli_commands, key_list_prints_an_aligned_table) {
  fake_api api;
  api.replies["GET /v2/ListKeys"] = {200,
                                     R"([{"id":"GK1234","name":"alice"},{"id":"GK9","name":"b"}])"};
  auto r = run(api, {"key", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID      Name\n"
            "GK1234  alice\n"
            "GK9     b\n");
}

TEST(cli_commands, json_prints_the_api_document) {
  fake_api api;
  api.replies["GET /v2/ListKeys"] = {200, R"([{"id":"GK1","name":"a"}])"};
  auto r = run(api, {"key", "list", "--json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(json::parse(r.out), json::parse(R"([{"id":"GK1","name":"a"}])"));
}

TEST(cli_commands, key_info_searches_and_shows_buckets) {
  fake_api api;
  api.replies["GET /v2/GetKeyInfo?search=my%20key"] = {200, kKey.dump()};
  auto r = run(api, {"key", "info", "my key"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Key ID:              GK11\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Secret key:          (redacted)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("R-O          b0b0b0b0b0b0b0b0  photos\n"), std::string::npos) << r.out;

  json shown = kKey;
  shown["secretAccessKey"] = "s3cr3t";
  api.replies["GET /v2/GetKeyInfo?search=GK11&showSecretKey=true"] = {200, shown.dump()};
  r = run(api, {"key", "info", "GK11", "--show-secret"});
  EXPECT_NE(r.out.find("Secret key:          s3cr3t\n"), std::string::npos) << r.out;
}

TEST(cli_commands, key_updates_resolve_the_key_first) {
  fake_api api;
  api.replies["GET /v2/GetKeyInfo?search=alice"] = {200, kKey.dump()};
  api.replies["POST /v2/UpdateKey?id=GK11"] = {200, kKey.dump()};
  auto r = run(api, {"key", "allow", "--create-bucket", "alice"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(api.seen.size(), 2u);
  EXPECT_EQ(json::parse(api.seen[1].body), json::parse(R"({"allow":{"createBucket":true}})"));
  r = run(api, {"key", "rename", "alice", "bob"});
  EXPECT_EQ(json::parse(api.seen.back().body), json::parse(R"({"name":"bob"})"));
  EXPECT_EQ(r.out, "Key GK11 renamed to 'bob'.\n");
}

TEST(cli_commands, bucket_allow_sends_ids_and_flags) {
  fake_api api;
  api.replies["GET /v2/GetBucketInfo?search=photos"] = {200, kBucket.dump()};
  api.replies["GET /v2/GetKeyInfo?search=alice"] = {200, kKey.dump()};
  api.replies["POST /v2/AllowBucketKey"] = {200, kBucket.dump()};
  auto r = run(api, {"bucket", "allow", "--read", "--write", "photos", "--key", "alice"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(api.seen.size(), 3u);
  EXPECT_EQ(api.seen[2].method, "POST");
  EXPECT_EQ(json::parse(api.seen[2].body),
            json::parse(R"({"bucketId":"b0b0b0b0b0b0b0b0ffff","accessKeyId":"GK11",
                            "permissions":{"read":true,"write":true,"owner":false}})"));
  EXPECT_EQ(r.out, "Key GK11 on bucket photos: RW-\n");
}

TEST(cli_commands, bucket_info_shows_size_objects_and_keys) {
  fake_api api;
  api.replies["GET /v2/GetBucketInfo?search=photos"] = {200, kBucket.dump()};
  auto r = run(api, {"bucket", "info", "photos"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Size:                1.2 MB (1234567 B)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Objects:             3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("RW-          GK11        alice\n"), std::string::npos) << r.out;
}

TEST(cli_commands, unalias_with_one_name_uses_it_to_find_the_bucket) {
  fake_api api;
  api.replies["GET /v2/GetBucketInfo?search=pics"] = {200, kBucket.dump()};
  api.replies["POST /v2/RemoveBucketAlias"] = {200, kBucket.dump()};
  auto r = run(api, {"bucket", "unalias", "pics"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(api.seen.back().body),
            json::parse(R"({"bucketId":"b0b0b0b0b0b0b0b0ffff","globalAlias":"pics"})"));
}

TEST(cli_commands, api_errors_are_one_line_and_exit_1) {
  fake_api api;
  api.replies["GET /v2/GetKeyInfo?search=nobody"] = {
      404,
      R"({"code":"NoSuchAccessKey","message":"no access key matches nobody","region":"garage","path":"/v2/GetKeyInfo"})"};
  auto r = run(api, {"key", "info", "nobody"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "garage: no access key matches nobody (NoSuchAccessKey)\n");
  EXPECT_EQ(r.out, "");

  api.replies["GET /v2/ListKeys"] = {502, "<html>bad gateway</html>"};
  r = run(api, {"key", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "garage: the admin API answered HTTP 502\n");

  api.replies["GET /v2/ListBuckets"] = {200, "not json"};
  r = run(api, {"bucket", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not JSON"), std::string::npos);
}

TEST(cli_commands, transport_errors_are_printed_as_given) {
  api_caller down = [](const http_request&) -> result<http_response> {
    return error(errc::unavailable, "cannot reach the admin API at 127.0.0.1:3903: refused");
  };
  auto cmd = parse_command_line({"status"});
  std::ostringstream out, err;
  EXPECT_EQ(run_command(*cmd, down, out, err), 1);
  EXPECT_EQ(err.str(), "garage: cannot reach the admin API at 127.0.0.1:3903: refused\n");
}

TEST(cli_commands, unexpected_shapes_do_not_crash) {
  fake_api api;
  api.replies["GET /v2/GetBucketInfo?search=x"] = {200, R"({"id": 5, "objects": "many"})"};
  auto r = run(api, {"bucket", "info", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unexpected reply"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace garage::cli
