#include "api/admin/router.h"

#include <array>
#include <nlohmann/json.hpp>

#include "api/common/http.h"

namespace garage::admin {
namespace {

using json = nlohmann::json;

struct route_entry {
  std::string_view path;
  std::string_view method;
  endpoint ep;
  bool reads_body;
};

constexpr std::string_view kV2 = "/v2/";

// Served here. Special endpoints first, then /v2/<Name>.
constexpr std::array kRoutes = {
    route_entry{"/health", "GET", endpoint::health, false},
    route_entry{"/ready", "GET", endpoint::ready, false},
    route_entry{"/metrics", "GET", endpoint::metrics, false},
    route_entry{"GetClusterHealth", "GET", endpoint::get_cluster_health, false},
    route_entry{"GetClusterStatus", "GET", endpoint::get_cluster_status, false},
    route_entry{"GetNodeInfo", "GET", endpoint::get_node_info, false},
    route_entry{"GetNodeStatistics", "GET", endpoint::get_node_statistics, false},
    route_entry{"ListKeys", "GET", endpoint::list_keys, false},
    route_entry{"GetKeyInfo", "GET", endpoint::get_key_info, false},
    route_entry{"CreateKey", "POST", endpoint::create_key, true},
    route_entry{"ImportKey", "POST", endpoint::import_key, true},
    route_entry{"UpdateKey", "POST", endpoint::update_key, true},
    route_entry{"DeleteKey", "POST", endpoint::delete_key, false},
    route_entry{"ListBuckets", "GET", endpoint::list_buckets, false},
    route_entry{"GetBucketInfo", "GET", endpoint::get_bucket_info, false},
    route_entry{"CreateBucket", "POST", endpoint::create_bucket, true},
    route_entry{"UpdateBucket", "POST", endpoint::update_bucket, true},
    route_entry{"DeleteBucket", "POST", endpoint::delete_bucket, false},
    route_entry{"AllowBucketKey", "POST", endpoint::allow_bucket_key, true},
    route_entry{"DenyBucketKey", "POST", endpoint::deny_bucket_key, true},
    route_entry{"AddBucketAlias", "POST", endpoint::add_bucket_alias, true},
    route_entry{"RemoveBucketAlias", "POST", endpoint::remove_bucket_alias, true},
    route_entry{"GetClusterLayout", "GET", endpoint::get_cluster_layout, false},
    route_entry{"GetClusterLayoutHistory", "GET", endpoint::get_cluster_layout_history, false},
    route_entry{"UpdateClusterLayout", "POST", endpoint::update_cluster_layout, true},
    route_entry{"PreviewClusterLayoutChanges", "POST", endpoint::preview_cluster_layout_changes,
                false},
    route_entry{"ApplyClusterLayout", "POST", endpoint::apply_cluster_layout, true},
    route_entry{"RevertClusterLayout", "POST", endpoint::revert_cluster_layout, false},
    route_entry{"ClusterLayoutSkipDeadNodes", "POST", endpoint::cluster_layout_skip_dead_nodes,
                true},
    route_entry{"ConnectClusterNodes", "POST", endpoint::connect_cluster_nodes, true},
    route_entry{"ListWorkers", "POST", endpoint::list_workers, true},
    route_entry{"GetWorkerInfo", "POST", endpoint::get_worker_info, true},
    route_entry{"GetWorkerVariable", "POST", endpoint::get_worker_variable, true},
    route_entry{"SetWorkerVariable", "POST", endpoint::set_worker_variable, true},
};

// Garage v2 endpoints not built here: known, so they answer 501, not 404.
constexpr std::array<std::string_view, 15> kUnimplemented = {
    "GetClusterStatistics",  "ListAdminTokens",
    "GetAdminTokenInfo",     "GetCurrentAdminTokenInfo",
    "CreateAdminToken",      "UpdateAdminToken",
    "DeleteAdminToken",      "CleanupIncompleteUploads",
    "InspectObject",         "CreateMetadataSnapshot",
    "LaunchRepairOperation", "ListBlockErrors",
    "GetBlockInfo",          "RetryBlockResync",
    "PurgeBlocks",
};

api_error method_not_allowed(std::string_view method, std::string_view name,
                             std::string_view allowed) {
  return {405, "MethodNotAllowed",
          std::string(name) + " takes " + std::string(allowed) + ", not " + std::string(method)};
}

// Query parameters, looked up by exact name.
struct query_params {
  std::vector<std::pair<std::string, std::string>> items;
  std::optional<std::string> get(std::string_view name) const {
    for (const auto& [k, v] : items)
      if (k == name) return v;
    return std::nullopt;
  }
};

api_result<std::string> required_param(const query_params& q, std::string_view name) {
  auto v = q.get(name);
  if (!v || v->empty()) return bad_request("missing query parameter '" + std::string(name) + "'");
  return *v;
}

api_result<json> parse_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad_request("the request body is not valid JSON");
  if (!j.is_object()) return bad_request("the request body must be a JSON object");
  return j;
}

// A string field that may be absent or null.
api_result<std::optional<std::string>> opt_string(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return bad_request(std::string("field '") + field + "' must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

api_result<std::string> req_string(const json& j, const char* field) {
  auto v = opt_string(j, field);
  if (!v) return std::move(v).error();
  if (!*v || (*v)->empty()) return bad_request(std::string("missing field '") + field + "'");
  return std::move(**v);
}

api_result<bool> opt_bool(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) return bad_request(std::string("field '") + field + "' must be a boolean");
  return it->get<bool>();
}

// An optional object field; null when absent or null.
api_result<const json*> opt_object(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) return bad_request(std::string("field '") + field + "' must be an object");
  return &*it;
}

api_result<admin_request> parse_update_key(const query_params& q, const json& body) {
  update_key_request r;
  auto id = required_param(q, "id");
  if (!id) return std::move(id).error();
  r.id = std::move(*id);
  auto name = opt_string(body, "name");
  if (!name) return std::move(name).error();
  r.name = std::move(*name);
  bool allow = false, deny = false;
  for (const char* field : {"allow", "deny"}) {
    auto obj = opt_object(body, field);
    if (!obj) return std::move(obj).error();
    if (!*obj) continue;
    auto cb = opt_bool(**obj, "createBucket");
    if (!cb) return std::move(cb).error();
    (field[0] == 'a' ? allow : deny) = *cb;
  }
  if (allow && deny) return bad_request("createBucket cannot be both allowed and denied");
  if (allow) r.allow_create_bucket = true;
  if (deny) r.allow_create_bucket = false;
  for (const char* field : {"expiration", "neverExpires"}) {
    auto it = body.find(field);
    if (it != body.end() && !it->is_null() && !(it->is_boolean() && !it->get<bool>()))
      return not_implemented("key expiration is not supported by this version");
  }
  return admin_request(std::move(r));
}

api_result<admin_request> parse_perm_change(bool allow, const json& body) {
  bucket_key_perm_request r;
  r.allow = allow;
  auto b = req_string(body, "bucketId");
  if (!b) return std::move(b).error();
  auto k = req_string(body, "accessKeyId");
  if (!k) return std::move(k).error();
  auto perms = opt_object(body, "permissions");
  if (!perms) return std::move(perms).error();
  if (!*perms) return bad_request("missing field 'permissions'");
  for (auto [field, flag] : {std::pair{"read", &r.perm.read}, std::pair{"write", &r.perm.write},
                             std::pair{"owner", &r.perm.owner}}) {
    auto v = opt_bool(**perms, field);
    if (!v) return std::move(v).error();
    *flag = *v;
  }
  r.bucket_id = std::move(*b);
  r.access_key_id = std::move(*k);
  return admin_request(std::move(r));
}

api_result<admin_request> parse_alias_change(bool add, const json& body) {
  bucket_alias_request r;
  r.add = add;
  auto b = req_string(body, "bucketId");
  if (!b) return std::move(b).error();
  r.bucket_id = std::move(*b);
  auto local = opt_string(body, "localAlias");
  if (!local) return std::move(local).error();
  auto global = opt_string(body, "globalAlias");
  if (!global) return std::move(global).error();
  if (local->has_value() == global->has_value())
    return bad_request("give exactly one of 'globalAlias' and 'localAlias'");
  if (*local) {
    auto k = req_string(body, "accessKeyId");
    if (!k) return std::move(k).error();
    r.access_key_id = std::move(*k);
    r.global_alias = std::move(**local);
  } else {
    r.global_alias = std::move(**global);
  }
  return admin_request(std::move(r));
}

// UpdateClusterLayout: {roles: [{id, zone, capacity, tags} | {id, remove: true}],
// parameters: {zoneRedundancy: "maximum" | {atLeast: n}}}.
api_result<admin_request> parse_update_layout(const json& body) {
  update_cluster_layout_request r;
  auto roles = body.find("roles");
  if (roles != body.end() && !roles->is_null()) {
    if (!roles->is_array()) return bad_request("field 'roles' must be an array");
    for (const auto& item : *roles) {
      if (!item.is_object()) return bad_request("each item of 'roles' must be an object");
      layout_role_change c;
      auto id = req_string(item, "id");
      if (!id) return std::move(id).error();
      c.id = std::move(*id);
      auto remove = opt_bool(item, "remove");
      if (!remove) return std::move(remove).error();
      c.remove = *remove;
      if (!c.remove) {
        auto zone = req_string(item, "zone");
        if (!zone) return std::move(zone).error();
        c.zone = std::move(*zone);
        auto cap = item.find("capacity");
        if (cap != item.end() && !cap->is_null()) {
          if (!cap->is_number_unsigned())
            return bad_request("field 'capacity' must be a number of bytes or null (gateway)");
          c.capacity = cap->get<uint64_t>();
        }
        auto tags = item.find("tags");
        if (tags != item.end() && !tags->is_null()) {
          if (!tags->is_array()) return bad_request("field 'tags' must be an array of strings");
          for (const auto& t : *tags) {
            if (!t.is_string()) return bad_request("field 'tags' must be an array of strings");
            c.tags.push_back(t.get<std::string>());
          }
        }
      }
      r.roles.push_back(std::move(c));
    }
  }
  auto params = opt_object(body, "parameters");
  if (!params) return std::move(params).error();
  if (*params) {
    auto zr = (*params)->find("zoneRedundancy");
    if (zr == (*params)->end() || zr->is_null())
      return bad_request("missing field 'parameters.zoneRedundancy'");
    if (zr->is_string() && zr->get<std::string>() == "maximum") {
      r.zone_redundancy = 0;
    } else if (zr->is_object() && zr->contains("atLeast") &&
               (*zr)["atLeast"].is_number_unsigned() && (*zr)["atLeast"].get<uint64_t>() > 0 &&
               (*zr)["atLeast"].get<uint64_t>() < 256) {
      r.zone_redundancy = static_cast<uint32_t>((*zr)["atLeast"].get<uint64_t>());
    } else {
      return bad_request("'zoneRedundancy' must be \"maximum\" or {\"atLeast\": n} with n >= 1");
    }
  }
  return admin_request(std::move(r));
}

// The worker endpoints' ?node= (absent: this node).
std::string node_param(const query_params& q) {
  auto n = q.get("node");
  return n && !n->empty() ? *n : std::string("self");
}

// {"id": n} or {"name": "..."}, not both; neither is allowed.
api_result<worker_selector> parse_worker_selector(const json& body) {
  worker_selector w;
  auto id = body.find("id");
  if (id != body.end() && !id->is_null()) {
    if (!id->is_number_unsigned())
      return bad_request("field 'id' must be a worker id (a positive integer)");
    w.id = id->get<uint64_t>();
  }
  auto name = opt_string(body, "name");
  if (!name) return std::move(name).error();
  if (*name) {
    if ((*name)->empty()) return bad_request("field 'name' must not be empty");
    w.name = std::move(**name);
  }
  if (w.id && w.name) return bad_request("give the worker's 'id' or its 'name', not both");
  return w;
}

api_result<admin_request> parse_worker_request(endpoint ep, const query_params& q,
                                               const json& body) {
  if (ep == endpoint::list_workers) {
    list_workers_request r;
    r.node = node_param(q);
    auto busy = opt_bool(body, "busyOnly");
    if (!busy) return std::move(busy).error();
    auto err = opt_bool(body, "errorOnly");
    if (!err) return std::move(err).error();
    r.busy_only = *busy;
    r.error_only = *err;
    return admin_request(std::move(r));
  }
  if (ep == endpoint::get_worker_info) {
    get_worker_info_request r;
    r.node = node_param(q);
    auto id = body.find("id");
    if (id == body.end() || id->is_null()) return bad_request("missing field 'id' (a worker id)");
    if (!id->is_number_unsigned())
      return bad_request("field 'id' must be a worker id (a positive integer)");
    r.id = id->get<uint64_t>();
    return admin_request(std::move(r));
  }
  auto sel = parse_worker_selector(body);
  if (!sel) return std::move(sel).error();
  auto variable = opt_string(body, "variable");
  if (!variable) return std::move(variable).error();
  if (ep == endpoint::get_worker_variable) {
    get_worker_variable_request r;
    r.node = node_param(q);
    r.worker = std::move(*sel);
    r.variable = std::move(*variable);
    return admin_request(std::move(r));
  }
  set_worker_variable_request r;
  r.node = node_param(q);
  r.worker = std::move(*sel);
  if (!*variable || (*variable)->empty()) return bad_request("missing field 'variable'");
  r.variable = std::move(**variable);
  auto value = body.find("value");
  if (value == body.end() || value->is_null()) return bad_request("missing field 'value'");
  if (value->is_string()) {
    r.value = value->get<std::string>();
  } else if (value->is_number_integer()) {
    r.value = value->dump();
  } else {
    return bad_request("field 'value' must be a string");
  }
  return admin_request(std::move(r));
}

}  // namespace

