// controller: workers that take keys ("ns/name") from a work_queue and call a
// reconcile function for each, as controller-runtime's controller does.
//
// A reconcile that fails is retried with the queue's rate-limited backoff
// (and logged with its key); one that asks for requeue_after > 0 is queued
// again after that delay; one that succeeds has its backoff forgotten. A key
// is never reconciled by two workers at once; a change seen while it is being
// reconciled queues it once more. Every reconcile counts in
// garage_operator_reconcile_{total,errors_total,duration_seconds}.
//
//   controller c("garagecluster", reconcile, m, {}, 2);
//   c.watch(clusters);                       // the object's own key
//   c.watch(stateful_sets, owner_keys);      // keys of the owners
//   c.run(stop);                             // blocks until stop
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/work_queue.h"
#include "util/result.h"

namespace garage::op {

class informer;
class metrics;

struct reconcile_result {
  std::chrono::milliseconds requeue_after{0};  // > 0: reconcile again after this
};

using reconcile_fn =
    std::function<garage::result<reconcile_result>(const std::string& ns, const std::string& name)>;

// "ns/name", or "name" for a cluster-scoped object (ns empty).
std::string object_key(std::string_view ns, std::string_view name);
// The inverse of object_key: {ns, name}.
std::pair<std::string, std::string> split_key(std::string_view key);

class controller {
 public:
  // `m` must outlive the controller.
  controller(std::string name, reconcile_fn reconcile, metrics& m, queue_options options = {},
             int workers = 1);
  controller(const controller&) = delete;
  controller& operator=(const controller&) = delete;

  const std::string& name() const { return name_; }
  work_queue& queue() { return queue_; }
  void enqueue(const std::string& ns, const std::string& name);

  // Registers handlers on `inf` (before inf.run()): every change or deletion
  // of an object enqueues its own key, or the keys map_to_keys returns for it
  // (e.g. the owner of a StatefulSet).
  void watch(informer& inf);
  void watch(informer& inf,
             std::function<std::vector<std::pair<std::string, std::string>>(const nlohmann::json&)>
                 map_to_keys);

  // Starts the workers and blocks until `stop`; then shuts the queue down and
  // waits for the reconciles in progress to return. Call once.
  void run(std::stop_token stop);

  // One key taken from the queue and reconciled (what each worker loops on);
  // false once the queue shut down or `stop` was requested. For tests.
  bool process_next(std::stop_token stop);

 private:
  std::string name_;
  reconcile_fn reconcile_;
  metrics& metrics_;
  int workers_;
  work_queue queue_;
};

}  // namespace garage::op
