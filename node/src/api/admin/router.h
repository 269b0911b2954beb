// Parsing of admin API requests into typed requests, in two steps so that
// authentication happens before the body is read:
//
//   auto r = find_route(head.method, head.path());   // endpoint + auth kind
//   ... check the bearer token for r->auth, read the body if r->reads_body ...
//   auto req = parse_request(*r, head.query(), body); // admin_request
//
// Paths and JSON field names follow Garage's admin API v2
// (doc/api/garage-admin-v2.json upstream). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/admin/admin_error.h"
#include "model/permission.h"

namespace garage::admin {

// Every endpoint the router knows. The ones this node serves each have a
// request struct below; the others (Garage v2 endpoints not built here) parse
// to unimplemented_request and answer 501.
enum class endpoint {
  health,
  ready,
  metrics,
  get_cluster_health,
  get_cluster_status,
  get_node_info,
  get_node_statistics,
  list_keys,
  get_key_info,
  create_key,
  import_key,
  update_key,
  delete_key,
  list_buckets,
  get_bucket_info,
  create_bucket,
  update_bucket,
  delete_bucket,
  allow_bucket_key,
  deny_bucket_key,
  add_bucket_alias,
  remove_bucket_alias,
  get_cluster_layout,
  get_cluster_layout_history,
  update_cluster_layout,
  preview_cluster_layout_changes,
  apply_cluster_layout,
  connect_cluster_nodes,
  revert_cluster_layout,
  cluster_layout_skip_dead_nodes,
  list_workers,
  get_worker_info,
  get_worker_variable,
  set_worker_variable,
  unimplemented,
};

enum class auth_kind { none, metrics_token, admin_token };

struct route {
  endpoint ep = endpoint::unimplemented;
  std::string_view name;  // Garage's operation name, e.g. "GetKeyInfo"; "Health"
  auth_kind auth = auth_kind::admin_token;
  bool reads_body = false;
};

// 404 NoSuchEndpoint for an unknown path, 405 MethodNotAllowed for a known
// path with the wrong method. `path` is the request path without the query.
api_result<route> find_route(std::string_view method, std::string_view path);

struct health_request {};
struct metrics_request {};
struct get_cluster_health_request {};
struct get_cluster_status_request {};
struct get_node_info_request {
  std::string node;  // "self", "*" or this node's id
};
struct get_node_statistics_request {
  std::string node;         // "self", "*" or this node's id
  bool partitions = false;  // ?partitions=true: list partitions held / assigned
};
struct list_keys_request {};
struct get_key_info_request {
  std::optional<std::string> id;      // exact key id
  std::optional<std::string> search;  // id prefix or name
  bool show_secret = false;
};
struct create_key_request {
  std::string name;
};
struct import_key_request {
  std::string access_key_id;
  std::string secret_access_key;
  std::string name;
};
struct update_key_request {
  std::string id;
  std::optional<std::string> name;
  std::optional<bool> allow_create_bucket;  // set by allow / deny {createBucket: true}
};
struct delete_key_request {
  std::string id;
};
struct list_buckets_request {};
struct get_bucket_info_request {
  std::optional<std::string> id;
  std::optional<std::string> global_alias;
  std::optional<std::string> search;  // id prefix or exact alias
};
struct create_bucket_request {
  std::string global_alias;  // empty: no alias
  // localAlias {accessKeyId, alias, allow}: a name for that key only, and the
  // permissions the key gets on the new bucket.
  std::optional<std::string> local_key_id;
  std::string local_alias;
  model::bucket_permission local_allow;
};
struct update_bucket_request {
  std::string id;  // nothing to change is allowed: the reply is the bucket
  // websiteAccess {enabled, indexDocument, errorDocument}; nullopt: unchanged.
  struct website_change {
    bool enabled = false;
    std::string index_document;
    std::optional<std::string> error_document;
  };
  std::optional<website_change> website;
  // quotas {maxSize, maxObjects}, each null for no limit; nullopt: unchanged.
  struct quota_change {
    std::optional<uint64_t> max_size;
    std::optional<uint64_t> max_objects;
  };
  std::optional<quota_change> quotas;
};
struct delete_bucket_request {
  std::string id;
};
struct bucket_key_perm_request {
  bool allow = true;  // AllowBucketKey, else DenyBucketKey
  std::string bucket_id;
  std::string access_key_id;
  model::bucket_permission perm;
};
struct bucket_alias_request {
  bool add = true;  // AddBucketAlias, else RemoveBucketAlias
  std::string bucket_id;
  std::string global_alias;  // or, with access_key_id, the key's local alias
  std::optional<std::string> access_key_id;
};
// Cluster layout (docs/layout.md). Node ids are full hex ids.
struct get_cluster_layout_request {};
struct get_cluster_layout_history_request {};
struct layout_role_change {
  std::string id;
  bool remove = false;  // {id, remove: true}; else the fields below
  std::string zone;
  std::optional<uint64_t> capacity;  // bytes; nullopt: a gateway
  std::vector<std::string> tags;
};
struct update_cluster_layout_request {
  std::vector<layout_role_change> roles;
  // parameters.zoneRedundancy: 0 for "maximum", else {"atLeast": n}.
  std::optional<uint32_t> zone_redundancy;
};
struct preview_cluster_layout_changes_request {};
struct apply_cluster_layout_request {
  uint64_t version = 0;
};
// ConnectClusterNodes: a JSON array of "<node id>@<host:port>".
struct connect_cluster_nodes_request {
  std::vector<std::string> nodes;
};
struct revert_cluster_layout_request {};
// ClusterLayoutSkipDeadNodes {version, allowMissingData}.
struct cluster_layout_skip_dead_nodes_request {
  uint64_t version = 0;
  bool allow_missing_data = false;
};
// Background workers (util/worker.h). `node` is the query parameter node:
// "self" (also when absent), "*" or this node's id.
struct list_workers_request {
  std::string node = "self";
  bool busy_only = false;   // busyOnly: busy workers only
  bool error_only = false;  // errorOnly: workers that have failed at least once
};
struct get_worker_info_request {
  std::string node = "self";
  uint64_t id = 0;
};
// A worker chosen by {"id": n} or {"name": "..."}; neither: variables are
// named "<worker name>-tranquility", as Garage's node-wide variables.
struct worker_selector {
  std::optional<uint64_t> id;
  std::optional<std::string> name;
  bool empty() const { return !id && !name; }
};
struct get_worker_variable_request {
  std::string node = "self";
  worker_selector worker;
  std::optional<std::string> variable;  // nullopt: every variable
};
struct set_worker_variable_request {
  std::string node = "self";
  worker_selector worker;
  std::string variable;
  std::string value;  // a JSON number is accepted too, as its decimal text
};
struct unimplemented_request {
  std::string name;
};

using admin_request = std::variant<
    health_request, metrics_request, get_cluster_health_request, get_cluster_status_request,
    get_node_info_request, get_node_statistics_request, list_keys_request, get_key_info_request,
    create_key_request, import_key_request, update_key_request, delete_key_request,
    list_buckets_request, get_bucket_info_request, create_bucket_request, update_bucket_request,
    delete_bucket_request, bucket_key_perm_request, bucket_alias_request,
    get_cluster_layout_request, get_cluster_layout_history_request, update_cluster_layout_request,
    preview_cluster_layout_changes_request, apply_cluster_layout_request,
    revert_cluster_layout_request, cluster_layout_skip_dead_nodes_request,
    connect_cluster_nodes_request, list_workers_request, get_worker_info_request,
    get_worker_variable_request, set_worker_variable_request, unimplemented_request>;

// Reads the query parameters and, for endpoints with a body, the JSON body
// (an empty body counts as {}). 400 InvalidRequest for bad JSON, a field of
// the wrong type or a missing parameter; 501 for options not built here
// (none of UpdateBucket's any more).
api_result<admin_request> parse_request(const route& r, std::string_view query,
                                        std::string_view body);

}  // namespace garage::admin
