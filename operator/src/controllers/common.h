// What the reconcilers share: the Kubernetes error as a garage::error,
// status conditions, finalizers, owner references and RFC 3339 time.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "k8s/api_error.h"
#include "k8s/client.h"
#include "util/result.h"

namespace garage::op {

using json = nlohmann::json;

inline constexpr const char* field_manager = "garage-operator";
inline constexpr const char* api_group = "objectstore.garage-cpp.dev";
inline constexpr const char* finalizer = "objectstore.garage-cpp.dev/finalizer";

// An API failure as a garage::error (404 → not_found, 409 → conflict, 401 →
// unauthenticated, 403 → permission_denied, 422/400 → invalid_argument, no
// answer → unavailable), its message prefixed by `what`.
garage::error from_api(const k8s::api_error& e, std::string_view what);

// "2026-11-25T07:00:00Z", now.
std::string now_rfc3339();

// metav1.Conditions of a status, rebuilt at every reconcile: set() keeps the
// lastTransitionTime of a condition whose status did not change.
class conditions {
 public:
  conditions(const json& old_status, int64_t generation);
  // status: "True", "False" or "Unknown"; reason CamelCase.
  void set(const std::string& type, const std::string& status, const std::string& reason,
           const std::string& message);
  void set(const std::string& type, bool status, const std::string& reason,
           const std::string& message) {
    set(type, std::string(status ? "True" : "False"), reason, message);
  }
  // The condition as set in this round, or as it was before.
  const json* find(const std::string& type) const;
  // True when `type` changed status or reason compared with the old status.
  bool changed(const std::string& type) const;
  json to_json() const;

 private:
  json old_;  // array
  json now_;  // array
  int64_t generation_;
};

// The object's metadata.finalizers holds `finalizer`.
bool has_finalizer(const json& obj);
// Adds or removes `finalizer` (a merge patch with the object's
// resourceVersion as precondition: a concurrent change is a conflict, retried
// by the next reconcile).
result<void> add_finalizer(k8s::client& c, const k8s::resource_kind& kind, const json& obj);
result<void> remove_finalizer(k8s::client& c, const k8s::resource_kind& kind, const json& obj);

// An ownerReference to `owner` (controller, blockOwnerDeletion).
json owner_reference(const json& owner);

// Merge-patches the status subresource.
result<void> write_status(k8s::client& c, const k8s::resource_kind& kind, const json& obj,
                          const json& status);

// Server-side apply with the operator's field manager, forced.
result<json> apply(k8s::client& c, const k8s::resource_kind& kind, const json& obj);

// The value of a Secret's key, decoded; not_found naming what is missing.
result<std::string> secret_value(k8s::client& c, const std::string& ns, const std::string& name,
                                 const std::string& key);

}  // namespace garage::op
