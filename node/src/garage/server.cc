#include "garage/server.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>

#include "api/admin/admin_api.h"
#include "api/admin/version.h"
#include "api/common/metrics.h"
#include "api/common/runtime.h"
#include "api/common/server.h"
#include "api/s3/s3_api.h"
#include "garage/cluster_metrics.h"
#include "garage/cluster_workers.h"
#include "garage/node_config.h"
#include "garage/node_workers.h"
#include "garage/periodic.h"
#include "model/lifecycle_worker.h"
#include "model/store.h"
#include "rpc/layout_manager.h"
#include "rpc/network.h"
#include "rpc/wire.h"
#include "rpc/write_tracker.h"
#include "util/clock.h"
#include "util/log.h"
#include "web/web_server.h"

namespace garage {
namespace {

// One pass a minute, or more often when the configured delays are shorter
// (tests use a GC delay of a second or two), but at most once a second.
std::chrono::seconds maintenance_interval(const config& cfg) {
  uint64_t s = std::min<uint64_t>({60, cfg.block_gc_delay_secs, cfg.upload_timeout_secs});
  return std::chrono::seconds(std::max<uint64_t>(1, s));
}

int fail(const std::string& message) {
  LOG_ERROR("{}", message);
  std::cerr << "garage: " << message << "\n";
  return 1;
}

// The address a server actually listens on (port 0 resolved).
std::string listening_on(const std::string& bind_addr, uint16_t port) {
  auto hp = parse_host_port(bind_addr, "address");
  if (!hp) return bind_addr;
  bool v6 = hp->host.find(':') != std::string::npos;
  return (v6 ? "[" + hp->host + "]" : hp->host) + ":" + std::to_string(port);
}

result<std::unique_ptr<rpc::network>> make_network(const config& cfg, bool is_default,
                                                   const std::string& bind_override = {}) {
  auto secret = cli::resolve_rpc_secret(cfg, is_default);
  if (!secret) return std::move(secret).error();
  rpc::network_options o;
  o.metadata_dir = cfg.metadata_dir;
  o.bind_addr = bind_override.empty() ? cfg.rpc_bind_addr : bind_override;
  o.public_addr = cfg.rpc_public_addr;
  o.secret = std::move(*secret);
  o.bootstrap_peers = cfg.bootstrap_peers;
  auto n = rpc::network::create(std::move(o));
  if (!n) return error(n.error().code, "rpc: " + n.error().message);
  return n;
}

// Starts the network; with the built-in configuration a busy RPC port falls
// back to a free one (a node alone does not need a fixed one).
result<void> start_network(std::unique_ptr<rpc::network>& net, const config& cfg, bool is_default) {
  auto r = net->start();
  if (!r && is_default) {
    LOG_WARN("{}; RPC uses a free port instead", r.error().message);
    auto again = make_network(cfg, is_default, "127.0.0.1:0");
    if (!again) return std::move(again).error();
    // Same key, so the same id: the admin API's view stays true.
    net->stop();
    net = std::move(*again);
    r = net->start();
  }
  if (!r) return r;
  LOG_INFO("RPC listening on {} as node {}", listening_on(cfg.rpc_bind_addr, net->port()),
           net->full_address());
  return ok();
}

// RPC counters per peer and the membership on /metrics, refreshed from the
// network's snapshot (rpc::network::metrics, peers) by a periodic thread.
class rpc_metrics {
 public:
  explicit rpc_metrics(prometheus::Registry& r)
      : calls_(
            gauge(r, "garage_rpc_peer_calls", "RPC calls made to a peer since start (ok or not)")),
        errors_(gauge(r, "garage_rpc_peer_errors",
                      "RPC calls to a peer that failed, timeouts included")),
        timeouts_(gauge(r, "garage_rpc_peer_timeouts", "RPC calls to a peer that timed out")),
        latency_(gauge(r, "garage_rpc_peer_latency_seconds_sum",
                       "Sum of the durations of the RPC calls made to a peer")),
        rtt_(gauge(r, "garage_rpc_peer_rtt_seconds",
                   "Smoothed ping round trip to a connected peer")),
        up_(gauge(r, "garage_rpc_peer_up", "1 if the peer is connected and answers pings, else 0")),
        known_(gauge(r, "garage_cluster_known_nodes", "Nodes this node knows, itself included")
                   .Add({})),
        connected_(gauge(r, "garage_cluster_connected_nodes",
                         "Nodes this node is connected to, itself included")
                       .Add({})) {}