api_result<route> find_route(std::string_view method, std::string_view path) {
  std::string_view name = path;
  bool v2 = path.starts_with(kV2);
  if (v2) name.remove_prefix(kV2.size());
  for (const auto& e : kRoutes) {
    bool special = e.path.starts_with('/');
    if (special ? (path != e.path) : (!v2 || name != e.path)) continue;
    std::string_view op = special ? e.path.substr(1) : e.path;
    if (method != e.method && !(method == "HEAD" && e.method == "GET"))
      return method_not_allowed(method, op, e.method);
    route r;
    r.ep = e.ep;
    r.name = special ? (e.ep == endpoint::health  ? "Health"
                        : e.ep == endpoint::ready ? "Ready"
                                                  : "Metrics")
                     : e.path;
    r.auth = e.ep == endpoint::health || e.ep == endpoint::ready ? auth_kind::none
             : e.ep == endpoint::metrics                         ? auth_kind::metrics_token
                                                                 : auth_kind::admin_token;
    r.reads_body = e.reads_body;
    return r;
  }
  if (v2) {
    for (auto n : kUnimplemented) {
      if (name == n) {
        route r;
        r.ep = endpoint::unimplemented;
        r.name = n;
        return r;
      }
    }
  }
  return no_such_endpoint(path);
}

