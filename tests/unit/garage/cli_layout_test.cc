// `garage layout ...`: parsing (-c is the capacity inside `layout assign`,
// --version the layout version inside `layout apply`) and the requests sent
// to a fake admin API.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "garage/cli.h"
#include "garage/cli_args.h"

namespace garage::cli {
namespace {

using json = nlohmann::json;

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
  EXPECT_TRUE(cmd.has_value()) << cmd.error().message;
  if (!cmd) return {-1, "", ""};
  std::ostringstream out, err;
  int code = run_command(*cmd, api.caller(), out, err);
  return {code, out.str(), err.str()};
}

const std::string A = std::string(16, 'a') + std::string(48, '1');
const std::string A2 = std::string(16, 'a') + std::string(48, '2');
const std::string B = std::string(64, 'b');

json layout_with(json roles, json staged = json::array()) {
  return {{"version", 1},
          {"roles", std::move(roles)},
          {"partitionSize", 1000},
          {"parameters", {{"zoneRedundancy", "maximum"}}},
          {"stagedRoleChanges", std::move(staged)},
          {"stagedParameters", nullptr},
          {"conflicts", json::array()}};
}

void can_status_and_layout(fake_api& api, const json& layout) {
  api.replies["GET /v2/GetClusterStatus"] = {
      200, json{{"layoutVersion", 1}, {"nodes", {{{"id", A}}, {{"id", A2}}, {{"id", B}}}}}.dump()};
  api.replies["GET /v2/GetClusterLayout"] = {200, layout.dump()};
}

TEST(cli_layout, parsing_c_and_version_inside_layout_commands) {
  auto c = parse_command_line(
      {"-c", "g.yaml", "layout", "assign", "-z", "dc1", "-c", "10G", "-t", "a", "-t", "b", "bbbb"});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->name, "layout assign");
  EXPECT_EQ(c->opts.config_path, "g.yaml");
  EXPECT_EQ(c->opts.capacity, "10G");
  EXPECT_EQ(c->opts.zone, "dc1");
  EXPECT_EQ(c->opts.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c->args, std::vector<std::string>{"bbbb"});

