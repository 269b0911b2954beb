// The worker endpoints (ListWorkers, GetWorkerInfo, GetWorkerVariable,
// SetWorkerVariable) over the node's util/worker.h worker_runner, in the
// JSON shapes of Garage's admin API v2: each reply is a multi-node document
// {"success": {"<node id>": ...}, "error": {}}; this node answers for itself
// only, so another node id in ?node= lands in "error".
//
// The one variable is a worker's tranquility (0..1000): "tranquility" with
// {"id"} or {"name"}, or "<worker name>-tranquility" without (as Garage's
// "scrub-tranquility").
//
// Errors: 503 ServiceUnavailable without a runner, 404 NoSuchWorker for an
// unknown id or name, 400 InvalidRequest for an unknown variable or a bad
// value. Internal to api/admin; `execute` dispatches to them. Thread-safe
// (the runner is).
#pragma once

#include <type_traits>

#include "api/admin/handlers.h"
#include "api/admin/router.h"

namespace garage {
class worker_runner;
}

namespace garage::admin {

api_result<reply> handle(worker_runner& w, const node_facts& f, const list_workers_request& r);
api_result<reply> handle(worker_runner& w, const node_facts& f, const get_worker_info_request& r);
api_result<reply> handle(worker_runner& w, const node_facts& f,
                         const get_worker_variable_request& r);
api_result<reply> handle(worker_runner& w, const node_facts& f,
                         const set_worker_variable_request& r);

template <class T>
inline constexpr bool is_worker_request =
    std::is_same_v<T, list_workers_request> || std::is_same_v<T, get_worker_info_request> ||
    std::is_same_v<T, get_worker_variable_request> ||
    std::is_same_v<T, set_worker_variable_request>;

}  // namespace garage::admin
