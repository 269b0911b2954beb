#include "controllers/resource_controllers.h"

#include <chrono>

#include "cluster/objects.h"
#include "cluster/spec.h"
#include "controllers/common.h"
#include "garage/admin_client.h"
#include "garage/sync_bucket.h"
#include "garage/sync_key.h"
#include "util/encoding.h"

namespace garage::op {

namespace {

using namespace std::chrono_literals;

struct cluster_access {
  admin::endpoint admin;
  std::string s3_endpoint;
  std::string region;
};

// The admin endpoint and token of GarageCluster ns/name.
result<cluster_access> access_cluster(const resource_deps& d, const std::string& ns,
                                      const std::string& name) {
  auto gcl = d.clusters.get(ns, name);
  if (!gcl)
    return garage::error(errc::not_found, "GarageCluster " + ns + "/" + name + " not found");
  auto spec = cluster::parse_cluster(*gcl);
  if (!spec)
    return garage::error(errc::unavailable,
                         "GarageCluster " + name + " is invalid: " + spec.error().message);
  json ep = gcl->value("status", json::object()).value("endpoints", json::object());
  std::string admin_url = ep.value("admin", "");
  if (admin_url.empty())
    return garage::error(errc::unavailable, "GarageCluster " + name + " has no admin endpoint yet");
  auto token = spec->admin_token_given
                   ? secret_value(d.site.local(), ns, spec->admin_token_name, spec->admin_token_key)
                   : secret_value(d.site.local(), ns, cluster::secrets_name(*spec), "admin-token");
  if (!token) return std::move(token).error();
  return cluster_access{admin::endpoint{admin_url, *token, d.may_write}, ep.value("s3", ""),
                        spec->region};
}

std::string cluster_of(const json& obj) {
  return obj.value("spec", json::object()).value("clusterRef", json::object()).value("name", "");
}

// Writes the status with the conditions and `extra` fields.
result<void> finish(k8s::client& c, const k8s::resource_kind& kind, const json& obj,
                    conditions& conds, json extra) {
  json st = obj.value("status", json::object());
  for (auto& [k, v] : extra.items()) st[k] = v;
  st["observedGeneration"] = obj["metadata"].value("generation", int64_t{0});
  st["conditions"] = conds.to_json();
  return write_status(c, kind, obj, st);
}

// Sets Ready False with `reason`, says so once in an Event, writes the status.
result<reconcile_result> not_ready(const resource_deps& d, const k8s::resource_kind& kind,
                                   const json& obj, conditions& conds, const std::string& reason,
                                   const std::string& message, std::chrono::milliseconds again) {
  conds.set("Ready", false, reason, message);
  if (conds.changed("Ready")) d.events.warning(obj, reason, message);
  GARAGE_TRY(finish(d.site.local(), kind, obj, conds, json::object()));
  return reconcile_result{again};
}

}  // namespace

result<reconcile_result> bucket_reconciler::reconcile(const std::string& ns,
                                                      const std::string& name) {
  auto cached = d_.buckets.get(ns, name);
  if (!cached) return reconcile_result{};
  const json obj = *cached;
  const auto kind = k8s::kinds::garage_bucket();
  k8s::client& local = d_.site.local();
  conditions conds(obj.value("status", json::object()),
                   obj["metadata"].value("generation", int64_t{0}));
  const json spec = obj.value("spec", json::object());
  const std::string alias = spec.value("globalAlias", "");
  const bool delete_policy = spec.value("deletionPolicy", "Retain") == "Delete";

  if (obj["metadata"].contains("deletionTimestamp")) {
    if (!has_finalizer(obj)) return reconcile_result{};
    if (delete_policy) {
      auto access = access_cluster(d_, ns, cluster_of(obj));
      if (!access)
        return not_ready(d_, kind, obj, conds, "DeletionBlocked",
                         "the bucket cannot be deleted: " + access.error().message, 15s);
      admin::admin_client a(access->admin);
      auto r = admin::delete_bucket(a, alias);
      if (!r)
        return not_ready(d_, kind, obj, conds, "DeletionBlocked",
                         "bucket " + alias + " is not deleted: " + r.error().message, 15s);
      d_.events.normal(obj, "BucketDeleted", "bucket " + alias + " deleted");
    } else {
      d_.events.normal(obj, "BucketRetained",
                       "deletionPolicy Retain: bucket " + alias + " and its objects are kept");
    }
    GARAGE_TRY(remove_finalizer(local, kind, obj));
    return reconcile_result{};
  }
  if (!has_finalizer(obj)) {
    GARAGE_TRY(add_finalizer(local, kind, obj));
    return reconcile_result{std::chrono::milliseconds(1)};
  }

  admin::bucket_spec want;
  want.global_alias = alias;
  const json quotas = spec.value("quotas", json::object());
  if (quotas.contains("maxSize")) {
    std::string q = quotas["maxSize"].is_string() ? quotas["maxSize"].get<std::string>()
                                                  : quotas["maxSize"].dump();
    auto bytes = cluster::quantity_bytes(q);
    if (!bytes)
      return not_ready(d_, kind, obj, conds, "InvalidSpec",
                       "spec.quotas.maxSize: " + bytes.error().message, 0ms);
    want.max_size = *bytes;
  }
  if (quotas.contains("maxObjects")) want.max_objects = quotas["maxObjects"].get<uint64_t>();
  const json web = spec.value("website", json::object());
  want.website = web.value("enabled", false);
  want.index_document = web.value("indexDocument", "index.html");
  want.error_document = web.value("errorDocument", "");

  auto access = access_cluster(d_, ns, cluster_of(obj));
  if (!access)
    return not_ready(d_, kind, obj, conds, "ClusterNotReady", access.error().message, 10s);
  admin::admin_client a(access->admin);
  auto state = admin::ensure_bucket(a, want);
  if (!state) return not_ready(d_, kind, obj, conds, "BucketError", state.error().message, 15s);
  conds.set("Ready", true, "Ready", "bucket " + alias + " exists as specified");
  if (conds.changed("Ready")) d_.events.normal(obj, "BucketReady", "bucket " + alias + " is ready");
  GARAGE_TRY(
      finish(local, kind, obj, conds,
             {{"bucketId", state->id}, {"objects", state->objects}, {"bytes", state->bytes}}));
  return reconcile_result{60s};
}

result<reconcile_result> key_reconciler::reconcile(const std::string& ns, const std::string& name) {
  auto cached = d_.keys.get(ns, name);
  if (!cached) return reconcile_result{};
  const json obj = *cached;
  const auto kind = k8s::kinds::garage_access_key();
  k8s::client& local = d_.site.local();
  conditions conds(obj.value("status", json::object()),
                   obj["metadata"].value("generation", int64_t{0}));
  const json spec = obj.value("spec", json::object());
  const bool delete_policy = spec.value("deletionPolicy", "Retain") == "Delete";
  const std::string existing = obj.value("status", json::object()).value("accessKeyId", "");

  if (obj["metadata"].contains("deletionTimestamp")) {
    if (!has_finalizer(obj)) return reconcile_result{};
    if (delete_policy && !existing.empty()) {
      auto access = access_cluster(d_, ns, cluster_of(obj));
      if (!access)
        return not_ready(d_, kind, obj, conds, "DeletionBlocked",
                         "the key cannot be deleted: " + access.error().message, 15s);
      admin::admin_client a(access->admin);
      auto r = admin::delete_key(a, existing);
      if (!r)
        return not_ready(d_, kind, obj, conds, "DeletionBlocked",
                         "key " + existing + " is not deleted: " + r.error().message, 15s);
      d_.events.normal(obj, "KeyDeleted", "access key " + existing + " deleted");
    }
    GARAGE_TRY(remove_finalizer(local, kind, obj));
    return reconcile_result{};
  }
  if (!has_finalizer(obj)) {
    GARAGE_TRY(add_finalizer(local, kind, obj));
    return reconcile_result{std::chrono::milliseconds(1)};
  }

  admin::key_spec want;
  want.name = spec.value("displayName", ns + "/" + name);
  for (const auto& p : spec.value("permissions", json::array())) {
    std::string bucket = p.value("bucket", "");
    auto b = d_.buckets.get(ns, bucket);
    if (!b)
      return not_ready(d_, kind, obj, conds, "BucketNotFound",
                       "permissions: GarageBucket " + bucket + " not found in namespace " + ns,
                       15s);
    want.permissions.push_back({b->value("spec", json::object()).value("globalAlias", ""),
                                p.value("read", false), p.value("write", false),
                                p.value("owner", false)});
  }
  auto access = access_cluster(d_, ns, cluster_of(obj));
  if (!access)
    return not_ready(d_, kind, obj, conds, "ClusterNotReady", access.error().message, 10s);
  admin::admin_client a(access->admin);
  std::optional<std::string> id;
  if (!existing.empty()) id = existing;
  auto key = admin::ensure_key(a, id, want);
  if (!key) {
    std::string reason = key.error().code == errc::not_found ? "BucketNotFound" : "KeyError";
    return not_ready(d_, kind, obj, conds, reason, key.error().message, 15s);
  }
  if (key->id != existing) {  // remember the id before anything else can fail
    conds.set("Ready", false, "Creating", "key " + key->id + " created; writing its Secret");
    GARAGE_TRY(finish(local, kind, obj, conds, {{"accessKeyId", key->id}}));
    d_.events.normal(obj, "KeyCreated", "access key " + key->id + " created");
  }
  std::string secret_name = spec.value("secretName", name);
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", secret_name},
                   {"namespace", ns},
                   {"labels",
                    {{"app.kubernetes.io/managed-by", "garage-operator"},
                     {"app.kubernetes.io/instance", cluster_of(obj)}}},
                   {"ownerReferences", json::array({owner_reference(obj)})}}},
                 {"type", "Opaque"},
                 {"data",
                  {{"accessKeyId", base64_encode(key->id)},
                   {"secretAccessKey", base64_encode(key->secret)},
                   {"endpoint", base64_encode(access->s3_endpoint)},
                   {"region", base64_encode(access->region)}}}};
  if (auto r = apply(local, k8s::kinds::secret(), secret); !r) return std::move(r).error();
  conds.set("Ready", true, "Ready", "key " + key->id + " in Secret " + secret_name);
  if (conds.changed("Ready"))
    d_.events.normal(obj, "KeyReady", "credentials written to Secret " + secret_name);
  GARAGE_TRY(
      finish(local, kind, obj, conds, {{"accessKeyId", key->id}, {"secretName", secret_name}}));
  return reconcile_result{5min};
}

}  // namespace garage::op
