#include "garage/cli.h"

#include <cstdlib>
#include <iostream>

#include "garage/cli_context.h"
#include "garage/cli_table.h"
#include "garage/node_config.h"

namespace garage::cli {

result<json> context::api(const std::string& method, const std::string& target,
                          const std::optional<json>& body) const {
  http_request req;
  req.method = method;
  req.target = target;
  if (body) {
    req.body = body->dump();
    req.headers.emplace_back("Content-Type", "application/json");
  }
  auto resp = call(req);
  if (!resp) return std::move(resp).error();
  json j;
  if (!resp->body.empty()) {
    j = json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  } else {
    j = json::object();
  }
  if (resp->status >= 200 && resp->status < 300) {
    if (j.is_discarded())
      return error(errc::corrupted, "the admin API sent a reply that is not JSON");
    return j;
  }
  std::string message;
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
    message = j["message"].get<std::string>();
    if (j.contains("code") && j["code"].is_string())
      message += " (" + j["code"].get<std::string>() + ")";
  } else {
    message = "the admin API answered HTTP " + std::to_string(resp->status);
  }
  errc code = resp->status == 404   ? errc::not_found
              : resp->status == 401 ? errc::unauthenticated
              : resp->status == 409 ? errc::conflict
              : resp->status < 500  ? errc::invalid_argument
                                    : errc::internal;
  return error(code, message);
}

void context::print_json(const json& j) const {
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

result<json> find_key(const context& ctx, const std::string& pattern, bool show_secret) {
  std::string target = "/v2/GetKeyInfo?search=" + url_encode(pattern);
  if (show_secret) target += "&showSecretKey=true";
  return ctx.api("GET", target);
}

result<json> find_bucket(const context& ctx, const std::string& pattern) {
  return ctx.api("GET", "/v2/GetBucketInfo?search=" + url_encode(pattern));
}

namespace {

std::string str(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

result<void> cmd_status(const context& ctx) {
  auto health = ctx.api("GET", "/v2/GetClusterHealth");
  if (!health) return std::move(health).error();
  auto status = ctx.api("GET", "/v2/GetClusterStatus");
  if (!status) return std::move(status).error();
  if (ctx.cmd.opts.json) {
    ctx.print_json(*status);
    return ok();
  }
  const json& h = *health;
  ctx.out << "Cluster health: " << str(h, "status") << " (" << h.value("connectedNodes", 0) << "/"
          << h.value("knownNodes", 0) << " nodes connected, " << h.value("partitionsAllOk", 0)
          << "/" << h.value("partitions", 0) << " partitions ok)\n\n";
  std::vector<table_row> rows = {{"ID", "Hostname", "Address", "Version", "State", "Data free"}};
  for (const auto& n : status->value("nodes", json::array())) {
    std::string free = "?";
    auto dp = n.find("dataPartition");
    if (dp != n.end() && dp->is_object()) {
      free = format_bytes(dp->value("available", uint64_t{0})) + " / " +
             format_bytes(dp->value("total", uint64_t{0}));
    }
    rows.push_back({str(n, "id").substr(0, 16), str(n, "hostname"), str(n, "addr"),
                    str(n, "garageVersion"), n.value("isUp", false) ? "connected" : "down", free});
  }
  ctx.out << format_table(rows);
  return ok();
}

int run_command(const command& cmd, const api_caller& call, std::ostream& out, std::ostream& err) {
  context ctx{cmd, call, out};
  result<void> r = ok();
  try {
    if (cmd.name == "status") {
      r = cmd_status(ctx);
    } else if (cmd.name.starts_with("key ")) {
      r = cmd_key(ctx);
    } else if (cmd.name.starts_with("bucket ")) {
      r = cmd_bucket(ctx);
    } else if (cmd.name.starts_with("layout ")) {
      r = cmd_layout(ctx);
    } else if (cmd.name.starts_with("node ")) {
      r = cmd_node(ctx);
    } else if (cmd.name.starts_with("worker ")) {
      r = cmd_worker(ctx);
    } else {
      r = error(errc::invalid_argument, "unknown command '" + cmd.name + "'");
    }
  } catch (const std::exception& e) {
    r = error(errc::corrupted, std::string("unexpected reply from the admin API: ") + e.what());
  }
  if (r) return 0;
  err << "garage: " << r.error().message << "\n";
  return 1;
}

int run_cli(const command& cmd) {
  std::optional<std::string> addr = cmd.opts.admin_addr;
  std::optional<std::string> token = cmd.opts.admin_token;
  if (!addr) {
    const char* env = std::getenv("GARAGE_ADMIN_ADDR");
    if (env && *env) addr = env;
  }
  if (!token) {
    const char* env = std::getenv("GARAGE_ADMIN_TOKEN");
    if (env && *env) token = env;
  }
  if (!addr || !token) {
    auto src = resolve_config(cmd.opts.config_path, std::nullopt);
    if (!src) {
      std::cerr << "garage: " << src.error().message << "\n";
      return 1;
    }
    if (!addr) addr = connect_address(src->cfg.admin.api_bind_addr);
    if (!token) {
      auto t = read_admin_token(src->cfg);
      if (!t) {
        std::cerr << "garage: no admin token: " << t.error().message
                  << " (give --admin-token, set GARAGE_ADMIN_TOKEN, or -c CONFIG";
        if (src->is_default) std::cerr << "; is the node started from " << default_base_dir << "?";
        std::cerr << ")\n";
        return 1;
      }
      token = std::move(*t);
    }
  }
  std::string where = *addr;
  std::string auth = "Bearer " + *token;
  api_caller call = [&](const http_request& req) -> result<http_response> {
    http_request r = req;
    r.headers.emplace_back("Authorization", auth);
    auto resp = http_call(where, r);
    if (!resp && (resp.error().code == errc::unavailable || resp.error().code == errc::timeout ||
                  resp.error().code == errc::io_error)) {
      std::string why = resp.error().message;
      std::string prefix = "cannot connect to " + where + ": ";
      if (why.starts_with(prefix)) why = why.substr(prefix.size());
      return error(resp.error().code, "cannot reach the admin API at " + where + ": " + why +
                                          " (is `garage server` running there?)");
    }
    return resp;
  };
  return run_command(cmd, call, std::cout, std::cerr);
}

}  // namespace garage::cli
