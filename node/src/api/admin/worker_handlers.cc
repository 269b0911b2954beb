// The worker endpoints, in the shapes of Garage's admin API v2
// (LocalListWorkersResponse, WorkerInfoResp, ...) wrapped in its multi-node
// response.
#include "api/admin/worker_handlers.h"

#include <charconv>

#include "api/admin/json_views.h"
#include "util/clock.h"
#include "util/worker.h"

namespace garage::admin {
namespace {

constexpr std::string_view kTranquility = "tranquility";
constexpr std::string_view kSuffix = "-tranquility";

bool is_self(const node_facts& f, const std::string& node) {
  return node == "self" || node == "*" || node == f.node_id;
}

// {"success": {"<this node>": doc}, "error": {}}, or the node asked for in
// "error" when it is another one (the handlers then do nothing here).
reply multi_reply(const node_facts& f, const std::string& node, ojson doc) {
  ojson success = ojson::object();
  ojson errors = ojson::object();
  if (is_self(f, node)) {
    success[f.node_id] = std::move(doc);
  } else {
    errors[node] = "node " + node + " cannot be asked through this node (" + f.node_id +
                   "): send the request to its own admin API";
  }
  ojson j;
  j["success"] = std::move(success);
  j["error"] = std::move(errors);
  return ok_reply(to_body(j));
}

api_error no_such_worker(const std::string& what) {
  return api_error{404, "NoSuchWorker", "no worker " + what + " on this node"};
}

ojson worker_json(const worker_status& s) {
  ojson j;
  j["id"] = s.id;
  j["name"] = s.name;
  // Garage's states are busy, idle and done; "error" (waiting after a failed
  // step) and "stopped" are this implementation's.
  j["state"] = s.state;
  j["errors"] = s.errors;
  j["consecutiveErrors"] = s.consecutive_errors;
  if (s.last_error_msec != 0) {
    uint64_t now = now_msec();
    uint64_t ago = now > s.last_error_msec ? (now - s.last_error_msec) / 1000 : 0;
    j["lastError"] = ojson{{"message", s.last_error}, {"secsAgo", ago}};
  } else {
    j["lastError"] = nullptr;
  }
  j["tranquility"] = s.tranquility;
  if (s.progress.empty()) {
    j["progress"] = nullptr;
  } else {
    j["progress"] = s.progress;
  }
  if (s.queue_length) {
    j["queueLength"] = *s.queue_length;
  } else {
    j["queueLength"] = nullptr;
  }
  j["persistentErrors"] = nullptr;
  j["freeform"] = ojson::array();
  j["steps"] = s.steps;  // not in Garage: steps run since start
  return j;
}

// The worker a selector names, or 404.
api_result<worker_status> select(worker_runner& w, const worker_selector& sel) {
  for (auto& s : w.list()) {
    if ((sel.id && s.id == *sel.id) || (sel.name && s.name == *sel.name)) return s;
  }
  return no_such_worker(sel.id ? std::to_string(*sel.id) : "named '" + *sel.name + "'");
}

// The worker a variable name without selector designates: "<name>-tranquility".
api_result<worker_status> by_variable(worker_runner& w, const std::string& variable) {
  if (variable.size() > kSuffix.size() && variable.ends_with(kSuffix)) {
    std::string name = variable.substr(0, variable.size() - kSuffix.size());
    for (auto& s : w.list())
      if (s.name == name) return s;
  }
  std::string known;
  for (const auto& s : w.list()) known += (known.empty() ? "" : ", ") + s.name + "-tranquility";
  if (variable == kTranquility)
    return bad_request("variable 'tranquility' needs the worker's 'id' or 'name'");
  return bad_request("unknown worker variable '" + variable +
                     "': the variables are 'tranquility' (with the worker's 'id' or 'name') or " +
                     (known.empty() ? "none without one" : known));
}

api_result<uint32_t> parse_tranquility(const std::string& v) {
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n > 1000)
    return bad_request("invalid tranquility '" + v + "': give an integer from 0 to 1000");
  return n;
}

}  // namespace

api_result<reply> handle(worker_runner& w, const node_facts& f, const list_workers_request& r) {
  ojson list = ojson::array();
  for (const auto& s : w.list()) {
    if (r.busy_only && s.state != "busy") continue;
    if (r.error_only && s.errors == 0) continue;
    list.push_back(worker_json(s));
  }
  return multi_reply(f, r.node, std::move(list));
}

api_result<reply> handle(worker_runner& w, const node_facts& f, const get_worker_info_request& r) {
  if (!is_self(f, r.node)) return multi_reply(f, r.node, nullptr);
  worker_selector sel;
  sel.id = r.id;
  auto s = select(w, sel);
  if (!s) return std::move(s).error();
  return multi_reply(f, r.node, worker_json(*s));
}

api_result<reply> handle(worker_runner& w, const node_facts& f,
                         const get_worker_variable_request& r) {
  if (!is_self(f, r.node)) return multi_reply(f, r.node, nullptr);
  ojson vars = ojson::object();
  if (!r.worker.empty()) {
    auto s = select(w, r.worker);
    if (!s) return std::move(s).error();
    if (r.variable && *r.variable != kTranquility)
      return bad_request("unknown worker variable '" + *r.variable +
                         "': a worker's one variable is 'tranquility'");
    vars[std::string(kTranquility)] = std::to_string(s->tranquility);
  } else if (r.variable) {
    auto s = by_variable(w, *r.variable);
    if (!s) return std::move(s).error();
    vars[*r.variable] = std::to_string(s->tranquility);
  } else {
    for (const auto& s : w.list())
      vars[s.name + std::string(kSuffix)] = std::to_string(s.tranquility);
  }
  return multi_reply(f, r.node, std::move(vars));
}

api_result<reply> handle(worker_runner& w, const node_facts& f,
                         const set_worker_variable_request& r) {
  if (!is_self(f, r.node)) return multi_reply(f, r.node, nullptr);
  api_result<worker_status> target = api_error{};
  if (!r.worker.empty()) {
    target = select(w, r.worker);
    if (!target) return std::move(target).error();
    if (r.variable != kTranquility)
      return bad_request("unknown worker variable '" + r.variable +
                         "': a worker's one variable is 'tranquility'");
  } else {
    target = by_variable(w, r.variable);
    if (!target) return std::move(target).error();
  }
  auto n = parse_tranquility(r.value);
  if (!n) return std::move(n).error();
  if (auto set = w.set_tranquility(std::to_string(target->id), *n); !set) {
    if (set.error().code == errc::not_found) return no_such_worker(std::to_string(target->id));
    return from_model_error(set.error(), subject::none);
  }
  ojson doc;
  doc["variable"] = r.variable;
  doc["value"] = std::to_string(*n);
  doc["id"] = target->id;  // not in Garage: the worker changed
  doc["name"] = target->name;
  return multi_reply(f, r.node, std::move(doc));
}

}  // namespace garage::admin
