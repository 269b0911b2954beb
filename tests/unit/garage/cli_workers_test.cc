// garage worker list | info | get | set against a fake admin API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "garage/cli.h"

namespace garage::cli {
namespace {

using json = nlohmann::json;

const std::string self_id(64, 'a');

json multi(const json& doc) {
  return json{{"success", {{self_id, doc}}}, {"error", json::object()}};
}

json worker(int id, const std::string& name, const std::string& state) {
  return json{{"id", id},         {"name", name},           {"state", state},
              {"errors", 0},      {"consecutiveErrors", 0}, {"lastError", nullptr},
              {"tranquility", 0}, {"progress", nullptr},    {"queueLength", nullptr},
              {"steps", 12}};
}

struct fake_api {
  json workers = json::array();
  std::vector<std::pair<std::string, json>> calls;  // target, body
  unsigned set_status = 200;
  std::string set_error;

  api_caller caller() {
    return [this](const http_request& r) -> result<http_response> {
      json body = r.body.empty() ? json::object() : json::parse(r.body);
      calls.emplace_back(r.target, body);
      http_response resp;
      resp.status = 200;
      if (r.method != "POST") {
        resp.status = 405;
        resp.body = R"({"code":"MethodNotAllowed","message":"POST"})";
      } else if (r.target == "/v2/ListWorkers") {
        json out = json::array();
        for (const auto& w : workers)
          if (!body.value("errorOnly", false) || w["errors"] != 0) out.push_back(w);
        resp.body = multi(out).dump();
      } else if (r.target == "/v2/GetWorkerInfo") {
        resp.status = 404;
        resp.body = R"({"code":"NoSuchWorker","message":"no worker 9 on this node"})";
        for (const auto& w : workers) {
          if (w["id"] == body["id"]) {
            resp.status = 200;
            resp.body = multi(w).dump();
          }
        }
      } else if (r.target == "/v2/GetWorkerVariable") {
        resp.body =
            multi(json{{"maintenance-tranquility", "0"}, {"lifecycle-tranquility", "2"}}).dump();
      } else if (r.target == "/v2/SetWorkerVariable") {
        resp.status = set_status;
        if (set_status == 200) {
          resp.body = multi(json{{"variable", body["variable"]},
                                 {"value", body["value"]},
                                 {"id", 1},
                                 {"name", "maintenance"}})
                          .dump();
        } else {
          resp.body = json{{"code", "InvalidRequest"}, {"message", set_error}}.dump();
        }
      } else {
        resp.status = 404;
        resp.body = R"({"code":"NoSuchEndpoint","message":"no"})";
      }
      return resp;
    };
  }
};

struct outcome {
  int code;
  std::string out, err;
};

outcome run(fake_api& api, std::vector<std::string> argv) {
  auto cmd = parse_command_line(argv);
  EXPECT_TRUE(cmd.has_value()) << (cmd ? "" : cmd.error().message);
  if (!cmd) return {2, "", ""};
  std::ostringstream out, err;
  int code = run_command(*cmd, api.caller(), out, err);
  return {code, out.str(), err.str()};
}

TEST(cli_workers, list_prints_a_table_with_errors_and_queue) {
  fake_api api;
  api.workers.push_back(worker(1, "maintenance", "idle"));
  json bad = worker(2, "resync", "error");
  bad["errors"] = 3;
  bad["consecutiveErrors"] = 2;
  bad["lastError"] = {{"message", "peer unreachable"}, {"secsAgo", 4}};
  bad["queueLength"] = 17;
  bad["tranquility"] = 2;
  api.workers.push_back(bad);
  auto r = run(api, {"worker", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID  Name         State  Tranq  Queue  Errors          Last error\n"
            "1   maintenance  idle   0      -      0\n"
            "2   resync       error  2      17     3 (2 in a row)  4s ago: peer unreachable\n");
  r = run(api, {"worker", "list", "--errors"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(api.calls.back().second, (json{{"busyOnly", false}, {"errorOnly", true}}));
  EXPECT_EQ(r.out.find("maintenance"), std::string::npos) << r.out;
}

TEST(cli_workers, info_by_id_or_name) {
  fake_api api;
  json w = worker(2, "lifecycle", "idle");
  w["progress"] = "last pass: 0 buckets processed";
  api.workers.push_back(worker(1, "maintenance", "idle"));
  api.workers.push_back(w);
  auto r = run(api, {"worker", "info", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("lifecycle"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last pass: 0 buckets processed"), std::string::npos) << r.out;
  r = run(api, {"worker", "info", "lifecycle"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(api.calls.back().second, (json{{"id", 2}}));
  r = run(api, {"worker", "info", "9"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no worker 9"), std::string::npos) << r.err;
  r = run(api, {"worker", "info", "nosuch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no worker named 'nosuch'"), std::string::npos) << r.err;
}

TEST(cli_workers, set_sends_id_or_name_and_reports_refusals) {
  fake_api api;
  auto r = run(api, {"worker", "set", "1", "tranquility", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(api.calls.back().first, "/v2/SetWorkerVariable");
  EXPECT_EQ(api.calls.back().second,
            (json{{"id", 1}, {"variable", "tranquility"}, {"value", "3"}}));
  EXPECT_EQ(r.out, "Worker 1 (maintenance): tranquility set to 3.\n");
  r = run(api, {"worker", "set", "maintenance", "tranquility", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(api.calls.back().second,
            (json{{"name", "maintenance"}, {"variable", "tranquility"}, {"value", "3"}}));
  r = run(api, {"worker", "set", "maintenance-tranquility", "4"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(api.calls.back().second,
            (json{{"variable", "maintenance-tranquility"}, {"value", "4"}}));
  api.set_status = 400;
  api.set_error = "invalid tranquility 'x': give an integer from 0 to 1000";
  r = run(api, {"worker", "set", "1", "tranquility", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "garage: invalid tranquility 'x': give an integer from 0 to 1000 "
            "(InvalidRequest)\n");
}

TEST(cli_workers, get_lists_variables) {
  fake_api api;
  auto r = run(api, {"worker", "get"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("lifecycle-tranquility    2"), std::string::npos) << r.out;
}

TEST(cli_workers, another_nodes_error_is_a_failure) {
  fake_api api;
  api_caller caller = [](const http_request&) -> result<http_response> {
    http_response resp;
    resp.status = 200;
    resp.body = R"({"success": {}, "error": {"bbbb": "node bbbb cannot be asked"}})";
    return resp;
  };
  auto cmd = parse_command_line({"worker", "list"});
  ASSERT_TRUE(cmd.has_value());
  std::ostringstream out, err;
  EXPECT_EQ(run_command(*cmd, caller, out, err), 1);
  EXPECT_EQ(err.str(), "garage: node bbbb cannot be asked\n");
}

TEST(cli_workers, usage_errors) {
  for (std::vector<std::string> argv : {
           std::vector<std::string>{"worker"},
           {"worker", "frobnicate"},
           {"worker", "info"},
           {"worker", "set", "1", "speed", "3"},
           {"worker", "set", "1"},
           {"worker", "set", "1", "tranquility", "3", "4"},
           {"worker", "list", "--yes"},
       }) {
    EXPECT_FALSE(parse_command_line(argv).has_value()) << argv.size();
  }
  EXPECT_NE(usage_text().find("garage worker list"), std::string::npos);
  EXPECT_NE(usage_text().find("garage worker set WORKER tranquility N"), std::string::npos);
}

}  // namespace
}  // namespace garage::cli