  void refresh(const rpc::network& net) {
    for (const auto& m : net.metrics()) {
      std::map<std::string, std::string> l{{"peer", layout::short_id(m.id)}};
      calls_.Add(l).Set(static_cast<double>(m.calls));
      errors_.Add(l).Set(static_cast<double>(m.errors));
      timeouts_.Add(l).Set(static_cast<double>(m.timeouts));
      latency_.Add(l).Set(static_cast<double>(m.latency_us_sum) / 1e6);
    }
    double connected = 1;
    auto peers = net.peers();
    for (const auto& p : peers) {
      std::map<std::string, std::string> l{{"peer", layout::short_id(p.id)}};
      up_.Add(l).Set(p.connected ? 1 : 0);
      if (p.connected) connected++;
      if (p.rtt) rtt_.Add(l).Set(static_cast<double>(p.rtt->count()) / 1e6);
    }
    known_.Set(static_cast<double>(peers.size() + 1));
    connected_.Set(connected);
  }

 private:
  static prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& r, const char* name,
                                                      const char* help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
  }
  prometheus::Family<prometheus::Gauge>& calls_;
  prometheus::Family<prometheus::Gauge>& errors_;
  prometheus::Family<prometheus::Gauge>& timeouts_;
  prometheus::Family<prometheus::Gauge>& latency_;
  prometheus::Family<prometheus::Gauge>& rtt_;
  prometheus::Family<prometheus::Gauge>& up_;
  prometheus::Gauge& known_;
  prometheus::Gauge& connected_;
};

// The admin API's view of the membership, through `holder` (which
// start_network may replace). rpc_public_addr is filled once started.
std::shared_ptr<admin::cluster_view> cluster_view_of(std::unique_ptr<rpc::network>& holder) {
  auto v = std::make_shared<admin::cluster_view>();
  auto* net = &holder;
  v->self_id = holder->self().hex();
  v->peers = [net] {
    std::vector<admin::cluster_peer> out;
    for (const auto& p : (*net)->peers()) {
      admin::cluster_peer c;
      c.id = p.id.hex();
      c.addr = p.addr;
      c.is_up = p.connected;
      if (p.rtt) c.rtt_ms = static_cast<double>(p.rtt->count()) / 1000.0;
      out.push_back(std::move(c));
    }
    return out;
  };
  v->connect = [net](const std::string& node) -> result<void> {
    auto e = rpc::wire::parse_peer_address(node);
    if (!e) return e.error();
    return (*net)->connect(e->id, e->addr);
  };
  return v;
}

}  // namespace

