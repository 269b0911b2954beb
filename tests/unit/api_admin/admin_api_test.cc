// The admin front end through a fake exchange: authentication, /health,
// /metrics, error documents, and a request that reaches the store.
#include "api/admin/admin_api.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/store.h"
#include "util/random.h"

namespace garage::admin {
namespace {

using json = nlohmann::json;

class fake_exchange : public http::exchange {
 public:
  fake_exchange(std::string method, std::string target, std::string body = {},
                std::optional<std::string> token = std::nullopt)
      : body_(std::move(body)) {
    head_.method = std::move(method);
    head_.target = std::move(target);
    head_.content_length = body_.size();
    if (token) head_.headers.add("Authorization", "Bearer " + *token);
  }
  const http::request_head& head() const override { return head_; }
  const std::string& remote_addr() const override { return remote_; }
  http::task<result<size_t>> read_body(std::span<char> out) override {
    size_t n = std::min(out.size(), body_.size() - pos_);
    std::memcpy(out.data(), body_.data() + pos_, n);
    pos_ += n;
    co_return n;
  }
  http::task<result<void>> respond(http::response_head h, std::string body) override {
    status = h.status;
    headers = std::move(h.headers);
    response = std::move(body);
    responded_ = true;
    co_return ok();
  }
  http::task<result<void>> begin_response(http::response_head h, uint64_t) override {
    status = h.status;
    headers = std::move(h.headers);
    responded_ = true;
    co_return ok();
  }
  http::task<result<void>> write_body(std::string_view data) override {
    response.append(data);
    co_return ok();
  }
  http::task<result<void>> end_response() override { co_return ok(); }
  bool responded() const override { return responded_; }

  unsigned status = 0;
  http::header_map headers;
  std::string response;

