// garage node id | node connect | status against a fake admin API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "garage/cli.h"

namespace garage::cli {
namespace {

using json = nlohmann::json;

const std::string id0(64, 'a');
const std::string id1(64, 'b');

struct canned {
  std::string status_body;
  std::string connect_body;
  std::string last_body;
  api_caller caller() {
    return [this](const http_request& r) -> result<http_response> {
      http_response resp;
      resp.status = 200;
      if (r.target == "/v2/GetClusterStatus") {
        resp.body = status_body;
      } else if (r.target == "/v2/GetClusterHealth") {
        resp.body = R"({"status":"healthy","knownNodes":2,"connectedNodes":1})";
      } else if (r.target == "/v2/ConnectClusterNodes" && r.method == "POST") {
        last_body = r.body;
        resp.body = connect_body;
      } else {
        resp.status = 404;
        resp.body = R"({"code":"NoSuchEndpoint","message":"no"})";
      }
      return resp;
    };
  }
};

std::pair<int, std::string> run(canned& api, std::vector<std::string> argv, std::string* err_out) {
  auto cmd = parse_command_line(argv);
  EXPECT_TRUE(cmd.has_value());
  std::ostringstream out, err;
  int code = run_command(*cmd, api.caller(), out, err);
  if (err_out) *err_out = err.str();
  return {code, out.str()};
}

TEST(cli_nodes, node_id_prints_id_at_rpc_address) {
  canned api;
  api.status_body =
      json{{"nodes", {{{"id", id0}, {"addr", "10.0.0.1:3901"}, {"isUp", true}}}}}.dump();
  auto [code, out] = run(api, {"node", "id"}, nullptr);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, id0 + "@10.0.0.1:3901\n");
}

TEST(cli_nodes, node_connect_sends_the_address_and_reports_failure) {
  canned api;
  api.connect_body = R"([{"success":true,"error":null}])";
  std::string err;
  auto [code, out] = run(api, {"node", "connect", id1 + "@h:1"}, &err);
  EXPECT_EQ(code, 0) << err;
  EXPECT_EQ(json::parse(api.last_body), json::array({id1 + "@h:1"}));
  api.connect_body =
      R"([{"success":false,"error":"the peer does not know this cluster's rpc_secret"}])";
  auto [code2, out2] = run(api, {"node", "connect", id1 + "@h:1"}, &err);
  EXPECT_EQ(code2, 1);
  EXPECT_NE(err.find("rpc_secret"), std::string::npos) << err;
  EXPECT_NE(err.find(id1 + "@h:1"), std::string::npos) << err;
}

TEST(cli_nodes, status_lists_nodes_connected_or_down) {
  canned api;
  api.status_body = json{{"nodes",
                          {{{"id", id0}, {"addr", "10.0.0.1:3901"}, {"isUp", true}},
                           {{"id", id1}, {"addr", "10.0.0.2:3901"}, {"isUp", false}}}}}
                        .dump();
  auto [code, out] = run(api, {"status"}, nullptr);
  EXPECT_EQ(code, 0);
  bool saw0 = false, saw1 = false;
  std::istringstream lines(out);
  for (std::string l; std::getline(lines, l);) {
    if (l.starts_with(id0.substr(0, 16))) {
      saw0 =
          l.find("connected") != std::string::npos && l.find("10.0.0.1:3901") != std::string::npos;
    }
    if (l.starts_with(id1.substr(0, 16))) saw1 = l.find("down") != std::string::npos;
  }
  EXPECT_TRUE(saw0) << out;
  EXPECT_TRUE(saw1) << out;
}

}  // namespace
}  // namespace garage::cli
