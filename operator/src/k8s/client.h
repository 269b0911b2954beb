// The Kubernetes API client: typed-enough calls over a `transport`.
//
// Objects are nlohmann::json. Every call returns api_result: a non-2xx
// answer becomes an api_error from the server's Status (code, reason,
// message). Thread-safe as its transport is (the rest transport is).
//
//   client k(transport);
//   auto l = k.list(kinds::garage_cluster(), "ns", {.label_selector = "a=b"});
//   k.watch(kinds::garage_cluster(), "ns", {.resource_version = l->resource_version},
//           [](const watch_event& e) { ...; return true; }, stop);
//   k.apply(kinds::config_map(), "ns", cm, {.field_manager = "garage-operator", .force = true});
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/api_error.h"
#include "k8s/resource.h"
#include "k8s/transport.h"
#include "k8s/watch.h"

namespace garage::k8s {

using json = nlohmann::json;

struct list_options {
  std::string label_selector;    // e.g. "app.kubernetes.io/name=garage,tier in (a,b)"
  std::string field_selector;    // e.g. "metadata.name=x"
  std::string resource_version;  // "" = most recent; "0" = any (from the watch cache)
  int limit = 0;                 // 0 = no paging
  std::string continue_token;
};

struct object_list {
  std::vector<json> items;
  std::string resource_version;  // of the list: start a watch from here
  std::string continue_token;    // non-empty when more pages follow
};

struct watch_options {
  std::string resource_version;  // watch changes after this one
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  int timeout_seconds = 300;  // the server ends the watch after this (normal)
};

// How a watch ended when it did not fail.
struct watch_end {
  std::string resource_version;  // the last one seen: watch again from here
  bool stopped = false;          // the handler returned false
};

// Called for ADDED, MODIFIED, DELETED and BOOKMARK; returns false to stop.
using watch_handler = std::function<bool(const watch_event&)>;

enum class propagation_policy { background, foreground, orphan };

struct delete_options {
  std::optional<propagation_policy> propagation;
  std::string precondition_resource_version;  // refuse (409) if the object changed
  std::optional<int> grace_period_seconds;
};

enum class patch_type {
  merge,      // application/merge-patch+json (RFC 7386)
  json,       // application/json-patch+json (RFC 6902)
  strategic,  // application/strategic-merge-patch+json (built-in kinds only)
};

struct apply_options {
  std::string field_manager;  // required by the server for apply
  bool force = false;         // take over fields other managers own
};

class client {
 public:
  explicit client(std::shared_ptr<transport> t) : transport_(std::move(t)) {}

  // GET an object, or one of its subresources ("status", "scale").
  api_result<json> get(const resource_kind& kind, std::string_view ns, std::string_view name,
                       std::string_view subresource = {});

  // One page of a list (all of it when options.limit is 0).
  api_result<object_list> list(const resource_kind& kind, std::string_view ns,
                               const list_options& options = {});
  // Every page, following continue tokens.
  api_result<object_list> list_all(const resource_kind& kind, std::string_view ns,
                                   list_options options = {});

  // Watches until the server ends the stream (a normal end: watch again from
  // the returned resource_version), the handler returns false, or `stop` is
  // requested (a Cancelled error). A resourceVersion too old to watch from —
  // HTTP 410 or an ERROR event with code 410 — is an api_error for which
  // is_gone() holds: list again. Other ERROR events end the watch with their
  // Status as the error.
  api_result<watch_end> watch(const resource_kind& kind, std::string_view ns,
                              const watch_options& options, const watch_handler& handler,
                              std::stop_token stop = {});

  api_result<json> create(const resource_kind& kind, std::string_view ns, const json& object,
                          std::string_view field_manager = {});
  // PUT: the object's metadata.resourceVersion, when set, makes a stale write
  // fail with 409 Conflict.
  api_result<json> replace(const resource_kind& kind, std::string_view ns, std::string_view name,
                           const json& object, std::string_view subresource = {},
                           std::string_view field_manager = {});
  // DELETE: the object as it is while being deleted (finalizers), or the
  // server's Status once it is gone.
  api_result<json> remove(const resource_kind& kind, std::string_view ns, std::string_view name,
                          const delete_options& options = {});
  api_result<json> patch(const resource_kind& kind, std::string_view ns, std::string_view name,
                         patch_type type, const json& patch, std::string_view subresource = {},
                         std::string_view field_manager = {});
  // Server-side apply of `object` (apiVersion, kind and metadata.name set; the
  // fields this manager owns and nothing else).
  api_result<json> apply(const resource_kind& kind, std::string_view ns, const json& object,
                         const apply_options& options, std::string_view subresource = {});

  // The status subresource.
  api_result<json> get_status(const resource_kind& kind, std::string_view ns,
                              std::string_view name) {
    return get(kind, ns, name, "status");
  }
  api_result<json> patch_status(const resource_kind& kind, std::string_view ns,
                                std::string_view name, patch_type type, const json& body) {
    return patch(kind, ns, name, type, body, "status");
  }
  api_result<json> apply_status(const resource_kind& kind, std::string_view ns, const json& object,
                                const apply_options& options) {
    return apply(kind, ns, object, options, "status");
  }

  // GET of any path (e.g. "/version", discovery), parsed as JSON.
  api_result<json> get_path(const std::string& path);

 private:
  api_result<json> call(const http_request& req);

  std::shared_ptr<transport> transport_;
};

}  // namespace garage::k8s
