// The background workers of a node (util/worker.h), built by the composition
// root (server.cc) and run by its worker_runner, so that `garage worker list`
// and the admin API show them and can tune them:
//
//   maintenance  model::store::maintenance: stale uploads, old tombstones,
//                unreferenced blocks
//   lifecycle    model::run_lifecycle: each bucket's lifecycle rules
//
// Both are periodic: each step is one pass, then the worker is idle for its
// interval (or until woken). The first pass comes one interval after start,
// as the node has always done. A failed pass is the step's error (the runner
// counts it and retries with backoff). progress() is the last pass's summary.
//
// The store must outlive the workers (stop the runner first).
#pragma once

#include <chrono>
#include <memory>

#include "util/worker.h"

namespace garage::model {
class store;
}

namespace garage {

std::unique_ptr<worker> make_maintenance_worker(model::store& s,
                                                std::chrono::milliseconds interval);
std::unique_ptr<worker> make_lifecycle_worker(model::store& s, std::chrono::milliseconds interval);

}  // namespace garage
