#include "k8s/resource.h"

namespace garage::k8s {

namespace kinds {
resource_kind namespace_kind() { return {"", "v1", "namespaces", false}; }
resource_kind secret() { return {"", "v1", "secrets"}; }
resource_kind config_map() { return {"", "v1", "configmaps"}; }
resource_kind service() { return {"", "v1", "services"}; }
resource_kind pod() { return {"", "v1", "pods"}; }
resource_kind event() { return {"events.k8s.io", "v1", "events"}; }
resource_kind stateful_set() { return {"apps", "v1", "statefulsets"}; }
resource_kind persistent_volume_claim() { return {"", "v1", "persistentvolumeclaims"}; }
resource_kind pod_disruption_budget() { return {"policy", "v1", "poddisruptionbudgets"}; }
resource_kind lease() { return {"coordination.k8s.io", "v1", "leases"}; }
resource_kind garage_cluster() {
  return {"objectstore.garage-cpp.dev", "v1alpha1", "garageclusters"};
}
resource_kind garage_bucket() {
  return {"objectstore.garage-cpp.dev", "v1alpha1", "garagebuckets"};
}
resource_kind garage_access_key() {
  return {"objectstore.garage-cpp.dev", "v1alpha1", "garageaccesskeys"};
}
}  // namespace kinds

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string collection_path(const resource_kind& kind, std::string_view ns) {
  std::string out =
      kind.group.empty() ? "/api/" + kind.version : "/apis/" + kind.group + "/" + kind.version;
  if (kind.namespaced && !ns.empty()) out += "/namespaces/" + url_encode(ns);
  out += "/" + kind.plural;
  return out;
}

std::string object_path(const resource_kind& kind, std::string_view ns, std::string_view name,
                        std::string_view subresource) {
  std::string out = collection_path(kind, ns) + "/" + url_encode(name);
  if (!subresource.empty()) out += "/" + std::string(subresource);
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += k + "=" + url_encode(v);
  }
  return out;
}

}  // namespace garage::k8s
