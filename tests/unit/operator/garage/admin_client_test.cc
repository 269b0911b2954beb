// admin_client over its real cpprestsdk transport against the in-process fake
// HTTP server: request shapes, the mapping of statuses and transport failures
// to errc, and the helpers' reading of the node's answers. The real node is
// driven by admin_cluster_test.cc.
#include "garage/admin_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "fake_api_server.h"
#include "garage/sync_bucket.h"
#include "garage/sync_key.h"

namespace garage::op::admin {
namespace {

using garage::k8s::testing::fake_api_server;
using garage::k8s::testing::recorded_request;
using garage::k8s::testing::scripted_response;
using nlohmann::json;

scripted_response reply(int status, const std::string& type, std::string body) {
  scripted_response r;
  r.status = status;
  r.content_type = type;
  r.body = std::move(body);
  return r;
}

scripted_response answer(int status, const json& j) {
  return reply(status, "application/json", j.dump());
}

scripted_response node_error(int status, const std::string& code, const std::string& msg) {
  return answer(status,
                json{{"code", code}, {"message", msg}, {"region", "garage"}, {"path", "/"}});
}

TEST(AdminClient, MapsStatusesWithTheNodesMessage) {
  struct c {
    int status;
    errc code;
  } cases[] = {{400, errc::invalid_argument},  {401, errc::unauthenticated},
               {403, errc::permission_denied}, {404, errc::not_found},
               {409, errc::conflict},          {500, errc::internal},
               {501, errc::not_implemented},   {503, errc::unavailable}};
  for (const auto& k : cases) {
    fake_api_server srv([&](const recorded_request&) {
      return node_error(k.status, "SomeCode", "the node's reason");
    });
    admin_client cl({srv.url() + "/", "tok"});
    auto r = cl.call("POST", "/v2/DeleteBucket?id=abc");
    ASSERT_FALSE(r) << k.status;
    EXPECT_EQ(r.error().code, k.code) << k.status;
    EXPECT_NE(r.error().message.find("the node's reason"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("SomeCode"), std::string::npos);
    EXPECT_NE(r.error().message.find(srv.url()), std::string::npos);
    EXPECT_NE(r.error().message.find(std::to_string(k.status)), std::string::npos);
  }
}

TEST(AdminClient, TheWriteGateRefusesAllButReadsBeforeSending) {
  fake_api_server srv([](const recorded_request&) { return answer(200, json::object()); });
  bool leader = false;
  admin_client cl({srv.url(), "tok", [&] { return leader; }});
  auto w = cl.call("POST", "/v2/ApplyClusterLayout", json{{"version", 2}});
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, errc::unavailable);
  EXPECT_NE(w.error().message.find("not the leader"), std::string::npos) << w.error().message;
  EXPECT_TRUE(cl.call("GET", "/v2/GetClusterLayout"));
  EXPECT_EQ(srv.requests().size(), 1u);  // the refused write never left
  leader = true;
  EXPECT_TRUE(cl.call("POST", "/v2/ApplyClusterLayout", json{{"version", 2}}));
  EXPECT_EQ(srv.requests().size(), 2u);
}

TEST(AdminClient, SendsTokenAndBodyAndReadsJson) {
  fake_api_server srv([](const recorded_request& r) {
    if (r.path == "/v2/DeleteKey") return reply(200, "text/plain", "");
    return answer(200, json{{"echo", r.body}});
  });
  admin_client cl({srv.url(), "sekret"});
  EXPECT_EQ(cl.where().url, srv.url());
  auto r = cl.call("POST", "/v2/CreateKey", json{{"name", "alice"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(json::parse((*r)["echo"].get<std::string>()), (json{{"name", "alice"}}));
  admin_client moved(std::move(cl));  // movable: the new owner works
  auto empty = moved.call("POST", "/v2/DeleteKey?id=GK1");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->is_null());
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].headers["authorization"], "Bearer sekret");
  EXPECT_EQ(reqs[1].param("id"), "GK1");
}

TEST(AdminClient, NotJsonIsAnError) {
  fake_api_server srv(
      [](const recorded_request&) { return reply(200, "text/html", "<html>proxy</html>"); });
  admin_client cl({srv.url(), "t"});
  auto r = cl.call("GET", "/v2/GetClusterHealth");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::internal);
}

TEST(AdminClient, RefusedConnectionIsUnavailable) {
  // A port nobody listens on: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  admin_client cl({url, "t"}, std::chrono::seconds(2));
  auto r = cl.health();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable) << r.error().to_string();
  EXPECT_NE(r.error().message.find(url), std::string::npos);
}

TEST(AdminClient, SlowNodeIsTimeout) {
  fake_api_server srv([](const recorded_request&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return answer(200, json::object());
  });
  admin_client cl({srv.url(), "t"}, std::chrono::milliseconds(300));
  auto t0 = std::chrono::steady_clock::now();
  auto r = cl.layout();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::timeout) << r.error().to_string();
  EXPECT_NE(r.error().message.find(srv.url()), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400));
}

