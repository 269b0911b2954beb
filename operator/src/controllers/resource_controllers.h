// The GarageBucket and GarageAccessKey reconcilers. Both reach their
// cluster through the admin endpoint the cluster reconciler writes into the
// GarageCluster's status (status.endpoints.admin) and its admin token.
#pragma once

#include <functional>
#include <string>

#include "controllers/sites.h"
#include "runtime/controller.h"
#include "runtime/events.h"
#include "runtime/informer.h"
#include "runtime/metrics.h"

namespace garage::op {

struct resource_deps {
  sites& site;
  event_recorder& events;
  informer& clusters;
  informer& buckets;
  informer& keys;
  std::function<bool()> may_write;  // the leader gate of admin API writes
};

class bucket_reconciler {
 public:
  explicit bucket_reconciler(resource_deps d) : d_(d) {}
  result<reconcile_result> reconcile(const std::string& ns, const std::string& name);

 private:
  resource_deps d_;
};

class key_reconciler {
 public:
  explicit key_reconciler(resource_deps d) : d_(d) {}
  result<reconcile_result> reconcile(const std::string& ns, const std::string& name);

 private:
  resource_deps d_;
};

}  // namespace garage::op
