// operator_cluster_render: the objects of one site of a GarageCluster, as a
// Kubernetes List on stdout, for tests/operator/test_cluster_objects.py to
// apply with kubectl (what the reconciler will apply, minus ownerReferences).
//
//   operator_cluster_render GCL.json RPC_SECRET_HEX ADMIN_TOKEN [SITE_SECRET]
//
// SITE_SECRET: the zones whose site is that kubeconfig Secret; default "" (the
// operator's own site). Exit 1 with the parse error on a bad GarageCluster.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "cluster/objects.h"

using namespace garage::op::cluster;
using nlohmann::json;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: operator_cluster_render GCL.json RPC_SECRET_HEX ADMIN_TOKEN [SITE]\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  json gcl = json::parse(in, nullptr, false);
  if (gcl.is_discarded()) {
    std::cerr << argv[1] << ": not JSON\n";
    return 2;
  }
  auto c = parse_cluster(gcl);
  if (!c) {
    std::cerr << c.error().message << "\n";
    return 1;
  }
  std::string site = argc > 4 ? argv[4] : "";
  json items = json::array();
  std::map<std::string, int> largest_zone;  // namespace -> nodes
  for (const auto& z : c->zones) {
    if (z.site_secret != site) continue;
    auto& n = largest_zone[z.ns];
    n = std::max(n, z.nodes);
    auto cm = config_map(*c, z, z.nodes, {});
    items.push_back(cm);
    items.push_back(headless_service(*c, z));
    items.push_back(stateful_set(*c, z, z.nodes, config_hash(cm)));
    if (c->multi_site())
      for (int i = 0; i < z.nodes; ++i) items.push_back(node_service(*c, z, i));
  }
  for (const auto& [ns, nodes] : largest_zone) {
    items.push_back(secrets(*c, ns, argv[2], argv[3]));
    items.push_back(api_service(*c, ns));
    items.push_back(pod_disruption_budget(*c, ns, nodes));
  }
  std::cout << json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}}.dump(2) << "\n";
  return 0;
}
