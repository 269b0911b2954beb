// metrics: the operator's Prometheus registry and every metric it exports.
// One object per process, built by main and passed by reference (or pointer,
// where optional) to the parts that record. Thread-safe. prometheus-cpp stays
// in metrics.cc.
//
//   garage_operator_reconcile_total{controller,result}        result: success|error|requeue
//   garage_operator_reconcile_errors_total{controller}
//   garage_operator_reconcile_duration_seconds{controller}    histogram
//   garage_operator_workqueue_depth{name}                     gauge
//   garage_operator_workqueue_adds_total{name}
//   garage_operator_workqueue_retries_total{name}
//   garage_operator_workqueue_queue_duration_seconds{name}    histogram: added -> taken
//   garage_operator_workqueue_work_duration_seconds{name}     histogram: taken -> done
//   garage_operator_api_requests_total{verb,code}             verb: GET, POST, ..., WATCH
//   garage_operator_api_request_duration_seconds{verb}        histogram
//   garage_operator_informer_lists_total{informer}            full lists (start, 410, errors)
//   garage_operator_leader                                    1 while this process leads
//   garage_operator_cluster_{layout_version,nodes,nodes_ready,nodes_connected,
//       partitions,partitions_healthy,partitions_quorum}{namespace,cluster}
//   garage_operator_cluster_operation_in_progress{namespace,cluster,operation}
//       operation: scale_up|scale_down|upgrade|layout_change
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace garage::op {

class metrics {
 public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // One reconcile of `controller` ended with `result` ("success", "error" or
  // "requeue") after `seconds`. "error" also counts in reconcile_errors_total.
  void reconcile(std::string_view controller, std::string_view result, double seconds);

  // Work queue `name`.
  void queue_depth(std::string_view name, int64_t n);
  void queue_add(std::string_view name);
  void queue_retry(std::string_view name);
  void queue_latency(std::string_view name, double seconds);
  void queue_work(std::string_view name, double seconds);

  // One Kubernetes API request: `verb` is the HTTP method or "WATCH", `code`
  // the HTTP status (0: no response). `seconds` < 0: duration not recorded.
  void api_request(std::string_view verb, int code, double seconds = -1);

  // One full list by informer `name`.
  void informer_list(std::string_view name);

  void leader(bool is_leader);

  // The state of one GarageCluster, as its last reconcile saw it.
  void set_cluster(std::string_view ns, std::string_view name, int64_t layout_version,
                   int64_t nodes, int64_t nodes_ready, int64_t nodes_connected,
                   int64_t partitions_total, int64_t partitions_healthy, int64_t partitions_quorum);
  // operation: "scale_up", "scale_down", "upgrade", "layout_change".
  void set_operation(std::string_view ns, std::string_view name, std::string_view operation,
                     bool in_progress);
  // Removes every cluster series of the cluster (it was deleted).
  void forget_cluster(std::string_view ns, std::string_view name);

  // Every metric in the Prometheus text exposition format (0.0.4).
  std::string text() const;

  // For metrics of other parts registered beside these.
  prometheus::Registry& registry();

 private:
  struct rep;
  std::unique_ptr<rep> rep_;
};

}  // namespace garage::op