TEST(AdminClient, BadUrl) {
  admin_client cl({"not a url", "t"});
  auto r = cl.health();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
}

TEST(AdminClient, TypedCalls) {
  const std::string self(64, 'a');
  fake_api_server srv([&](const recorded_request& r) {
    if (r.path == "/v2/GetNodeInfo")
      return answer(200, json{{"success",
                               {{self,
                                 {{"nodeId", self},
                                  {"garageVersion", "0.9"},
                                  {"garageFeatures", json::array()},
                                  {"rustVersion", "none"},
                                  {"dbEngine", "RocksDB"}}}}},
                              {"error", json::object()}});
    if (r.path == "/v2/GetClusterStatus")
      return answer(
          200,
          json{
              {"layoutVersion", 4},
              {"nodes",
               {{{"id", self},
                 {"hostname", "h1"},
                 {"addr", "127.0.0.1:3901"},
                 {"garageVersion", "0.9"},
                 {"role", {{"id", self}, {"zone", "z1"}, {"capacity", 7}, {"tags", json::array()}}},
                 {"dataPartition", {{"available", 5}, {"total", 9}}}},
                {{"id", std::string(64, 'b')}, {"hostname", nullptr}, {"role", nullptr}}}}});
    if (r.path == "/v2/GetClusterHealth")
      return answer(200, json{{"status", "degraded"},
                              {"knownNodes", 3},
                              {"connectedNodes", 2},
                              {"storageNodes", 3},
                              {"storageNodesOk", 2},
                              {"partitions", 256},
                              {"partitionsQuorum", 256},
                              {"partitionsAllOk", 0}});
    if (r.path == "/v2/ConnectClusterNodes")
      return answer(200, json::array({{{"success", true}, {"error", nullptr}},
                                      {{"success", false}, {"error", "no route"}}}));
    if (r.path == "/v2/UpdateClusterLayout") return answer(200, json::parse(r.body));
    if (r.path == "/v2/PreviewClusterLayoutChanges")
      return answer(200, json{{"error", "not enough zones"}});
    if (r.path == "/v2/ApplyClusterLayout") return answer(200, json::parse(r.body));
    return node_error(404, "NoSuchEndpoint", "no");
  });
  admin_client cl({srv.url(), "t"});
  auto ni = cl.node_info();
  ASSERT_TRUE(ni) << ni.error().to_string();
  EXPECT_EQ(ni->id, self);
  EXPECT_EQ(ni->hostname, "h1");
  EXPECT_EQ(ni->version, "0.9");
  EXPECT_EQ(ni->db_engine, "RocksDB");
  EXPECT_EQ(ni->rpc_addr, "127.0.0.1:3901");
  EXPECT_EQ(ni->layout_version, 4u);
  EXPECT_EQ(ni->zone, "z1");
  EXPECT_EQ(ni->capacity, 7u);
  EXPECT_EQ(ni->data_total, 9u);

  auto h = cl.health();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, "degraded");
  EXPECT_EQ(h->known_nodes, 3u);
  EXPECT_EQ(h->connected_nodes, 2u);
  EXPECT_EQ(h->storage_nodes_ok, 2u);
  EXPECT_EQ(h->partitions_quorum, 256u);
  EXPECT_EQ(h->partitions_all_ok, 0u);

  auto con = cl.connect({"x@1:2", "y@3:4"});
  ASSERT_TRUE(con);
  ASSERT_EQ(con->size(), 2u);
  EXPECT_TRUE((*con)[0].ok);
  EXPECT_EQ((*con)[0].peer, "x@1:2");
  EXPECT_FALSE((*con)[1].ok);
  EXPECT_EQ((*con)[1].error, "no route");

  auto staged = cl.stage_roles({{self, false, "z1", 100, {"t"}},
                                {std::string(64, 'b'), false, "z2", std::nullopt, {}},
                                {std::string(64, 'c'), true, "", std::nullopt, {}}});
  ASSERT_TRUE(staged);
  EXPECT_EQ(*staged, (json{{"roles",
                            {{{"id", self}, {"zone", "z1"}, {"capacity", 100}, {"tags", {"t"}}},
                             {{"id", std::string(64, 'b')},
                              {"zone", "z2"},
                              {"capacity", nullptr},
                              {"tags", json::array()}},
                             {{"id", std::string(64, 'c')}, {"remove", true}}}}}));
  auto zr = cl.stage_zone_redundancy(2);
  ASSERT_TRUE(zr);
  EXPECT_EQ(*zr, (json{{"parameters", {{"zoneRedundancy", {{"atLeast", 2}}}}}}));

  auto pv = cl.preview();
  ASSERT_FALSE(pv);
  EXPECT_EQ(pv.error().code, errc::invalid_argument);
  EXPECT_NE(pv.error().message.find("not enough zones"), std::string::npos);

  auto ap = cl.apply_layout(5);
  ASSERT_TRUE(ap);
  EXPECT_EQ(*ap, (json{{"version", 5}}));
}

