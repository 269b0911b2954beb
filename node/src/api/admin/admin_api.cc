#include "api/admin/admin_api.h"

#include <unistd.h>

#include <exception>
#include <nlohmann/json.hpp>

#include "api/admin/admin_metrics.h"
#include "api/admin/auth.h"
#include "api/admin/handlers.h"
#include "api/admin/router.h"
#include "api/admin/version.h"
#include "model/store.h"
#include "util/log.h"

namespace garage::admin {

struct admin_api::rep {
  rep(http::runtime& r, model::store& s, const config& c, admin_options o)
      : rt(r),
        store(s),
        cfg(c),
        opts(std::move(o)),
        metrics(opts.registry, std::string(garage_version), c.data_dir, c.metadata_dir) {
    facts.node_id = s.node_id();
    facts.version = std::string(garage_version);
    facts.s3_addr = c.s3_api.api_bind_addr;
    facts.admin_addr = c.admin.api_bind_addr;
    facts.metadata_dir = c.metadata_dir;
    facts.data_dir = c.data_dir;
    facts.cluster = opts.cluster;
    if (facts.cluster && !facts.cluster->self_id.empty()) facts.node_id = facts.cluster->self_id;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) facts.hostname = host;
  }

  http::runtime& rt;
  model::store& store;
  const config& cfg;
  admin_options opts;
  admin_metrics metrics;
  node_facts facts;

  http::task<void> handle(http::exchange& ex);
  http::task<api_result<reply>> serve(http::exchange& ex);
  bool authorized(const http::exchange& ex, auth_kind kind) const;
};

bool admin_api::rep::authorized(const http::exchange& ex, auth_kind kind) const {
  if (kind == auth_kind::none) return true;
  if (kind == auth_kind::metrics_token && opts.metrics_token.empty()) return true;
  auto header = ex.head().headers.get("authorization");
  if (!header) return false;
  auto token = bearer_token(*header);
  if (!token) return false;
  bool ok = token_matches(*token, opts.admin_token);
  if (kind == auth_kind::metrics_token) ok = token_matches(*token, opts.metrics_token) || ok;
  return ok;
}

http::task<api_result<reply>> admin_api::rep::serve(http::exchange& ex) {
  const auto& head = ex.head();
  auto routed = find_route(head.method, head.path());
  if (!routed) co_return std::move(routed).error();
  ex.set_endpoint(routed->name);
  if (!authorized(ex, routed->auth)) {
    co_return api_error{401, "AccessDenied",
                        head.headers.has("authorization")
                            ? "invalid bearer token"
                            : "missing 'Authorization: Bearer <token>' header"};
  }
  if (routed->ep == endpoint::health) {
    reply r = ok_reply("ok\n");
    r.content_type = "text/plain";
    co_return r;
  }
  if (routed->ep == endpoint::ready) {
    // Ready to serve S3 requests: a standalone node always; a cluster node
    // once a layout is applied and every partition has a write quorum up as
    // this node sees it (GetClusterHealth "healthy" or "degraded"). A node
    // not yet connected to its cluster is not: for a readiness probe, so
    // that a load balancer sends it no requests it would fail.
    auto h = co_await http::run_blocking(rt, [this]() -> api_result<reply> {
      return execute(store, facts, admin_request(get_cluster_health_request{}),
                     opts.layout ? opts.layout() : nullptr, nullptr);
    });
    if (!h) co_return std::move(h).error();
    std::string status = "unknown";
    uint64_t quorum = 0, partitions = 0;
    try {
      auto j = nlohmann::json::parse(h->body);
      status = j.value("status", "unknown");
      quorum = j.value("partitionsQuorum", uint64_t{0});
      partitions = j.value("partitions", uint64_t{0});
    } catch (const std::exception&) {
    }
    bool ready = status == "healthy" || status == "degraded";
    reply r = ok_reply(ready ? "ok\n"
                             : "not ready: cluster " + status + " as this node sees it (" +
                                   std::to_string(quorum) + " of " + std::to_string(partitions) +
                                   " partitions with a write quorum)\n");
    r.status = ready ? 200 : 503;
    r.content_type = "text/plain";
    co_return r;
  }
  if (routed->ep == endpoint::metrics) {
    reply r = ok_reply(metrics.scrape());
    r.content_type = "text/plain; version=0.0.4";
    co_return r;
  }
  std::string body;
  if (routed->reads_body) {
    auto read = co_await ex.read_body_all(opts.max_body_bytes);
    if (!read) {
      if (read.error().code == errc::too_large) {
        co_return api_error{
            413, "InvalidRequest",
            "request body larger than " + std::to_string(opts.max_body_bytes) + " bytes"};
      }
      co_return bad_request("cannot read the request body: " + read.error().message);
    }
    body = std::move(*read);
  }
  auto req = parse_request(*routed, head.query(), body);
  if (!req) co_return std::move(req).error();
  co_return co_await http::run_blocking(rt, [this, &req]() -> api_result<reply> {
    try {
      return execute(store, facts, *req, opts.layout ? opts.layout() : nullptr,
                     opts.workers ? opts.workers() : nullptr);
    } catch (const std::exception& e) {
      return internal_error(std::string("unexpected exception: ") + e.what());
    }
  });
}

http::task<void> admin_api::rep::handle(http::exchange& ex) {
  std::string method = ex.head().method;
  std::string path(ex.head().path());
  api_result<reply> out = api_error{};
  try {
    out = co_await serve(ex);
  } catch (const std::exception& e) {
    out = internal_error(std::string("unexpected exception: ") + e.what());
  }
  if (ex.responded()) co_return;
  http::response_head h;
  std::string body;
  if (out) {
    h.status = out->status;
    if (!out->body.empty()) h.headers.set("content-type", out->content_type);
    body = std::move(out->body);
    LOG_DEBUG("admin: {} {} -> {}", method, path, h.status);
  } else {
    const api_error& e = out.error();
    h.status = e.status;
    h.headers.set("content-type", "application/json");
    if (e.status == 401) h.headers.set("www-authenticate", "Bearer");
    body = error_body(e, cfg.s3_api.s3_region, path);
    if (e.status >= 500 && e.status != 501) {
      LOG_WARN("admin: {} {} -> {} {}: {}", method, path, e.status, e.code, e.message);
    } else {
      LOG_DEBUG("admin: {} {} -> {} {}", method, path, e.status, e.code);
    }
  }
  auto sent = co_await ex.respond(std::move(h), std::move(body));
  (void)sent;
}

admin_api::admin_api(http::runtime& rt, model::store& store, const config& cfg, admin_options opts)
    : rep_(std::make_shared<rep>(rt, store, cfg, std::move(opts))) {}

admin_api::~admin_api() = default;

http::handler admin_api::handler() {
  auto r = rep_;
  return [r](http::exchange& ex) -> http::task<void> { return r->handle(ex); };
}

}  // namespace garage::admin