api_result<admin_request> parse_request(const route& r, std::string_view query,
                                        std::string_view body_text) {
  query_params q{http::parse_query(query)};
  json body = json::object();
  if (r.reads_body && r.ep != endpoint::connect_cluster_nodes) {  // that one is an array
    auto parsed = parse_body(body_text);
    if (!parsed) return std::move(parsed).error();
    body = std::move(*parsed);
  }
  switch (r.ep) {
    case endpoint::health:
    case endpoint::ready:  // answered by the HTTP front end from GetClusterHealth
      return admin_request(health_request{});
    case endpoint::metrics:
      return admin_request(metrics_request{});
    case endpoint::get_cluster_health:
      return admin_request(get_cluster_health_request{});
    case endpoint::get_cluster_status:
      return admin_request(get_cluster_status_request{});
    case endpoint::get_node_info: {
      auto node = required_param(q, "node");
      if (!node) return std::move(node).error();
      return admin_request(get_node_info_request{std::move(*node)});
    }
    case endpoint::get_node_statistics: {
      auto node = required_param(q, "node");
      if (!node) return std::move(node).error();
      get_node_statistics_request req{std::move(*node)};
      if (auto p = q.get("partitions")) {
        if (*p != "true" && *p != "false")
          return bad_request("query parameter 'partitions': true or false");
        req.partitions = *p == "true";
      }
      return admin_request(std::move(req));
    }
    case endpoint::list_keys:
      return admin_request(list_keys_request{});
    case endpoint::get_key_info: {
      get_key_info_request g;
      g.id = q.get("id");
      g.search = q.get("search");
      auto show = q.get("showSecretKey");
      g.show_secret = show && (*show == "true" || *show == "1");
      if (g.id.has_value() == g.search.has_value())
        return bad_request("give exactly one of the query parameters 'id' and 'search'");
      if ((g.id && g.id->empty()) || (g.search && g.search->empty()))
        return bad_request("empty key id or search pattern");
      return admin_request(std::move(g));
    }
    case endpoint::create_key: {
      auto name = opt_string(body, "name");
      if (!name) return std::move(name).error();
      return admin_request(create_key_request{name->value_or("")});
    }
    case endpoint::import_key: {
      import_key_request i;
      auto id = req_string(body, "accessKeyId");
      if (!id) return std::move(id).error();
      auto secret = req_string(body, "secretAccessKey");
      if (!secret) return std::move(secret).error();
      auto name = opt_string(body, "name");
      if (!name) return std::move(name).error();
      i.access_key_id = std::move(*id);
      i.secret_access_key = std::move(*secret);
      i.name = name->value_or("");
      return admin_request(std::move(i));
    }
    case endpoint::update_key:
      return parse_update_key(q, body);
    case endpoint::delete_key: {
      auto id = required_param(q, "id");
      if (!id) return std::move(id).error();
      return admin_request(delete_key_request{std::move(*id)});
    }
    case endpoint::list_buckets:
      return admin_request(list_buckets_request{});
    case endpoint::get_bucket_info: {
      get_bucket_info_request g;
      g.id = q.get("id");
      g.global_alias = q.get("globalAlias");
      g.search = q.get("search");
      int given = g.id.has_value() + g.global_alias.has_value() + g.search.has_value();
      if (given != 1)
        return bad_request(
            "give exactly one of the query parameters 'id', 'globalAlias' and 'search'");
      return admin_request(std::move(g));
    }
    case endpoint::create_bucket: {
      auto global = opt_string(body, "globalAlias");
      if (!global) return std::move(global).error();
      create_bucket_request c;
      c.global_alias = global->value_or("");
      auto local = opt_object(body, "localAlias");
      if (!local) return std::move(local).error();
      if (*local) {
        auto k = req_string(**local, "accessKeyId");
        if (!k) return std::move(k).error();
        auto a = req_string(**local, "alias");
        if (!a) return std::move(a).error();
        auto allow = opt_object(**local, "allow");
        if (!allow) return std::move(allow).error();
        if (*allow) {
          for (auto [field, flag] :
               {std::pair{"read", &c.local_allow.read}, std::pair{"write", &c.local_allow.write},
                std::pair{"owner", &c.local_allow.owner}}) {
            auto v = opt_bool(**allow, field);
            if (!v) return std::move(v).error();
            *flag = *v;
          }
        }
        c.local_key_id = std::move(*k);
        c.local_alias = std::move(*a);
      }
      return admin_request(std::move(c));
    }
    case endpoint::update_bucket: {
      auto id = required_param(q, "id");
      if (!id) return std::move(id).error();
      update_bucket_request u;
      u.id = std::move(*id);
      auto web = opt_object(body, "websiteAccess");
      if (!web) return std::move(web).error();
      if (*web) {
        update_bucket_request::website_change w;
        auto enabled = opt_bool(**web, "enabled");
        if (!enabled) return std::move(enabled).error();
        w.enabled = *enabled;
        auto index = opt_string(**web, "indexDocument");
        if (!index) return std::move(index).error();
        auto error_doc = opt_string(**web, "errorDocument");
        if (!error_doc) return std::move(error_doc).error();
        if (w.enabled) {
          if (!*index || (*index)->empty() || (*index)->find('/') != std::string::npos)
            return bad_request("websiteAccess.indexDocument must be a file name when enabled");
          w.index_document = std::move(**index);
          w.error_document = std::move(*error_doc);
        }
        u.website = std::move(w);
      }
      auto quotas = opt_object(body, "quotas");
      if (!quotas) return std::move(quotas).error();
      if (*quotas) {
        update_bucket_request::quota_change qc;
        for (auto [field, slot] :
             {std::pair{"maxSize", &qc.max_size}, std::pair{"maxObjects", &qc.max_objects}}) {
          auto it = (*quotas)->find(field);
          if (it == (*quotas)->end() || it->is_null()) continue;
          if (!it->is_number_unsigned())
            return bad_request(std::string("field 'quotas.") + field +
                               "' must be a non-negative integer or null");
          *slot = it->get<uint64_t>();
        }
        u.quotas = qc;
      }
      return admin_request(std::move(u));
    }
    case endpoint::delete_bucket: {
      auto id = required_param(q, "id");
      if (!id) return std::move(id).error();
      return admin_request(delete_bucket_request{std::move(*id)});
    }
    case endpoint::allow_bucket_key:
      return parse_perm_change(true, body);
    case endpoint::deny_bucket_key:
      return parse_perm_change(false, body);
    case endpoint::add_bucket_alias:
      return parse_alias_change(true, body);
    case endpoint::remove_bucket_alias:
      return parse_alias_change(false, body);
    case endpoint::get_cluster_layout:
      return admin_request(get_cluster_layout_request{});
    case endpoint::get_cluster_layout_history:
      return admin_request(get_cluster_layout_history_request{});
    case endpoint::update_cluster_layout:
      return parse_update_layout(body);
    case endpoint::preview_cluster_layout_changes:
      return admin_request(preview_cluster_layout_changes_request{});
    case endpoint::apply_cluster_layout: {
      auto it = body.find("version");
      if (it == body.end() || it->is_null())
        return bad_request("missing field 'version' (the new layout version number)");
      if (!it->is_number_unsigned())
        return bad_request("field 'version' must be a non-negative integer");
      return admin_request(apply_cluster_layout_request{it->get<uint64_t>()});
    }
    case endpoint::revert_cluster_layout:
      return admin_request(revert_cluster_layout_request{});
    case endpoint::cluster_layout_skip_dead_nodes: {
      auto it = body.find("version");
      if (it == body.end() || it->is_null())
        return bad_request("missing field 'version' (the current layout version number)");
      if (!it->is_number_unsigned())
        return bad_request("field 'version' must be a non-negative integer");
      auto allow = opt_bool(body, "allowMissingData");
      if (!allow) return std::move(allow).error();
      return admin_request(cluster_layout_skip_dead_nodes_request{it->get<uint64_t>(), *allow});
    }
    case endpoint::connect_cluster_nodes: {
      json list = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
      if (list.is_discarded() || !list.is_array())
        return bad_request("the request body must be a JSON array of \"<node id>@<host:port>\"");
      connect_cluster_nodes_request c;
      for (const auto& item : list) {
        if (!item.is_string())
          return bad_request("each node must be a string <node id>@<host:port>");
        c.nodes.push_back(item.get<std::string>());
      }
      return admin_request(std::move(c));
    }
    case endpoint::list_workers:
    case endpoint::get_worker_info:
    case endpoint::get_worker_variable:
    case endpoint::set_worker_variable:
      return parse_worker_request(r.ep, q, body);
    case endpoint::unimplemented:
      return admin_request(unimplemented_request{std::string(r.name)});
  }
  return internal_error("unhandled endpoint");
}

}  // namespace garage::admin
