#include "controllers/manager.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "controllers/cluster_controller.h"
#include "controllers/common.h"
#include "controllers/resource_controllers.h"
#include "controllers/sites.h"
#include "k8s/rest_transport.h"
#include "runtime/controller.h"
#include "runtime/events.h"
#include "runtime/health.h"
#include "runtime/informer.h"
#include "runtime/leader.h"
#include "runtime/metrics.h"

namespace garage::op {

namespace {

std::stop_source g_stop;

extern "C" void on_signal(int) { g_stop.request_stop(); }

std::string default_identity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "_" + std::to_string(getpid());
}

// Keys of the objects whose spec.clusterRef names the cluster `gcl`.
std::vector<std::pair<std::string, std::string>> referring(informer& inf, const json& gcl) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string ns = gcl["metadata"].value("namespace", "");
  std::string name = gcl["metadata"].value("name", "");
  for (const auto& o : inf.list(ns))
    if (o.value("spec", json::object()).value("clusterRef", json::object()).value("name", "") ==
        name)
      out.emplace_back(ns, o["metadata"].value("name", ""));
  return out;
}

// The cluster an object the operator made belongs to (its instance label).
std::vector<std::pair<std::string, std::string>> owner_cluster(const json& o) {
  const json labels = o["metadata"].value("labels", json::object());
  std::string inst = labels.value("app.kubernetes.io/instance", "");
  if (inst.empty()) return {};
  return {{o["metadata"].value("namespace", ""), inst}};
}

}  // namespace

int run_operator(const run_options& o) {
  metrics m;
  // Mutations go through only while this replica leads: the elector says so
  // the moment a renewal deadline passes.
  std::unique_ptr<leader_elector> elector;
  k8s::rest_options ro;
  ro.user_agent = "garage-operator";
  auto raw = k8s::make_rest_transport(o.kube, ro);
  if (!raw) {
    std::cerr << "garage-operator: " << raw.error().message << "\n";
    return 1;
  }
  auto wrap = [&](std::shared_ptr<k8s::transport> t) {
    return gated_transport(
        std::move(t), [&] { return !o.leader_elect || (elector && elector->is_leader()); }, &m);
  };
  auto kube = std::make_shared<k8s::client>(wrap(*raw));
  auto lease_client = std::make_shared<k8s::client>(*raw);
  leader_options lo;
  lo.ns = o.leader_namespace.empty() ? o.kube.default_namespace : o.leader_namespace;
  lo.identity = o.identity.empty() ? default_identity() : o.identity;
  if (o.leader_elect) elector = std::make_unique<leader_elector>(lease_client, lo, &m);
  sites site(kube, wrap);
  event_recorder events(kube, "garage-operator", lo.identity);

  informer clusters(kube, k8s::kinds::garage_cluster(), o.watch_namespace, {}, &m);
  informer buckets(kube, k8s::kinds::garage_bucket(), o.watch_namespace, {}, &m);
  informer keys(kube, k8s::kinds::garage_access_key(), o.watch_namespace, {}, &m);
  const std::string owned = "app.kubernetes.io/managed-by=garage-operator";
  informer statefulsets(kube, k8s::kinds::stateful_set(), o.watch_namespace, owned, &m);
  informer pods(kube, k8s::kinds::pod(), o.watch_namespace, owned, &m);
  informer* all[] = {&clusters, &buckets, &keys, &statefulsets, &pods};

  auto may_write = [&] { return !o.leader_elect || (elector && elector->is_leader()); };
  cluster_reconciler cr({site, events, m, clusters, may_write});
  resource_deps rd{site, events, clusters, buckets, keys, may_write};
  // A failed reconcile is retried with backoff and said in a Warning Event
  // on the object (repeats aggregate into one Event with a count).
  auto reporting = [&](informer& inf, auto& reconciler) {
    return [&inf, &reconciler, &events](const std::string& ns,
                                        const std::string& n) -> result<reconcile_result> {
      auto r = reconciler.reconcile(ns, n);
      if (!r)
        if (auto obj = inf.get(ns, n)) events.warning(*obj, "ReconcileFailed", r.error().message);
      return r;
    };
  };
  bucket_reconciler br(rd);
  key_reconciler kr(rd);
  controller cluster_ctl("garagecluster", reporting(clusters, cr), m, {}, o.cluster_workers);
  controller bucket_ctl("garagebucket", reporting(buckets, br), m);
  controller key_ctl("garageaccesskey", reporting(keys, kr), m);
  cluster_ctl.watch(clusters);
  cluster_ctl.watch(statefulsets, owner_cluster);
  cluster_ctl.watch(pods, owner_cluster);
  bucket_ctl.watch(buckets);
  bucket_ctl.watch(clusters, [&](const json& g) { return referring(buckets, g); });
  key_ctl.watch(keys);
  key_ctl.watch(clusters, [&](const json& g) { return referring(keys, g); });
  key_ctl.watch(buckets, [&](const json& b) {
    // keys of the bucket's namespace that name it in their permissions
    std::vector<std::pair<std::string, std::string>> out;
    std::string ns = b["metadata"].value("namespace", "");
    std::string name = b["metadata"].value("name", "");
    for (const auto& k : keys.list(ns))
      for (const auto& p : k.value("spec", json::object()).value("permissions", json::array()))
        if (p.value("bucket", "") == name) out.emplace_back(ns, k["metadata"].value("name", ""));
    return out;
  });

  auto synced = [&] {
    for (auto* i : all)
      if (!i->synced()) return false;
    return true;
  };
  health_server health(o.health_addr, m, synced);
  if (auto r = health.start(); !r) {
    std::cerr << "garage-operator: health endpoint " << o.health_addr << ": " << r.error().message
              << "\n";
    return 1;
  }
  std::unique_ptr<health_server> metrics_server;
  if (!o.metrics_addr.empty() && o.metrics_addr != o.health_addr) {
    metrics_server = std::make_unique<health_server>(o.metrics_addr, m, synced);
    if (auto r = metrics_server->start(); !r) {
      std::cerr << "garage-operator: metrics endpoint " << o.metrics_addr << ": "
                << r.error().message << "\n";
      return 1;
    }
  }

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::stop_token stop = g_stop.get_token();

  std::vector<std::jthread> informer_threads;
  for (auto* i : all) informer_threads.emplace_back([i, stop] { i->run(stop); });
  std::cerr << "garage-operator: watching "
            << (o.watch_namespace.empty() ? std::string("every namespace")
                                          : "namespace " + o.watch_namespace)
            << " of " << o.kube.server << "\n";

  auto lead = [&](std::stop_token lost) {
    // Work only from a filled cache.
    while (!synced() && !lost.stop_requested())
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::cerr << "garage-operator: leading; controllers started\n";
    std::jthread a([&] { cluster_ctl.run(lost); });
    std::jthread b([&] { bucket_ctl.run(lost); });
    std::jthread c([&] { key_ctl.run(lost); });
  };

  int rc = 0;
  if (o.leader_elect) {
    std::cerr << "garage-operator: " << lo.identity << " waiting for the Lease " << lo.ns << "/"
              << lo.name << "\n";
    elector->run(stop, [&](std::stop_token lost) { lead(lost); });
    if (!stop.stop_requested()) {
      std::cerr << "garage-operator: leadership lost; exiting\n";
      rc = 1;
    }
  } else {
    m.leader(true);
    lead(stop);
  }
  g_stop.request_stop();
  informer_threads.clear();
  health.stop();
  if (metrics_server) metrics_server->stop();
  return rc;
}

}  // namespace garage::op
