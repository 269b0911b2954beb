// The running operator: informers, the three controllers, leader election,
// the health and metrics endpoints, wired together (main.cc parses flags and
// calls run_operator).
#pragma once

#include <string>

#include "k8s/kubeconfig.h"

namespace garage::op {

struct run_options {
  k8s::cluster_config kube;
  std::string watch_namespace;  // "" = every namespace
  bool leader_elect = false;
  std::string leader_namespace;  // "" = the configuration's default namespace
  std::string identity;          // "" = hostname_pid
  std::string health_addr = ":8081";
  std::string metrics_addr;  // "" = served on health_addr only
  int cluster_workers = 2;
};

// Runs until SIGTERM or SIGINT (0), or until leadership is lost (1: a
// replica that lost the Lease exits and restarts as a follower, as
// client-go's operators do). Errors at start: a message and 1.
int run_operator(const run_options& o);

}  // namespace garage::op
