// The cluster layout endpoints through parse → execute, over a real
// layout_manager on a one-node local_net.
#include "api/admin/layout_handlers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/store.h"
#include "rpc/layout_manager.h"
#include "rpc/local_net.h"
#include "util/random.h"

namespace garage::admin {
namespace {

using json = nlohmann::json;

class admin_layout : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-admin-layout-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    auto s = model::store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    store_ = std::move(*s);
    facts_.node_id = store_->node_id();
    hash256::from_hex(store_->node_id(), self_);
    auto& t = net_.add(self_);
    rpc::layout_manager_options o;
    o.metadata_dir = cfg_.metadata_dir;
    o.initial.replication_factor = 1;
    auto m = rpc::layout_manager::open(t, o);
    ASSERT_TRUE(m.has_value()) << m.error().to_string();
    layout_ = std::move(*m);
  }
  void TearDown() override {
    layout_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::pair<unsigned, json> call(std::string_view method, std::string_view path,
                                 std::string_view body = {}, bool with_layout = true) {
    auto r = find_route(method, path);
    if (!r) return {r.error().status, json{{"code", r.error().code}}};
    auto req = parse_request(*r, "", body);
    if (!req)
      return {req.error().status,
              json{{"code", req.error().code}, {"message", req.error().message}}};
    auto out = execute(*store_, facts_, *req, with_layout ? layout_.get() : nullptr);
    if (!out)
      return {out.error().status,
              json{{"code", out.error().code}, {"message", out.error().message}}};
    json j = out->body.empty() ? json::object() : json::parse(out->body);
    return {out->status, j};
  }
  json ok(std::string_view method, std::string_view path, std::string_view body = {}) {
    auto [status, j] = call(method, path, body);
    EXPECT_EQ(status, 200u) << method << " " << path << " " << body << " -> " << j.dump();
    return j;
  }
  std::string self_hex() const { return self_.hex(); }

  rpc::local_net net_;
  std::filesystem::path dir_;
  config cfg_;
  node_facts facts_;
  layout::node_id self_{};
  std::unique_ptr<model::store> store_;
  std::unique_ptr<rpc::layout_manager> layout_;
};

TEST_F(admin_layout, empty_layout_then_assign_preview_apply_history) {
  json l = ok("GET", "/v2/GetClusterLayout");
  EXPECT_EQ(l["version"], 0);
  EXPECT_TRUE(l["roles"].empty());
  EXPECT_TRUE(l["stagedRoleChanges"].empty());
  EXPECT_EQ(l["parameters"]["zoneRedundancy"], "maximum");
  EXPECT_EQ(l["partitionSize"], 0);

  json body = {
      {"roles",
       {{{"id", self_hex()}, {"zone", "dc1"}, {"capacity", 2'000'000'000}, {"tags", {"fast"}}}}}};
  l = ok("POST", "/v2/UpdateClusterLayout", body.dump());
  EXPECT_EQ(l["version"], 0);
  ASSERT_EQ(l["stagedRoleChanges"].size(), 1u);
  EXPECT_EQ(l["stagedRoleChanges"][0]["id"], self_hex());
  EXPECT_EQ(l["stagedRoleChanges"][0]["zone"], "dc1");
  EXPECT_EQ(l["stagedRoleChanges"][0]["capacity"], 2'000'000'000);
  EXPECT_EQ(l["stagedRoleChanges"][0]["tags"], json({"fast"}));

  json p = ok("POST", "/v2/PreviewClusterLayoutChanges");
  ASSERT_TRUE(p.contains("message")) << p.dump();
  EXPECT_FALSE(p["message"].empty());
  EXPECT_EQ(p["newLayout"]["version"], 1);
  EXPECT_EQ(layout_->version(), 0u) << "a preview changes nothing";

  json a = ok("POST", "/v2/ApplyClusterLayout", R"({"version": 1})");
  EXPECT_FALSE(a["message"].empty());
  EXPECT_EQ(a["layout"]["version"], 1);
  ASSERT_EQ(a["layout"]["roles"].size(), 1u);
  json role = a["layout"]["roles"][0];
  EXPECT_EQ(role["id"], self_hex());
  EXPECT_EQ(role["zone"], "dc1");
  EXPECT_EQ(role["storedPartitions"], 256);
  EXPECT_GT(role["usableCapacity"].get<uint64_t>(), 0u);
  EXPECT_TRUE(a["layout"]["stagedRoleChanges"].empty());
  EXPECT_GT(a["layout"]["partitionSize"].get<uint64_t>(), 0u);

  json h = ok("GET", "/v2/GetClusterLayoutHistory");
  EXPECT_EQ(h["currentVersion"], 1);
  ASSERT_EQ(h["versions"].size(), 1u);
  EXPECT_EQ(h["versions"][0]["version"], 1);
  EXPECT_EQ(h["versions"][0]["status"], "Current");
  EXPECT_EQ(h["versions"][0]["storageNodes"], 1);
  EXPECT_TRUE(h["updateTrackers"].contains(self_hex()));

  // Zone redundancy and a staged removal, then revert.
  l = ok("POST", "/v2/UpdateClusterLayout",
         R"({"parameters": {"zoneRedundancy": {"atLeast": 1}}})");
  EXPECT_EQ(l["stagedParameters"]["zoneRedundancy"]["atLeast"], 1);
  body = {{"roles", {{{"id", self_hex()}, {"remove", true}}}}};
  l = ok("POST", "/v2/UpdateClusterLayout", body.dump());
  ASSERT_EQ(l["stagedRoleChanges"].size(), 1u);
  EXPECT_EQ(l["stagedRoleChanges"][0]["remove"], true);
  l = ok("POST", "/v2/RevertClusterLayout");
  EXPECT_TRUE(l["stagedRoleChanges"].empty());
  EXPECT_TRUE(l["stagedParameters"].is_null());
  EXPECT_EQ(l["version"], 1);
}

TEST_F(admin_layout, errors_are_400_and_change_nothing) {
  auto expect_400 = [&](std::string_view method, std::string_view path, std::string body) {
    auto [status, j] = call(method, path, body);
    EXPECT_EQ(status, 400u) << path << " " << body << " -> " << j.dump();
    EXPECT_EQ(j["code"], "InvalidRequest") << j.dump();
    return j;
  };
  // Wrong version: nothing staged, so version 1 is the only valid number.
  json j = expect_400("POST", "/v2/ApplyClusterLayout", R"({"version": 5})");
  EXPECT_NE(j["message"].get<std::string>().find("next one must be 1"), std::string::npos)
      << j.dump();
  expect_400("POST", "/v2/ApplyClusterLayout", R"({})");
  expect_400("POST", "/v2/ApplyClusterLayout", R"({"version": "one"})");
  // Nothing staged: compute fails (no storage node).
  expect_400("POST", "/v2/ApplyClusterLayout", R"({"version": 1})");
  // Bad node ids, an unknown node to remove, invalid roles.
  expect_400("POST", "/v2/UpdateClusterLayout",
             R"({"roles": [{"id": "abc", "zone": "dc1", "capacity": 1000}]})");
  j = expect_400("POST", "/v2/UpdateClusterLayout",
                 json{{"roles", {{{"id", std::string(64, 'e')}, {"remove", true}}}}}.dump());
  EXPECT_NE(j["message"].get<std::string>().find("no role"), std::string::npos) << j.dump();
  expect_400("POST", "/v2/UpdateClusterLayout",
             json{{"roles", {{{"id", self_hex()}, {"zone", ""}, {"capacity", 1000}}}}}.dump());
  expect_400("POST", "/v2/UpdateClusterLayout",
             json{{"roles", {{{"id", self_hex()}, {"zone", "dc1"}, {"capacity", 0}}}}}.dump());
  expect_400("POST", "/v2/UpdateClusterLayout",
             json{{"roles", {{{"id", self_hex()}, {"capacity", 10}}}}}.dump());
  expect_400("POST", "/v2/UpdateClusterLayout",
             json{{"roles", {{{"id", self_hex()}, {"zone", "a"}, {"capacity", -1}}}}}.dump());
  expect_400("POST", "/v2/UpdateClusterLayout", R"({"roles": {}})");
  expect_400("POST", "/v2/UpdateClusterLayout", R"({"parameters": {"zoneRedundancy": "lots"}})");
  expect_400("POST", "/v2/UpdateClusterLayout",
             R"({"parameters": {"zoneRedundancy": {"atLeast": 0}}})");
  // Zone redundancy above the replication factor (1).
  expect_400("POST", "/v2/UpdateClusterLayout",
             R"({"parameters": {"zoneRedundancy": {"atLeast": 2}}})");
  // One bad item in a batch: the good one is not staged either.
  expect_400("POST", "/v2/UpdateClusterLayout",
             json{{"roles",
                   {{{"id", self_hex()}, {"zone", "dc1"}, {"capacity", 1000}},
                    {{"id", std::string(64, 'f')}, {"zone", ""}, {"capacity", 1000}}}}}
                 .dump());
  EXPECT_TRUE(layout_->history().staging().empty());
  EXPECT_EQ(layout_->version(), 0u);

  // Apply with the version that was already applied.
  ok("POST", "/v2/UpdateClusterLayout",
     json{{"roles", {{{"id", self_hex()}, {"zone", "dc1"}, {"capacity", 1000}}}}}.dump());
  ok("POST", "/v2/ApplyClusterLayout", R"({"version": 1})");
  ok("POST", "/v2/UpdateClusterLayout",
     json{{"roles", {{{"id", self_hex()}, {"zone", "dc2"}, {"capacity", 1000}}}}}.dump());
  expect_400("POST", "/v2/ApplyClusterLayout", R"({"version": 1})");
  EXPECT_EQ(layout_->version(), 1u);

  // Preview of an impossible layout is a 200 with the reason, as in Garage.
  ok("POST", "/v2/UpdateClusterLayout",
     json{{"roles", {{{"id", self_hex()}, {"remove", true}}}}}.dump());
  json p = ok("POST", "/v2/PreviewClusterLayoutChanges");
  EXPECT_TRUE(p["error"].is_string()) << p.dump();

  // Wrong methods; no layout service.
  EXPECT_EQ(call("POST", "/v2/GetClusterLayout").first, 405u);
  EXPECT_EQ(call("GET", "/v2/ApplyClusterLayout").first, 405u);
  EXPECT_EQ(call("GET", "/v2/GetClusterLayout", "", false).first, 503u);
}

TEST_F(admin_layout, skip_dead_nodes_raises_the_trackers_of_nodes_that_are_down) {
  auto [status, j] = call("POST", "/v2/ClusterLayoutSkipDeadNodes", R"({"version": 0})");
  EXPECT_EQ(status, 400u) << j.dump();
  EXPECT_NE(j["message"].get<std::string>().find("only one layout version"), std::string::npos)
      << j.dump();
  // Version 1: this node and another; version 2: this node alone, the
  // other one is down for good.
  layout::node_id other = blake2b_256("other node");
  net_.add(other);
  ok("POST", "/v2/UpdateClusterLayout",
     json{{"roles",
           {{{"id", self_hex()}, {"zone", "dc1"}, {"capacity", 1000}},
            {{"id", other.hex()}, {"zone", "dc2"}, {"capacity", 1000}}}}}
         .dump());
  ok("POST", "/v2/ApplyClusterLayout", R"({"version": 1})");
  ok("POST", "/v2/UpdateClusterLayout",
     json{{"roles", {{{"id", other.hex()}, {"remove", true}}}}}.dump());
  ok("POST", "/v2/ApplyClusterLayout", R"({"version": 2})");

  // The other node is up: nothing to skip.
  std::tie(status, j) = call("POST", "/v2/ClusterLayoutSkipDeadNodes", R"({"version": 2})");
  EXPECT_EQ(status, 400u) << j.dump();
  EXPECT_NE(j["message"].get<std::string>().find("nothing to skip"), std::string::npos);
  net_.set_up(other, false);
  for (const char* bad : {R"({})", R"({"version": "2"})", R"({"version": -2})",
                          R"({"version": 2, "allowMissingData": "yes"})", R"([2])"}) {
    std::tie(status, j) = call("POST", "/v2/ClusterLayoutSkipDeadNodes", bad);
    EXPECT_EQ(status, 400u) << bad << " -> " << j.dump();
  }
  std::tie(status, j) = call("POST", "/v2/ClusterLayoutSkipDeadNodes", R"({"version": 1})");
  EXPECT_EQ(status, 400u) << j.dump();
  EXPECT_NE(j["message"].get<std::string>().find("not the current layout version 2"),
            std::string::npos)
      << j.dump();
  EXPECT_EQ(layout_->history().trackers().ack.count(other), 0u) << "refusals change nothing";

  // Replication factor 1: the other node held its partitions alone, so its
  // sync is kept unless missing data is allowed.
  json r = ok("POST", "/v2/ClusterLayoutSkipDeadNodes", R"({"version": 2})");
  EXPECT_EQ(r["ackUpdated"], json::array({other.hex()})) << r.dump();
  EXPECT_EQ(r["syncUpdated"], json::array()) << r.dump();
  EXPECT_EQ(r["syncNotUpdated"], json::array({other.hex()})) << r.dump();
  json h = ok("GET", "/v2/GetClusterLayoutHistory");
  EXPECT_EQ(h["updateTrackers"][other.hex()]["ack"], 2) << h.dump();
  EXPECT_EQ(h["updateTrackers"][other.hex()]["sync"], 1) << h.dump();
  r = ok("POST", "/v2/ClusterLayoutSkipDeadNodes", R"({"version": 2, "allowMissingData": true})");
  EXPECT_EQ(r["ackUpdated"], json::array()) << r.dump();
  EXPECT_EQ(r["syncUpdated"], json::array({other.hex()})) << r.dump();
  h = ok("GET", "/v2/GetClusterLayoutHistory");
  EXPECT_EQ(h["updateTrackers"][other.hex()]["sync"], 2) << h.dump();
  EXPECT_EQ(call("POST", "/v2/ClusterLayoutSkipDeadNodes", R"({"version": 2})", false).first, 503u);
  EXPECT_EQ(call("GET", "/v2/ClusterLayoutSkipDeadNodes").first, 405u);
}

}  // namespace
}  // namespace garage::admin