  auto a = parse_command_line({"layout", "apply", "--version", "3"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->opts.layout_version, "3");
  EXPECT_FALSE(a->opts.version);
  auto eq = parse_command_line({"layout", "apply", "--version=4"});
  ASSERT_TRUE(eq.has_value());
  EXPECT_EQ(eq->opts.layout_version, "4");
  auto g = parse_command_line({"layout", "assign", "-g", "-z", "x", "bbbb"});
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(g->opts.gateway);
  auto r = parse_command_line({"layout", "config", "-r", "2"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->opts.redundancy, "2");

  for (std::vector<std::string> bad : {
           std::vector<std::string>{"layout", "apply"},
           {"layout", "assign", "bbbb"},
           {"layout", "assign", "-c", "1G", "-g", "bbbb"},
           {"layout", "config"},
           {"layout"},
           {"layout", "nope"},
           {"layout", "show", "-z", "x"},
           {"layout", "remove"},
       }) {
    auto p = parse_command_line(bad);
    EXPECT_FALSE(p.has_value()) << bad.size();
  }
  // Outside `layout apply`, --version is still the program's version.
  auto v = parse_command_line({"--version"});
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->opts.version);
}

TEST(cli_layout, assign_resolves_a_unique_prefix_and_sends_the_role) {
  fake_api api;
  can_status_and_layout(api, layout_with(json::array()));
  api.replies["POST /v2/UpdateClusterLayout"] = {200, layout_with(json::array()).dump()};
  auto r = run(api, {"layout", "assign", "-z", "dc1", "-c", "1.5T", "-t", "ssd", "bbb"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("staged"), std::string::npos);
  ASSERT_FALSE(api.seen.empty());
  json body = json::parse(api.seen.back().body);
  EXPECT_EQ(
      body,
      (json{{"roles",
             {{{"id", B}, {"zone", "dc1"}, {"capacity", 1'500'000'000'000}, {"tags", {"ssd"}}}}}}));

  // An ambiguous prefix, an unknown one, a bad size: exit 1, nothing sent.
  api.seen.clear();
  r = run(api, {"layout", "assign", "-z", "dc1", "-c", "1G", "aaaa"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("matches 2 nodes"), std::string::npos) << r.err;
  r = run(api, {"layout", "assign", "-z", "dc1", "-c", "1G", "cccc"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no node known"), std::string::npos) << r.err;
  r = run(api, {"layout", "assign", "-z", "dc1", "-c", "1Gx", "bbbb"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid capacity"), std::string::npos) << r.err;
  r = run(api, {"layout", "assign", "-c", "1G", "bbbb"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("-z ZONE"), std::string::npos) << r.err;
  for (const auto& req : api.seen) EXPECT_NE(req.method, "POST");
}

TEST(cli_layout, assign_keeps_the_fields_not_given_for_a_node_with_a_role) {
  fake_api api;
  json role = {{"id", B},       {"zone", "dc1"},           {"capacity", 5000},
               {"tags", {"x"}}, {"storedPartitions", 256}, {"usableCapacity", 5000}};
  can_status_and_layout(api, layout_with(json::array({role})));
  api.replies["POST /v2/UpdateClusterLayout"] = {200, layout_with(json::array({role})).dump()};
  auto r = run(api, {"layout", "assign", "-z", "dc2", "bbbb"});
  EXPECT_EQ(r.code, 0) << r.err;
  json body = json::parse(api.seen.back().body);
  EXPECT_EQ(body["roles"][0],
            (json{{"id", B}, {"zone", "dc2"}, {"capacity", 5000}, {"tags", {"x"}}}));
  r = run(api, {"layout", "assign", "-g", "bbbb"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(json::parse(api.seen.back().body)["roles"][0]["capacity"].is_null());
}

TEST(cli_layout, show_apply_and_errors) {
  fake_api api;
  json role = {{"id", B},
               {"zone", "dc1"},
               {"capacity", 5000},
               {"tags", json::array()},
               {"storedPartitions", 256},
               {"usableCapacity", 5000}};
  json staged = json::array({{{"id", A}, {"remove", true}}});
  can_status_and_layout(api, layout_with(json::array({role}), staged));
  api.replies["POST /v2/PreviewClusterLayoutChanges"] = {200,
                                                         R"({"error":"not enough storage nodes"})"};
  auto r = run(api, {"layout", "show"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("bbbbbbbbbbbbbbbb  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Current cluster layout version: 1"), std::string::npos);
  EXPECT_NE(r.out.find("REMOVED"), std::string::npos);
  EXPECT_NE(r.out.find("not enough storage nodes"), std::string::npos);

  api.replies["POST /v2/ApplyClusterLayout"] = {
      400, R"({"code":"InvalidRequest","message":"cannot apply layout version 3"})"};
  r = run(api, {"layout", "apply", "--version", "3"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "garage: cannot apply layout version 3 (InvalidRequest)\n");
  EXPECT_EQ(json::parse(api.seen.back().body), (json{{"version", 3}}));
  r = run(api, {"layout", "apply", "--version", "x"});
  EXPECT_EQ(r.code, 1);

  api.replies["POST /v2/ApplyClusterLayout"] = {
      200,
      json{{"message", {"line one", "line two"}}, {"layout", layout_with(json::array())}}.dump()};
  r = run(api, {"layout", "apply", "--version", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("line one\nline two\n"), std::string::npos) << r.out;
}

TEST(cli_layout, skip_dead_nodes_sends_the_version_and_reports_each_tracker) {
  fake_api api;
  // --version is the layout version here too; it is required.
  auto bad = parse_command_line({"layout", "skip-dead-nodes"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("give --version N"), std::string::npos);
  EXPECT_FALSE(parse_command_line({"layout", "skip-dead-nodes", "--version", "2", "B"}));
  EXPECT_FALSE(parse_command_line({"layout", "apply", "--version", "2", "--allow-missing-data"}));

  api.replies["POST /v2/ClusterLayoutSkipDeadNodes"] = {
      200,
      json{{"ackUpdated", {B}}, {"syncUpdated", {B}}, {"syncNotUpdated", json::array()}}.dump()};
  auto r = run(api, {"layout", "skip-dead-nodes", "--version", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(api.seen.back().body), (json{{"version", 2}, {"allowMissingData", false}}));
  EXPECT_NE(r.out.find("Increased the ack tracker of node bbbbbbbbbbbbbbbb"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Increased the sync tracker of node bbbbbbbbbbbbbbbb"), std::string::npos);
  EXPECT_NE(r.out.find("Success."), std::string::npos);

  api.replies["POST /v2/ClusterLayoutSkipDeadNodes"] = {
      200,
      json{{"ackUpdated", {B}}, {"syncUpdated", json::array()}, {"syncNotUpdated", {B}}}.dump()};
  r = run(api, {"layout", "skip-dead-nodes", "--version=2", "--allow-missing-data"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(api.seen.back().body), (json{{"version", 2}, {"allowMissingData", true}}));
  EXPECT_NE(r.out.find("Kept the sync tracker of node bbbbbbbbbbbbbbbb"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--allow-missing-data"), std::string::npos);

  api.replies["POST /v2/ClusterLayoutSkipDeadNodes"] = {
      400,
      R"({"code":"InvalidRequest","message":"version 1 is not the current layout version 2"})"};
  r = run(api, {"layout", "skip-dead-nodes", "--version", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "garage: version 1 is not the current layout version 2 (InvalidRequest)\n");
  r = run(api, {"layout", "skip-dead-nodes", "--version", "two"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid layout version 'two'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace garage::cli
