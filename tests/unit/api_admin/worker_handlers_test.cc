// The worker endpoints through parse → execute, over a real worker_runner
// with fake workers: one always busy with a queue, one whose steps fail.
#include "api/admin/worker_handlers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "model/store.h"
#include "util/random.h"
#include "util/worker.h"

namespace garage::admin {
namespace {

using json = nlohmann::json;

class busy_worker : public worker {
 public:
  std::string name() const override { return "busy"; }
  result<worker_state> step() override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return worker_state::busy;
  }
  std::optional<uint64_t> queue_length() const override { return 7; }
  std::string progress() const override { return "item 3/10"; }
};

class failing_worker : public worker {
 public:
  std::string name() const override { return "failing"; }
  result<worker_state> step() override { return error(errc::io_error, "disk on fire"); }
};

class admin_workers : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-admin-workers-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    auto s = model::store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    store_ = std::move(*s);
    facts_.node_id = store_->node_id();
    runner_.add(std::make_unique<busy_worker>());
    runner_.add(std::make_unique<failing_worker>(), 4);
    // The failing worker's first step has run (then it backs off for 1 s).
    for (int i = 0; i < 500; ++i) {
      auto l = runner_.list();
      if (l[1].errors > 0 && l[0].steps > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void TearDown() override {
    runner_.stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::pair<unsigned, json> call(std::string_view path, std::string_view body = {},
                                 std::string_view query = {}, bool with_runner = true) {
    auto r = find_route("POST", path);
    if (!r) return {r.error().status, json{{"code", r.error().code}}};
    auto req = parse_request(*r, query, body);
    if (!req)
      return {req.error().status,
              json{{"code", req.error().code}, {"message", req.error().message}}};
    auto out = execute(*store_, facts_, *req, nullptr, with_runner ? &runner_ : nullptr);
    if (!out)
      return {out.error().status,
              json{{"code", out.error().code}, {"message", out.error().message}}};
    return {out->status, json::parse(out->body)};
  }
  // The reply's document for this node, expecting 200.
  json ok(std::string_view path, std::string_view body = {}) {
    auto [status, j] = call(path, body);
    EXPECT_EQ(status, 200u) << path << " " << body << " -> " << j.dump();
    EXPECT_TRUE(j["error"].empty()) << j.dump();
    return j["success"][facts_.node_id];
  }
  void expect_error(unsigned status, std::string_view code, std::string_view path,
                    std::string_view body) {
    auto [st, j] = call(path, body);
    EXPECT_EQ(st, status) << path << " " << body << " -> " << j.dump();
    EXPECT_EQ(j["code"], code) << path << " " << body;
    EXPECT_FALSE(j.value("message", "").empty()) << path << " " << body;
  }

  std::filesystem::path dir_;
  config cfg_;
  node_facts facts_;
  std::unique_ptr<model::store> store_;
  worker_runner runner_;
};

TEST_F(admin_workers, list_shows_state_queue_tranquility_and_errors) {
  json list = ok("/v2/ListWorkers");
  ASSERT_EQ(list.size(), 2u) << list.dump();
  const json& busy = list[0];
  EXPECT_EQ(busy["id"], 1);
  EXPECT_EQ(busy["name"], "busy");
  EXPECT_EQ(busy["state"], "busy");
  EXPECT_EQ(busy["queueLength"], 7);
  EXPECT_EQ(busy["progress"], "item 3/10");
  EXPECT_EQ(busy["tranquility"], 0);
  EXPECT_EQ(busy["errors"], 0);
  EXPECT_EQ(busy["consecutiveErrors"], 0);
  EXPECT_TRUE(busy["lastError"].is_null());
  const json& failing = list[1];
  EXPECT_EQ(failing["id"], 2);
  EXPECT_EQ(failing["state"], "error");
  EXPECT_EQ(failing["tranquility"], 4);
  EXPECT_GE(failing["errors"].get<int>(), 1);
  EXPECT_GE(failing["consecutiveErrors"].get<int>(), 1);
  EXPECT_TRUE(failing["queueLength"].is_null());
  ASSERT_TRUE(failing["lastError"].is_object());
  EXPECT_EQ(failing["lastError"]["message"], "disk on fire");
  EXPECT_LE(failing["lastError"]["secsAgo"].get<int>(), 5);
}

TEST_F(admin_workers, list_filters_busy_and_failed_workers) {
  json busy = ok("/v2/ListWorkers", R"({"busyOnly": true})");
  ASSERT_EQ(busy.size(), 1u) << busy.dump();
  EXPECT_EQ(busy[0]["name"], "busy");
  json failed = ok("/v2/ListWorkers", R"({"errorOnly": true})");
  ASSERT_EQ(failed.size(), 1u) << failed.dump();
  EXPECT_EQ(failed[0]["name"], "failing");
  EXPECT_TRUE(ok("/v2/ListWorkers", R"({"busyOnly": true, "errorOnly": true})").empty());
  expect_error(400, "InvalidRequest", "/v2/ListWorkers", R"({"busyOnly": "yes"})");
  expect_error(400, "InvalidRequest", "/v2/ListWorkers", "[1]");
}

TEST_F(admin_workers, worker_info_by_id) {
  json w = ok("/v2/GetWorkerInfo", R"({"id": 2})");
  EXPECT_EQ(w["name"], "failing");
  EXPECT_EQ(w["lastError"]["message"], "disk on fire");
  expect_error(404, "NoSuchWorker", "/v2/GetWorkerInfo", R"({"id": 99})");
  expect_error(400, "InvalidRequest", "/v2/GetWorkerInfo", "{}");
  expect_error(400, "InvalidRequest", "/v2/GetWorkerInfo", R"({"id": "busy"})");
  expect_error(400, "InvalidRequest", "/v2/GetWorkerInfo", R"({"id": -1})");
}

TEST_F(admin_workers, set_then_get_tranquility_by_id_name_and_variable_name) {
  json set = ok("/v2/SetWorkerVariable", R"({"id": 1, "variable": "tranquility", "value": "5"})");
  EXPECT_EQ(set["variable"], "tranquility");
  EXPECT_EQ(set["value"], "5");
  EXPECT_EQ(set["name"], "busy");
  EXPECT_EQ(ok("/v2/GetWorkerInfo", R"({"id": 1})")["tranquility"], 5);
  EXPECT_EQ(runner_.list()[0].tranquility, 5u);

  ok("/v2/SetWorkerVariable", R"({"name": "failing", "variable": "tranquility", "value": 0})");
  EXPECT_EQ(runner_.list()[1].tranquility, 0u);
  // Garage's node-wide form: "<worker>-tranquility".
  ok("/v2/SetWorkerVariable", R"({"variable": "failing-tranquility", "value": "1000"})");
  EXPECT_EQ(runner_.list()[1].tranquility, 1000u);

  EXPECT_EQ(ok("/v2/GetWorkerVariable"),
            (json{{"busy-tranquility", "5"}, {"failing-tranquility", "1000"}}));
  EXPECT_EQ(ok("/v2/GetWorkerVariable", R"({"id": 1})"), (json{{"tranquility", "5"}}));
  EXPECT_EQ(ok("/v2/GetWorkerVariable", R"({"name": "busy", "variable": "tranquility"})"),
            (json{{"tranquility", "5"}}));
  EXPECT_EQ(ok("/v2/GetWorkerVariable", R"({"variable": "failing-tranquility"})"),
            (json{{"failing-tranquility", "1000"}}));
}

TEST_F(admin_workers, bad_variables_and_values_change_nothing) {
  const char* path = "/v2/SetWorkerVariable";
  for (const char* body : {
           R"({"id": 1, "variable": "tranquility", "value": "1001"})",
           R"({"id": 1, "variable": "tranquility", "value": "-1"})",
           R"({"id": 1, "variable": "tranquility", "value": "fast"})",
           R"({"id": 1, "variable": "tranquility", "value": ""})",
           R"({"id": 1, "variable": "tranquility", "value": "2x"})",
           R"({"id": 1, "variable": "tranquility", "value": 1.5})",
           R"({"id": 1, "variable": "tranquility"})",
           R"({"id": 1, "variable": "speed", "value": "1"})",
           R"({"id": 1, "value": "1"})",
           R"({"variable": "tranquility", "value": "1"})",
           R"({"variable": "nosuch-tranquility", "value": "1"})",
           R"({"id": 1, "name": "busy", "variable": "tranquility", "value": "1"})",
       }) {
    expect_error(400, "InvalidRequest", path, body);
  }
  expect_error(404, "NoSuchWorker", path, R"({"id": 9, "variable": "tranquility", "value": "1"})");
  expect_error(404, "NoSuchWorker", path,
               R"({"name": "nosuch", "variable": "tranquility", "value": "1"})");
  expect_error(400, "InvalidRequest", "/v2/GetWorkerVariable", R"({"variable": "speed"})");
  expect_error(404, "NoSuchWorker", "/v2/GetWorkerVariable", R"({"name": "nosuch"})");
  EXPECT_EQ(runner_.list()[0].tranquility, 0u);
  EXPECT_EQ(runner_.list()[1].tranquility, 4u);
}

TEST_F(admin_workers, another_node_lands_in_error_and_no_runner_is_503) {
  auto [status, j] = call("/v2/ListWorkers", "{}", "node=" + std::string(64, 'e'));
  EXPECT_EQ(status, 200u);
  EXPECT_TRUE(j["success"].empty());
  EXPECT_TRUE(j["error"].contains(std::string(64, 'e'))) << j.dump();
  std::tie(status, j) =
      call("/v2/SetWorkerVariable", R"({"id": 1, "variable": "tranquility", "value": "9"})",
           "node=" + std::string(64, 'e'));
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(runner_.list()[0].tranquility, 0u);
  std::tie(status, j) = call("/v2/ListWorkers", "{}", "node=" + facts_.node_id);
  EXPECT_EQ(j["success"][facts_.node_id].size(), 2u);
  std::tie(status, j) = call("/v2/ListWorkers", "{}", "node=*");
  EXPECT_EQ(j["success"][facts_.node_id].size(), 2u);

  for (const char* path :
       {"/v2/ListWorkers", "/v2/GetWorkerInfo", "/v2/GetWorkerVariable", "/v2/SetWorkerVariable"}) {
    auto [st, e] = call(path, R"({"id": 1, "variable": "tranquility", "value": "1"})", {}, false);
    EXPECT_EQ(st, 503u) << path;
    EXPECT_EQ(e["message"], "no workers on this node") << path;
  }
}

TEST_F(admin_workers, endpoints_take_post) {
  auto r = find_route("GET", "/v2/ListWorkers");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().status, 405u);
  auto p = find_route("POST", "/v2/SetWorkerVariable");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->ep, endpoint::set_worker_variable);
  EXPECT_TRUE(p->reads_body);
}

}  // namespace
}  // namespace garage::admin
