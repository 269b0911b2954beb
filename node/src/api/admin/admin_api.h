// The admin API front end: Garage admin API v2 (JSON over HTTP, bearer token),
// plus /health (no auth) and /metrics (Prometheus text; bearer metrics_token
// when one is configured). See docs/admin-api.md.
//
//   admin_api admin(rt, store, cfg, {.admin_token = token, .registry = reg});
//   http::server srv(rt, {.name = "admin"}, admin.handler(), metrics);
//
// Owned by the composition root; the runtime, store and registry must outlive
// it. Thread-safe: the handler may run on several I/O threads at once. Store
// calls run on the runtime's blocking pool.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/admin/cluster_view.h"
#include "api/common/exchange.h"
#include "api/common/runtime.h"
#include "util/config.h"

namespace prometheus {
class Registry;
}
namespace garage {
class worker_runner;
}
namespace garage::model {
class store;
}
namespace garage::rpc {
class layout_manager;
}

namespace garage::admin {

struct admin_options {
  // Bearer token of every /v2/ endpoint, already read from admin.admin_token
  // or admin.admin_token_file. Must not be empty.
  std::string admin_token;
  // Bearer token of /metrics; empty: /metrics needs no token. The admin token
  // is accepted there too.
  std::string metrics_token;
  // Served on /metrics, where this API adds its own gauges (build info, disk
  // space). May be null: /metrics then answers with no metric.
  std::shared_ptr<prometheus::Registry> registry;
  // Largest request body accepted.
  size_t max_body_bytes = 1 << 20;
  // The cluster's membership (GetClusterStatus, GetNodeInfo,
  // ConnectClusterNodes). Null: this node alone, ConnectClusterNodes 503.
  std::shared_ptr<const cluster_view> cluster;
  // The node's cluster layout (GetClusterLayout, UpdateClusterLayout, ...),
  // looked up on each request (the composition root opens it once the RPC
  // network runs). Empty, or returning null: those endpoints answer 503.
  std::function<rpc::layout_manager*()> layout;
  // The node's background workers (ListWorkers, GetWorkerInfo,
  // Get/SetWorkerVariable), looked up on each request. Empty, or returning
  // null: those endpoints answer 503 "no workers on this node".
  std::function<worker_runner*()> workers;
};

class admin_api {
 public:
  admin_api(http::runtime& rt, model::store& store, const config& cfg, admin_options opts);
  ~admin_api();
  admin_api(const admin_api&) = delete;
  admin_api& operator=(const admin_api&) = delete;

  http::handler handler();

  struct rep;

 private:
  std::shared_ptr<rep> rep_;
};

}  // namespace garage::admin
