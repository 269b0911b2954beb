// A k8s::client over the real cpprestsdk transport to a fake_api_server, and
// JSON helpers, for the runtime tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fake_api_server.h"
#include "k8s/client.h"
#include "k8s/rest_transport.h"

namespace garage::op::testing {

using json = nlohmann::json;
using k8s::testing::fake_api_server;
using k8s::testing::recorded_request;
using k8s::testing::scripted_response;

inline std::shared_ptr<k8s::transport> make_transport(const fake_api_server& server) {
  k8s::cluster_config c;
  c.server = server.url();
  c.token = "tok";
  k8s::rest_options o;
  o.request_timeout = std::chrono::seconds(5);
  o.stream_idle_timeout = std::chrono::seconds(30);
  auto t = k8s::make_rest_transport(c, o);
  EXPECT_TRUE(t) << t.error().to_string();
  return *t;
}

inline std::shared_ptr<k8s::client> make_client(const fake_api_server& server) {
  return std::make_shared<k8s::client>(make_transport(server));
}

inline scripted_response json_response(const json& j, int status = 200) {
  scripted_response s;
  s.status = status;
  s.body = j.dump();
  return s;
}

inline json status_object(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"code", code},     {"reason", reason},   {"message", message}};
}

inline std::string watch_line(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

// Polls `done` every 5 ms for up to `limit`; returns done().
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace garage::op::testing
