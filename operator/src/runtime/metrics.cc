#include "runtime/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

namespace garage::op {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

const Histogram::BucketBoundaries& seconds_buckets() {
  static const Histogram::BucketBoundaries b{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,     2.5,  5,     10,   30,  60};
  return b;
}

Family<Counter>& counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
Family<Gauge>& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
Family<Histogram>& histogram(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

}  // namespace

struct metrics::rep {
  prometheus::Registry registry;
  Family<Counter>& reconcile_total =
      counter(registry, "garage_operator_reconcile_total", "Reconciles, by controller and result");
  Family<Counter>& reconcile_errors = counter(registry, "garage_operator_reconcile_errors_total",
                                              "Reconciles that failed, by controller");
  Family<Histogram>& reconcile_duration =
      histogram(registry, "garage_operator_reconcile_duration_seconds", "Time of one reconcile");
  Family<Gauge>& queue_depth =
      gauge(registry, "garage_operator_workqueue_depth", "Keys waiting in the work queue");
  Family<Counter>& queue_adds =
      counter(registry, "garage_operator_workqueue_adds_total", "Keys added to the work queue");
  Family<Counter>& queue_retries = counter(registry, "garage_operator_workqueue_retries_total",
                                           "Keys re-added with a rate-limited delay");
  Family<Histogram>& queue_latency =
      histogram(registry, "garage_operator_workqueue_queue_duration_seconds",
                "Time a key waited in the queue before a worker took it");
  Family<Histogram>& queue_work = histogram(
      registry, "garage_operator_workqueue_work_duration_seconds", "Time a worker held a key");
  Family<Counter>& api_requests = counter(registry, "garage_operator_api_requests_total",
                                          "Kubernetes API requests, by verb and HTTP status");
  Family<Histogram>& api_duration = histogram(
      registry, "garage_operator_api_request_duration_seconds", "Kubernetes API request time");
  Family<Counter>& informer_lists =
      counter(registry, "garage_operator_informer_lists_total", "Full lists made by each informer");
  Family<Gauge>& leader =
      gauge(registry, "garage_operator_leader", "1 while this process holds the leader lease");
  std::array<Family<Gauge>*, 7> cluster{
      &gauge(registry, "garage_operator_cluster_layout_version", "Current layout version"),
      &gauge(registry, "garage_operator_cluster_nodes", "Nodes in the layout"),
      &gauge(registry, "garage_operator_cluster_nodes_ready", "Nodes whose pod is ready"),
      &gauge(registry, "garage_operator_cluster_nodes_connected", "Nodes connected to the cluster"),
      &gauge(registry, "garage_operator_cluster_partitions", "Partitions of the layout"),
      &gauge(registry, "garage_operator_cluster_partitions_healthy",
             "Partitions with every copy on a connected node"),
      &gauge(registry, "garage_operator_cluster_partitions_quorum",
             "Partitions with a write quorum of connected nodes"),
  };
  Family<Gauge>& operation =
      gauge(registry, "garage_operator_cluster_operation_in_progress",
            "1 while an operation (scale_up, scale_down, upgrade, layout_change) is under way");

  std::mutex mu;  // operations
  std::set<std::tuple<std::string, std::string, std::string>> operations;
};

metrics::metrics() : rep_(std::make_unique<rep>()) { rep_->leader.Add({}).Set(0); }

metrics::~metrics() = default;

prometheus::Registry& metrics::registry() { return rep_->registry; }

void metrics::reconcile(std::string_view controller, std::string_view result, double seconds) {
  std::string c(controller);
  rep_->reconcile_total.Add({{"controller", c}, {"result", std::string(result)}}).Increment();
  if (result == "error") rep_->reconcile_errors.Add({{"controller", c}}).Increment();
  rep_->reconcile_duration.Add({{"controller", c}}, seconds_buckets()).Observe(seconds);
}

void metrics::queue_depth(std::string_view name, int64_t n) {
  rep_->queue_depth.Add({{"name", std::string(name)}}).Set(static_cast<double>(n));
}
void metrics::queue_add(std::string_view name) {
  rep_->queue_adds.Add({{"name", std::string(name)}}).Increment();
}
void metrics::queue_retry(std::string_view name) {
  rep_->queue_retries.Add({{"name", std::string(name)}}).Increment();
}
void metrics::queue_latency(std::string_view name, double seconds) {
  rep_->queue_latency.Add({{"name", std::string(name)}}, seconds_buckets()).Observe(seconds);
}
void metrics::queue_work(std::string_view name, double seconds) {
  rep_->queue_work.Add({{"name", std::string(name)}}, seconds_buckets()).Observe(seconds);
}

void metrics::api_request(std::string_view verb, int code, double seconds) {
  std::string v(verb);
  rep_->api_requests.Add({{"verb", v}, {"code", std::to_string(code)}}).Increment();
  if (seconds >= 0) rep_->api_duration.Add({{"verb", v}}, seconds_buckets()).Observe(seconds);
}

void metrics::informer_list(std::string_view name) {
  rep_->informer_lists.Add({{"informer", std::string(name)}}).Increment();
}

void metrics::leader(bool is_leader) { rep_->leader.Add({}).Set(is_leader ? 1 : 0); }

void metrics::set_cluster(std::string_view ns, std::string_view name, int64_t layout_version,
                          int64_t nodes, int64_t nodes_ready, int64_t nodes_connected,
                          int64_t partitions_total, int64_t partitions_healthy,
                          int64_t partitions_quorum) {
  std::map<std::string, std::string> labels{{"namespace", std::string(ns)},
                                            {"cluster", std::string(name)}};
  const int64_t values[7] = {
      layout_version,   nodes, nodes_ready, nodes_connected, partitions_total, partitions_healthy,
      partitions_quorum};
  for (size_t i = 0; i < rep_->cluster.size(); ++i)
    rep_->cluster[i]->Add(labels).Set(static_cast<double>(values[i]));
}

void metrics::set_operation(std::string_view ns, std::string_view name, std::string_view operation,
                            bool in_progress) {
  std::map<std::string, std::string> labels{{"namespace", std::string(ns)},
                                            {"cluster", std::string(name)},
                                            {"operation", std::string(operation)}};
  rep_->operation.Add(labels).Set(in_progress ? 1 : 0);
  std::lock_guard lock(rep_->mu);
  rep_->operations.emplace(ns, name, operation);
}

void metrics::forget_cluster(std::string_view ns, std::string_view name) {
  std::map<std::string, std::string> labels{{"namespace", std::string(ns)},
                                            {"cluster", std::string(name)}};
  for (auto* f : rep_->cluster) f->Remove(&f->Add(labels));
  std::lock_guard lock(rep_->mu);
  for (auto it = rep_->operations.begin(); it != rep_->operations.end();) {
    const auto& [n, c, op] = *it;
    if (n == ns && c == name) {
      auto l = labels;
      l["operation"] = op;
      rep_->operation.Remove(&rep_->operation.Add(l));
      it = rep_->operations.erase(it);
    } else {
      ++it;
    }
  }
}

std::string metrics::text() const {
  prometheus::TextSerializer s;
  return s.Serialize(rep_->registry.Collect());
}

}  // namespace garage::op