// ensure_key computes the allow / deny calls from the key's permissions.
TEST(SyncKey, AllowsMissingDeniesExtra) {
  const std::string b1(64, '1'), b2(64, '2'), b3(64, '3');
  fake_api_server srv([&](const recorded_request& r) {
    if (r.path == "/v2/GetBucketInfo") {
      if (r.param("globalAlias") == "one") return answer(200, json{{"id", b1}});
      if (r.param("globalAlias") == "two") return answer(200, json{{"id", b2}});
      return node_error(404, "NoSuchBucket", "bucket not found");
    }
    if (r.path == "/v2/GetKeyInfo") {
      if (r.param("id") != "GKold") return node_error(404, "NoSuchAccessKey", "no key");
      return answer(
          200,
          json{{"accessKeyId", "GKold"},
               {"name", "old-name"},
               {"secretAccessKey", "s3cr3t"},
               {"buckets",
                {{{"id", b1}, {"permissions", {{"read", true}, {"write", true}, {"owner", false}}}},
                 {{"id", b3},
                  {"permissions", {{"read", true}, {"write", false}, {"owner", true}}}}}}});
    }
    if (r.path == "/v2/UpdateKey")
      return answer(
          200,
          json{{"accessKeyId", "GKold"},
               {"name", "new"},
               {"secretAccessKey", nullptr},
               {"buckets",
                {{{"id", b1}, {"permissions", {{"read", true}, {"write", true}, {"owner", false}}}},
                 {{"id", b3},
                  {"permissions", {{"read", true}, {"write", false}, {"owner", true}}}}}}});
    if (r.path == "/v2/CreateKey")
      return answer(200, json{{"accessKeyId", "GKnew"},
                              {"name", "new"},
                              {"secretAccessKey", "fresh"},
                              {"buckets", json::array()}});
    return answer(200, json::object());
  });
  admin_client cl({srv.url(), "t"});
  key_spec spec{
      "new",
      {{"one", true, false, false}, {"two", false, true, false}, {"one", false, false, true}}};
  auto st = ensure_key(cl, std::string("GKold"), spec);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->id, "GKold");
  EXPECT_EQ(st->secret, "s3cr3t");
  EXPECT_FALSE(st->created);
  std::vector<std::pair<std::string, json>> writes;
  for (const auto& r : srv.requests())
    if (r.method == "POST")
      writes.emplace_back(r.path, r.body.empty() ? json() : json::parse(r.body));
  ASSERT_EQ(writes.size(), 5u);
  EXPECT_EQ(writes[0].first, "/v2/UpdateKey");
  EXPECT_EQ(writes[0].second, (json{{"name", "new"}}));
  // b1: has read+write, wants read+owner -> allow owner, deny write.
  EXPECT_EQ(writes[1].first, "/v2/AllowBucketKey");
  EXPECT_EQ(writes[1].second["bucketId"], b1);
  EXPECT_EQ(writes[1].second["permissions"],
            (json{{"read", false}, {"write", false}, {"owner", true}}));
  EXPECT_EQ(writes[2].first, "/v2/DenyBucketKey");
  EXPECT_EQ(writes[2].second["permissions"],
            (json{{"read", false}, {"write", true}, {"owner", false}}));
  // b2: allow write.
  EXPECT_EQ(writes[3].first, "/v2/AllowBucketKey");
  EXPECT_EQ(writes[3].second["bucketId"], b2);
  EXPECT_EQ(writes[3].second["accessKeyId"], "GKold");
  // b3: not in the spec -> deny what it has.
  EXPECT_EQ(writes[4].first, "/v2/DenyBucketKey");
  EXPECT_EQ(writes[4].second["bucketId"], b3);
  EXPECT_EQ(writes[4].second["permissions"],
            (json{{"read", true}, {"write", false}, {"owner", true}}));

  // An unknown key is created; a missing bucket refuses before any write.
  auto made = ensure_key(cl, std::string("GKgone"), key_spec{"new", {}});
  ASSERT_TRUE(made);
  EXPECT_TRUE(made->created);
  EXPECT_EQ(made->id, "GKnew");
  EXPECT_EQ(made->secret, "fresh");
  size_t before = srv.requests().size();
  auto missing = ensure_key(cl, std::nullopt, key_spec{"k", {{"nope", true, false, false}}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  auto after = srv.requests();
  ASSERT_EQ(after.size(), before + 1);
  EXPECT_EQ(after.back().method, "GET");
}

}  // namespace
}  // namespace garage::op::admin
