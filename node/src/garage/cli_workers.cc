// garage worker list | info | get | set: the node's background workers,
// through the admin API (ListWorkers, GetWorkerInfo, GetWorkerVariable,
// SetWorkerVariable; Garage's multi-node replies, for this node).
#include <algorithm>
#include <cctype>

#include "garage/cli_context.h"
#include "garage/cli_table.h"

namespace garage::cli {
namespace {

std::string str(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string num(const json& j, const char* field, const char* none = "-") {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number()) return none;
  return it->dump();
}

bool is_id(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
}

// The answering node's part of a multi-node reply {"success": {id: doc},
// "error": {id: message}}.
result<json> this_node(const json& reply) {
  auto success = reply.find("success");
  if (success != reply.end() && success->is_object() && !success->empty())
    return success->begin().value();
  auto errors = reply.find("error");
  if (errors != reply.end() && errors->is_object() && !errors->empty() &&
      errors->begin().value().is_string())
    return error(errc::unavailable, errors->begin().value().get<std::string>());
  return error(errc::corrupted, "unexpected reply from the admin API: no node answered");
}

result<json> call(const context& ctx, const std::string& op, const json& body) {
  auto r = ctx.api("POST", "/v2/" + op, body);
  if (!r) return std::move(r).error();
  if (ctx.cmd.opts.json) {
    ctx.print_json(*r);
    return json(nullptr);
  }
  return this_node(*r);
}

// {"id": n} for a number, else {"name": s}.
json selector(const std::string& worker) {
  if (is_id(worker)) return json{{"id", std::stoull(worker)}};
  return json{{"name", worker}};
}

std::string errors_text(const json& w) {
  std::string total = num(w, "errors", "0");
  std::string consec = num(w, "consecutiveErrors", "0");
  if (consec == "0") return total;
  return total + " (" + consec + " in a row)";
}

std::string last_error_text(const json& w, size_t max_len) {
  auto le = w.find("lastError");
  if (le == w.end() || !le->is_object()) return "";
  std::string msg = str(*le, "message");
  if (max_len && msg.size() > max_len) msg = msg.substr(0, max_len - 3) + "...";
  return num(*le, "secsAgo", "?") + "s ago: " + msg;
}

result<void> list(const context& ctx) {
  json body{{"busyOnly", ctx.cmd.opts.busy}, {"errorOnly", ctx.cmd.opts.errors}};
  GARAGE_ASSIGN_OR_RETURN(json workers, call(ctx, "ListWorkers", body));
  if (workers.is_null()) return ok();
  if (!workers.is_array())
    return error(errc::corrupted, "unexpected reply from the admin API: no worker list");
  std::vector<table_row> rows = {{"ID", "Name", "State", "Tranq", "Queue", "Errors", "Last error"}};
  for (const auto& w : workers) {
    rows.push_back({num(w, "id"), str(w, "name"), str(w, "state"), num(w, "tranquility"),
                    num(w, "queueLength"), errors_text(w), last_error_text(w, 60)});
  }
  ctx.out << format_table(rows);
  return ok();
}

// A worker's id, from an id or a name (looked up in ListWorkers).
result<uint64_t> resolve(const context& ctx, const std::string& worker) {
  if (is_id(worker)) return std::stoull(worker);
  auto r = ctx.api("POST", "/v2/ListWorkers", json::object());
  if (!r) return std::move(r).error();
  GARAGE_ASSIGN_OR_RETURN(json workers, this_node(*r));
  for (const auto& w : workers)
    if (str(w, "name") == worker && w.contains("id")) return w["id"].get<uint64_t>();
  return error(errc::not_found,
               "no worker named '" + worker + "' on this node (see `garage worker list`)");
}

result<void> info(const context& ctx) {
  GARAGE_ASSIGN_OR_RETURN(uint64_t id, resolve(ctx, ctx.cmd.args[0]));
  GARAGE_ASSIGN_OR_RETURN(json w, call(ctx, "GetWorkerInfo", json{{"id", id}}));
  if (w.is_null()) return ok();
  std::string progress = str(w, "progress");
  std::string last = last_error_text(w, 0);
  ctx.out << format_fields({{"ID", num(w, "id")},
                            {"Name", str(w, "name")},
                            {"State", str(w, "state")},
                            {"Tranquility", num(w, "tranquility")},
                            {"Queue length", num(w, "queueLength")},
                            {"Progress", progress.empty() ? "-" : progress},
                            {"Steps", num(w, "steps")},
                            {"Errors", errors_text(w)},
                            {"Last error", last.empty() ? "-" : last}});
  return ok();
}

result<void> get(const context& ctx) {
  json body = json::object();
  if (!ctx.cmd.args.empty()) body["variable"] = ctx.cmd.args[0];
  GARAGE_ASSIGN_OR_RETURN(json vars, call(ctx, "GetWorkerVariable", body));
  if (vars.is_null()) return ok();
  std::vector<table_row> rows = {{"Variable", "Value"}};
  for (const auto& [k, v] : vars.items())
    rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  ctx.out << format_table(rows);
  return ok();
}

// set WORKER tranquility N, or (as Garage) set VARIABLE VALUE.
result<void> set(const context& ctx) {
  const auto& a = ctx.cmd.args;
  json body = a.size() == 3 ? selector(a[0]) : json::object();
  body["variable"] = a[a.size() - 2];
  body["value"] = a[a.size() - 1];
  GARAGE_ASSIGN_OR_RETURN(json doc, call(ctx, "SetWorkerVariable", body));
  if (doc.is_null()) return ok();
  ctx.out << "Worker " << num(doc, "id", "?") << " (" << str(doc, "name")
          << "): " << str(doc, "variable") << " set to " << str(doc, "value") << ".\n";
  return ok();
}

}  // namespace

result<void> cmd_worker(const context& ctx) {
  const auto& name = ctx.cmd.name;
  if (name == "worker list") return list(ctx);
  if (name == "worker info") return info(ctx);
  if (name == "worker get") return get(ctx);
  if (name == "worker set") return set(ctx);
  return error(errc::invalid_argument, "unknown command '" + name + "'");
}

}  // namespace garage::cli
