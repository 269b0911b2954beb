// GetClusterStatus, GetNodeInfo and ConnectClusterNodes over a cluster_view
// (what the composition root fills from the RPC network).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/admin/handlers.h"
#include "model/store.h"
#include "util/random.h"

namespace garage::admin {
namespace {

using json = nlohmann::json;

class admin_cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-admin-cl-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    auto s = model::store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    store_ = std::move(*s);
    view_ = std::make_shared<cluster_view>();
    view_->self_id = std::string(64, 'a');
    view_->rpc_public_addr = "10.0.0.1:3901";
    view_->peers = [] {
      return std::vector<cluster_peer>{{std::string(64, 'b'), "10.0.0.2:3901", true, 1.5},
                                       {std::string(64, 'c'), "10.0.0.3:3901", false, {}}};
    };
    view_->connect = [this](const std::string& node) -> result<void> {
      asked_.push_back(node);
      if (node.starts_with("bad")) return error(errc::unauthenticated, "no secret");
      return ok();
    };
    facts_.node_id = view_->self_id;
    facts_.cluster = view_;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::pair<unsigned, json> call(std::string_view method, std::string_view path,
                                 std::string_view query = {}, std::string_view body = {}) {
    auto r = find_route(method, path);
    if (!r) return {r.error().status, json{{"code", r.error().code}}};
    auto req = parse_request(*r, query, body);
    if (!req) return {req.error().status, json{{"code", req.error().code}}};
    auto out = execute(*store_, facts_, *req);
    if (!out) return {out.error().status, json{{"code", out.error().code}}};
    return {out->status, out->body.empty() ? json::object() : json::parse(out->body)};
  }

  std::filesystem::path dir_;
  config cfg_;
  std::unique_ptr<model::store> store_;
  std::shared_ptr<cluster_view> view_;
  node_facts facts_;
  std::vector<std::string> asked_;
};

TEST_F(admin_cluster, status_lists_self_first_then_peers) {
  auto [status, j] = call("GET", "/v2/GetClusterStatus");
  ASSERT_EQ(status, 200u) << j.dump();
  auto nodes = j["nodes"];
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0]["id"], std::string(64, 'a'));
  EXPECT_EQ(nodes[0]["addr"], "10.0.0.1:3901");
  EXPECT_EQ(nodes[0]["isUp"], true);
  EXPECT_EQ(nodes[1]["id"], std::string(64, 'b'));
  EXPECT_EQ(nodes[1]["isUp"], true);
  EXPECT_EQ(nodes[1]["rttMs"], 1.5);
  EXPECT_EQ(nodes[2]["addr"], "10.0.0.3:3901");
  EXPECT_EQ(nodes[2]["isUp"], false);
  EXPECT_FALSE(nodes[2].contains("rttMs"));
}

TEST_F(admin_cluster, connect_answers_one_result_per_node) {
  std::string good = std::string(64, 'b') + "@10.0.0.2:3901";
  auto [status, j] =
      call("POST", "/v2/ConnectClusterNodes", {}, json::array({good, "bad@x:1"}).dump());
  ASSERT_EQ(status, 200u) << j.dump();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["success"], true);
  EXPECT_TRUE(j[0]["error"].is_null());
  EXPECT_EQ(j[1]["success"], false);
  EXPECT_EQ(j[1]["error"], "no secret");
  EXPECT_EQ(asked_, (std::vector<std::string>{good, "bad@x:1"}));
  // The body must be an array of strings.
  EXPECT_EQ(call("POST", "/v2/ConnectClusterNodes", {}, R"({"a":1})").first, 400u);
  EXPECT_EQ(call("POST", "/v2/ConnectClusterNodes", {}, "[1]").first, 400u);
  // Without a network: 503.
  facts_.cluster = nullptr;
  EXPECT_EQ(call("POST", "/v2/ConnectClusterNodes", {}, "[]").first, 503u);
}

}  // namespace
}  // namespace garage::admin