int run_server(const cli::options& opts) {
  auto src = cli::resolve_config(opts.config_path, opts.default_config_dir);
  if (!src) return fail(src.error().message);
  config cfg = std::move(src->cfg);
  if (opts.s3_bind) cfg.s3_api.api_bind_addr = *opts.s3_bind;
  if (opts.admin_bind) cfg.admin.api_bind_addr = *opts.admin_bind;
  if (opts.web_bind) {
    if (!cfg.s3_web) cfg.s3_web = s3_web_config{};
    cfg.s3_web->bind_addr = *opts.web_bind;
  }
  if (cfg.s3_web) {
    auto hp = parse_host_port(cfg.s3_web->bind_addr, "s3_web.bind_addr");
    if (!hp) return fail(hp.error().message);
  }
  for (auto [addr, name] : {std::pair{&cfg.s3_api.api_bind_addr, "s3_api.api_bind_addr"},
                            std::pair{&cfg.admin.api_bind_addr, "admin.api_bind_addr"}}) {
    auto hp = parse_host_port(*addr, name);
    if (!hp) return fail(hp.error().message);
  }
  if (!init_logging(cfg.log_level)) return fail("log_level: unknown level '" + cfg.log_level + "'");

  auto token = src->is_default ? cli::ensure_admin_token(cfg) : cli::read_admin_token(cfg);
  if (!token) return fail(token.error().message);

  LOG_INFO("garage {} starting ({})", garage_version, src->origin);
  // RPC between nodes: created now (it loads the node key), started once
  // the HTTP ports are bound.
  auto net = make_network(cfg, src->is_default);
  if (!net) return fail(net.error().message);
  // The cluster layout, stored in metadata_dir and kept in step with the
  // peers over the network: opened once the network runs (start_network may
  // replace it, only with the built-in configuration, which is standalone),
  // before the admin API serves anything.
  std::unique_ptr<rpc::layout_manager> layout;
  std::atomic<rpc::layout_manager*> layout_ptr{nullptr};
  // A cluster node (replication factor 2 or more) replicates its tables and
  // blocks over the network; a standalone node keeps everything local.
  std::optional<model::cluster_options> cluster_opts;
  // The writes in flight per layout version: the layout worker acknowledges
  // a version only once no write that ignores it is running.
  std::unique_ptr<rpc::write_tracker> writes;
  if (cfg.replication_factor > 1) {
    auto mode = rpc::parse_consistency_mode(cfg.consistency_mode);
    if (!mode) return fail(mode.error().message);
    auto empty = std::make_shared<const layout::layout_history>(
        layout::layout_parameters{cfg.replication_factor});
    // Read by request and worker threads: through an atomic pointer, set
    // once the layout manager is open (before that, an empty layout).
    rpc::layout_source source = [&layout_ptr, empty] {
      auto* l = layout_ptr.load(std::memory_order_acquire);
      return l ? l->snapshot() : empty;
    };
    writes = std::make_unique<rpc::write_tracker>(source);
    cluster_opts = model::cluster_options{net->get(), source, *mode, writes.get()};
  }
  auto store = model::store::open(cfg, cluster_opts);
  if (!store) return fail("cannot open the store: " + store.error().message);
  LOG_INFO("node id {}; metadata in {}, data in {}; {}", (*store)->node_id(), cfg.metadata_dir,
           cfg.data_dir,
           cluster_opts ? fmt::format("cluster node, replication factor {}, {} consistency",
                                      cfg.replication_factor, cfg.consistency_mode)
                        : std::string("standalone node"));

  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = std::make_shared<http::http_metrics>(*registry);
  int exit_code = 0;
  {
    http::runtime rt(2, 4);
    s3::s3_api s3(rt, **store, cfg);
    admin::admin_options admin_opts;
    admin_opts.admin_token = *token;
    admin_opts.metrics_token = cfg.admin.metrics_token;
    admin_opts.registry = registry;
    auto cluster = cluster_view_of(*net);
    admin_opts.layout = [&layout] { return layout.get(); };
    admin_opts.cluster = cluster;
    // The background workers (`garage worker list`), added once the node serves.
    worker_runner workers;
    admin_opts.workers = [&workers] { return &workers; };
    admin::admin_api admin(rt, **store, cfg, std::move(admin_opts));

    http::server_options s3_opts;
    s3_opts.name = "s3";
    http::server s3_server(rt, s3_opts, s3.handler(), metrics);
    http::server_options admin_srv_opts;
    admin_srv_opts.name = "admin";
    http::server admin_server(rt, admin_srv_opts, admin.handler(), metrics);
    // The website endpoint, when configured (the built-in configuration has
    // one; a busy port there only disables it, with a warning).
    std::optional<web::web_api> web_api;
    std::optional<http::server> web_server;
    if (cfg.s3_web) {
      web_api.emplace(rt, **store, cfg);
      http::server_options web_opts;
      web_opts.name = "web";
      web_server.emplace(rt, web_opts, web_api->handler(), metrics);
      if (auto r = web_server->listen(cfg.s3_web->bind_addr); !r) {
        if (!src->is_default || opts.web_bind) return fail(r.error().message);
        LOG_WARN("{}: website endpoint disabled", r.error().message);
        web_server.reset();
      }
    }

    if (auto r = s3_server.listen(cfg.s3_api.api_bind_addr); !r) return fail(r.error().message);
    if (auto r = admin_server.listen(cfg.admin.api_bind_addr); !r) return fail(r.error().message);
    if (auto r = start_network(*net, cfg, src->is_default); !r) return fail(r.error().message);
    cluster->rpc_public_addr = (*net)->public_addr();
    rpc_metrics rpc_gauges(*registry);
    periodic rpc_refresh(std::chrono::seconds(5), [&] { rpc_gauges.refresh(**net); });
    {
      rpc::layout_manager_options lo;
      lo.metadata_dir = cfg.metadata_dir;
      lo.initial.replication_factor = cfg.replication_factor;
      lo.rpc_timeout = std::chrono::seconds(5);
      auto lm = rpc::layout_manager::open(**net, std::move(lo));
      if (!lm) return fail("cannot open the cluster layout: " + lm.error().message);
      layout = std::move(*lm);
      layout_ptr.store(layout.get(), std::memory_order_release);
      layout->start();
      LOG_INFO("cluster layout version {}", layout->version());
    }
    // Tables, blocks, workers and partition health on /metrics.
    cluster_metrics cluster_gauges(*registry);
    auto gauges_mode = rpc::parse_consistency_mode(cfg.consistency_mode);
    periodic cluster_refresh(std::chrono::seconds(5), [&] {
      auto snap = layout->snapshot();
      cluster_gauges.refresh(**store, **net, snap.get(),
                             gauges_mode ? *gauges_mode : rpc::consistency_mode::consistent,
                             workers.list());
    });
    s3_server.start();
    admin_server.start();
    if (web_server) {
      web_server->start();
      LOG_INFO("Website endpoint listening on http://{} (root domain {})",
               listening_on(cfg.s3_web->bind_addr, web_server->port()), cfg.s3_web->root_domain);
    }
    LOG_INFO("S3 API listening on http://{} (region {})",
             listening_on(cfg.s3_api.api_bind_addr, s3_server.port()), cfg.s3_api.s3_region);
    LOG_INFO("Admin API listening on http://{}",
             listening_on(cfg.admin.api_bind_addr, admin_server.port()));

    // Background maintenance, off the I/O threads.
    workers.add(make_maintenance_worker(**store, maintenance_interval((*store)->cfg())));

    // Lifecycle rules: each bucket at most once per lifecycle_interval_secs
    // (the worker remembers the period of each bucket's last run); checked
    // every minute, or more often when the interval is shorter.
    auto lifecycle_check = std::chrono::seconds(
        std::clamp<uint64_t>((*store)->cfg().lifecycle_interval_secs / 2, 1, 60));
    workers.add(make_lifecycle_worker(**store, lifecycle_check));
    if ((*store)->clustered()) {
      cluster_worker_options cw;
      cw.tombstone_delay_msec = cfg.block_gc_delay_secs * 1000;
      cw.sync_interval = std::chrono::seconds(cfg.sync_interval_secs);
      add_cluster_workers(workers, **store, *layout, *writes, cw);
    }

    auto stopping = std::make_shared<std::atomic<bool>>(false);
    auto pending = std::make_shared<std::atomic<int>>(web_server ? 3 : 2);
    http::shutdown_signal signals(rt, [&, pending](int) {
      if (stopping->exchange(true)) {
        LOG_WARN("second signal: stopping now");
        rt.stop();
        return;
      }
      LOG_INFO("shutting down: finishing requests in flight");
      auto drained = [&rt, pending] {
        if (pending->fetch_sub(1) == 1) rt.stop();
      };
      s3_server.stop(drained);
      admin_server.stop(drained);
      if (web_server) web_server->stop(drained);
    });
    rt.run();
    rt.join();
    rpc_refresh.stop();
    cluster_refresh.stop();
    if (layout) layout->stop();  // its sync thread calls peers: before the network stops
    // Then the network: calls in flight fail at once, so that workers in the
    // middle of a sync round finish their step quickly.
    (*net)->stop();
    workers.stop();
  }
  if (auto f = (*store)->db().flush(); !f) {
    LOG_ERROR("flushing the metadata database failed: {}", f.error().to_string());
    exit_code = 1;
  }
  store->reset();
  LOG_INFO("stopped");
  return exit_code;
}

}  // namespace garage
