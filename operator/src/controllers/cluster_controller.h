// The GarageCluster reconciler: from the resource to running, connected
// nodes with an applied layout (docs/operator.md, "What the operator does").
//
// Each round is level-triggered and idempotent: it reads the resource, the
// objects of every zone in every site, the nodes' admin APIs, and moves one
// safe step towards what the spec asks for. A step that must wait (a
// LoadBalancer address, a pod, data still moving) ends the round with a
// requeue; the next round sees where things are and goes on from there.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controllers/sites.h"
#include "runtime/controller.h"
#include "runtime/events.h"
#include "runtime/informer.h"
#include "runtime/metrics.h"

namespace garage::op {

struct cluster_deps {
  sites& site;
  event_recorder& events;
  metrics& m;
  informer& clusters;  // GarageClusters of the operator's own cluster
  // False once this replica is not the leader: no admin API write goes out.
  std::function<bool()> may_write;
};

class cluster_reconciler {
 public:
  explicit cluster_reconciler(cluster_deps d) : d_(d) {}
  result<reconcile_result> reconcile(const std::string& ns, const std::string& name);

 private:
  cluster_deps d_;
};

}  // namespace garage::op