 private:
  http::request_head head_;
  std::string remote_ = "127.0.0.1:1";
  std::string body_;
  size_t pos_ = 0;
  bool responded_ = false;
};

class admin_api_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-admin-api-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    auto s = model::store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    store_ = std::move(*s);
    registry_ = std::make_shared<prometheus::Registry>();
    rt_ = std::make_unique<http::runtime>(1, 1);
    rt_->start();
  }
  void TearDown() override {
    api_.reset();
    rt_->stop();
    rt_->join();
    rt_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void make_api(std::string metrics_token = {}) {
    admin_options o;
    o.admin_token = "admin-secret";
    o.metrics_token = std::move(metrics_token);
    o.registry = registry_;
    api_ = std::make_unique<admin_api>(*rt_, *store_, cfg_, std::move(o));
  }
  void run(fake_exchange& ex) {
    auto h = api_->handler();
    auto done = boost::asio::co_spawn(rt_->io(), h(ex), boost::asio::use_future);
    done.get();
  }

  std::filesystem::path dir_;
  config cfg_;
  std::unique_ptr<model::store> store_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<http::runtime> rt_;
  std::unique_ptr<admin_api> api_;
};

TEST_F(admin_api_test, health_needs_no_token) {
  make_api();
  fake_exchange ex("GET", "/health");
  run(ex);
  EXPECT_EQ(ex.status, 200u);
  EXPECT_EQ(ex.response, "ok\n");
}

TEST_F(admin_api_test, a_standalone_node_is_ready_without_a_token) {
  make_api();
  fake_exchange ex("GET", "/ready");
  run(ex);
  EXPECT_EQ(ex.status, 200u);
  EXPECT_EQ(ex.response, "ok\n");
}

TEST_F(admin_api_test, v2_endpoints_need_the_admin_token) {
  make_api();
  for (std::optional<std::string> token :
       {std::optional<std::string>(), std::optional<std::string>("wrong"),
        std::optional<std::string>("admin-secre"), std::optional<std::string>("admin-secret2")}) {
    fake_exchange ex("GET", "/v2/ListKeys", {}, token);
    run(ex);
    EXPECT_EQ(ex.status, 401u) << token.value_or("(none)");
    EXPECT_EQ(ex.headers.get("www-authenticate"), "Bearer");
    json j = json::parse(ex.response);
    EXPECT_EQ(j["code"], "AccessDenied");
    EXPECT_EQ(j["path"], "/v2/ListKeys");
    EXPECT_EQ(j["region"], "garage");
  }
  fake_exchange ex("GET", "/v2/ListKeys", {}, "admin-secret");
  run(ex);
  EXPECT_EQ(ex.status, 200u);
  EXPECT_EQ(json::parse(ex.response), json::array());
  EXPECT_EQ(ex.headers.get("content-type"), "application/json");
}

TEST_F(admin_api_test, unimplemented_endpoints_still_need_the_token) {
  make_api();
  fake_exchange anon("POST", "/v2/LaunchRepairOperation", "{}");
  run(anon);
  EXPECT_EQ(anon.status, 401u);
  fake_exchange ex("POST", "/v2/LaunchRepairOperation", "{}", "admin-secret");
  run(ex);
  EXPECT_EQ(ex.status, 501u);
  EXPECT_EQ(json::parse(ex.response)["code"], "NotImplemented");
}

TEST_F(admin_api_test, errors_are_json_documents_with_their_status) {
  make_api();
  fake_exchange unknown("GET", "/v2/Nope", {}, "admin-secret");
  run(unknown);
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(json::parse(unknown.response)["code"], "NoSuchEndpoint");

  fake_exchange bad("POST", "/v2/CreateKey", "{\"name\":", "admin-secret");
  run(bad);
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(json::parse(bad.response)["code"], "InvalidRequest");

  fake_exchange missing("GET", "/v2/GetKeyInfo?id=GK000000000000000000000000", {}, "admin-secret");
  run(missing);
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(json::parse(missing.response)["code"], "NoSuchAccessKey");

  fake_exchange big("POST", "/v2/CreateKey", std::string(2 << 20, ' '), "admin-secret");
  run(big);
  EXPECT_EQ(big.status, 413u);
}

TEST_F(admin_api_test, requests_reach_the_store) {
  make_api();
  fake_exchange create("POST", "/v2/CreateKey", R"({"name":"alice"})", "admin-secret");
  run(create);
  ASSERT_EQ(create.status, 200u) << create.response;
  std::string id = json::parse(create.response)["accessKeyId"];
  fake_exchange list("GET", "/v2/ListKeys", {}, "admin-secret");
  run(list);
  json keys = json::parse(list.response);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["id"], id);
  fake_exchange del("POST", "/v2/DeleteKey?id=" + id, {}, "admin-secret");
  run(del);
  EXPECT_EQ(del.status, 200u);
  fake_exchange again("GET", "/v2/ListKeys", {}, "admin-secret");
  run(again);
  EXPECT_EQ(json::parse(again.response), json::array());
}

TEST_F(admin_api_test, metrics_are_open_without_a_metrics_token) {
  make_api();
  fake_exchange ex("GET", "/metrics");
  run(ex);
  EXPECT_EQ(ex.status, 200u);
  EXPECT_NE(ex.response.find("garage_build_info{version=\""), std::string::npos) << ex.response;
  EXPECT_NE(ex.response.find("garage_local_disk_avail{volume=\"data\"}"), std::string::npos);
  EXPECT_TRUE(ex.headers.get("content-type")->starts_with("text/plain"));
}

TEST_F(admin_api_test, metrics_token_or_admin_token_guards_metrics_when_set) {
  make_api("metrics-secret");
  fake_exchange anon("GET", "/metrics");
  run(anon);
  EXPECT_EQ(anon.status, 401u);
  fake_exchange wrong("GET", "/metrics", {}, "nope");
  run(wrong);
  EXPECT_EQ(wrong.status, 401u);
  fake_exchange m("GET", "/metrics", {}, "metrics-secret");
  run(m);
  EXPECT_EQ(m.status, 200u);
  fake_exchange a("GET", "/metrics", {}, "admin-secret");
  run(a);
  EXPECT_EQ(a.status, 200u);
  // The metrics token opens nothing else.
  fake_exchange v2("GET", "/v2/ListKeys", {}, "metrics-secret");
  run(v2);
  EXPECT_EQ(v2.status, 401u);
}

}  // namespace
}  // namespace garage::admin
