// garage node id | node connect: the node's RPC identity and joining peers,
// through the admin API (GetClusterStatus, ConnectClusterNodes).
#include "garage/cli_context.h"

namespace garage::cli {
namespace {

std::string str(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

result<void> cmd_node(const context& ctx) {
  const auto& cmd = ctx.cmd;
  if (cmd.name == "node id") {
    // The first node of GetClusterStatus is the node answering.
    auto status = ctx.api("GET", "/v2/GetClusterStatus");
    if (!status) return std::move(status).error();
    auto nodes = status->value("nodes", json::array());
    if (!nodes.is_array() || nodes.empty())
      return error(errc::corrupted, "unexpected reply from the admin API: no node");
    const json& self = nodes[0];
    std::string id = str(self, "id");
    std::string addr = str(self, "addr");
    if (ctx.cmd.opts.json) {
      ctx.print_json(json{{"id", id}, {"addr", addr}});
      return ok();
    }
    ctx.out << id << "@" << addr << "\n";
    return ok();
  }
  if (cmd.name == "node connect") {
    auto r = ctx.api("POST", "/v2/ConnectClusterNodes", json::array({cmd.args[0]}));
    if (!r) return std::move(r).error();
    if (!r->is_array() || r->empty() || !(*r)[0].is_object())
      return error(errc::corrupted, "unexpected reply from the admin API");
    const json& res = (*r)[0];
    if (!res.value("success", false)) {
      return error(errc::unavailable,
                   "cannot connect to " + cmd.args[0] + ": " + str(res, "error"));
    }
    ctx.out << "Connected to " << cmd.args[0] << ".\n";
    return ok();
  }
  return error(errc::invalid_argument, "unknown command '" + cmd.name + "'");
}

}  // namespace garage::cli
