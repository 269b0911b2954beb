// Which Kubernetes resource a call addresses, and the REST paths for it.
//
//   resource_kind secrets{"", "v1", "secrets"};            // core group: /api/v1
//   object_path(secrets, "ns", "s")  -> /api/v1/namespaces/ns/secrets/s
//   resource_kind gcl{"objectstore.garage-cpp.dev", "v1alpha1", "garageclusters"};
//   object_path(gcl, "ns", "x", "status")
//     -> /apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters/x/status
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace garage::k8s {

struct resource_kind {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v1alpha1", ...
  std::string plural;   // "secrets", "garageclusters", ...
  bool namespaced = true;

  // "v1" or "group/version", as in an object's apiVersion.
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// Kinds the operator uses.
namespace kinds {
resource_kind namespace_kind();
resource_kind secret();
resource_kind config_map();
resource_kind service();
resource_kind pod();
resource_kind event();
resource_kind stateful_set();
resource_kind persistent_volume_claim();
resource_kind pod_disruption_budget();
resource_kind lease();
resource_kind garage_cluster();
resource_kind garage_bucket();
resource_kind garage_access_key();
}  // namespace kinds

// The collection: .../namespaces/NS/PLURAL, or .../PLURAL for cluster-scoped
// kinds or when ns is empty (every namespace).
std::string collection_path(const resource_kind& kind, std::string_view ns);

// One object, optionally a subresource of it ("status", "scale").
std::string object_path(const resource_kind& kind, std::string_view ns, std::string_view name,
                        std::string_view subresource = {});

// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view s);

// "?k1=v1&k2=v2" with encoded values, skipping empty values; "" if none.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace garage::k8s
