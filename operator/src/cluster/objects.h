// The Kubernetes objects a GarageCluster becomes, as complete objects for
// server-side apply (apiVersion, kind, metadata, spec). Pure functions of a
// parsed cluster_spec (spec.h), no I/O; thread-safe.
//
// Every object carries the labels
//   app.kubernetes.io/name=garage, app.kubernetes.io/instance=<cluster>,
//   app.kubernetes.io/component=<node|api|secrets|config|disruption-budget>,
//   app.kubernetes.io/managed-by=garage-operator
// and per-zone objects also objectstore.garage-cpp.dev/zone=<zone>. None has
// ownerReferences: the caller adds them where the owner is in the same site
// (objects in another Kubernetes cluster cannot be owned by the
// GarageCluster; the operator deletes those itself).
//
// Per zone, in the zone's namespace of its site:
//   StatefulSet   <cluster>-<zone>           one pod per node, volumes meta + data
//   Service       <cluster>-<zone>           headless (the pods' DNS names)
//   ConfigMap     <cluster>-<zone>-config    one node configuration per pod
//   Service       <cluster>-<zone>-<i>       per node, when the zones span sites
// Per namespace holding zones of the cluster:
//   Secret        <cluster>-secrets          rpc-secret, admin-token
//   Service       <cluster>                  S3, admin (and web) of every pod there
//   PodDisruptionBudget <cluster>
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cluster/spec.h"

namespace garage::op::cluster {

// Label keys and the fixed values.
inline constexpr const char* label_name = "app.kubernetes.io/name";
inline constexpr const char* label_instance = "app.kubernetes.io/instance";
inline constexpr const char* label_component = "app.kubernetes.io/component";
inline constexpr const char* label_managed_by = "app.kubernetes.io/managed-by";
inline constexpr const char* label_zone = "objectstore.garage-cpp.dev/zone";
inline constexpr const char* annotation_config_hash = "objectstore.garage-cpp.dev/config-hash";
inline constexpr const char* manager_name = "garage-operator";

// Where things are inside a node's container.
inline constexpr const char* config_dir = "/etc/garage";
inline constexpr const char* secrets_dir = "/etc/garage-secrets";
inline constexpr const char* meta_dir = "/var/lib/garage/meta";
inline constexpr const char* data_dir = "/var/lib/garage/data";
// Keys of the Secret secrets_name().
inline constexpr const char* rpc_secret_key = "rpc-secret";
inline constexpr const char* admin_token_key = "admin-token";

// The labels of every object of the cluster with that component.
nlohmann::json common_labels(const cluster_spec& c, const std::string& component);

// "<cluster>-secrets": the Secret the pods read the RPC secret and admin
// token from, in every namespace holding a zone.
std::string secrets_name(const cluster_spec& c);
// That Secret in `ns`, with data rpc-secret (64 hex digits) and admin-token.
nlohmann::json secrets(const cluster_spec& c, const std::string& ns,
                       const std::string& rpc_secret_hex, const std::string& admin_token);
// `bytes` random bytes (OpenSSL RAND_bytes) as 2*bytes lower-case hex digits.
// Aborts if the system has no entropy (RAND_bytes failing is not recoverable).
std::string random_hex(size_t bytes);

// "<cluster>-<zone>": the StatefulSet and its headless Service.
std::string stateful_set_name(const cluster_spec& c, const zone_spec& z);
// "<cluster>-<zone>-config".
std::string config_map_name(const cluster_spec& c, const zone_spec& z);
// "<cluster>-<zone>-0" .. "<cluster>-<zone>-<replicas-1>": the pods (and the
// per-node Services).
std::vector<std::string> node_names(const cluster_spec& c, const zone_spec& z, int replicas);

// The zone's ConfigMap: key "<pod>.yaml" for each of node_names(c, z,
// replicas). Each file is a node configuration (docs/configuration.md):
// metadata and data dirs on the volumes, the cluster's replication factor and
// consistency mode, every listener on 0.0.0.0 (the pod's environment rebinds
// each on the pod IP), and rpc_public_addr when `public_addrs` has a
// non-empty value for the pod ("host:port" that nodes of other sites dial;
// without one the node advertises its pod IP). The RPC secret and admin token
// are not in it: the pods read them from secrets_name() through
// GARAGE_RPC_SECRET_FILE and GARAGE_ADMIN_TOKEN_FILE.
nlohmann::json config_map(const cluster_spec& c, const zone_spec& z, int replicas,
                          const std::map<std::string, std::string>& public_addrs);
// The same for z.nodes pods.
nlohmann::json config_map(const cluster_spec& c, const zone_spec& z,
                          const std::map<std::string, std::string>& public_addrs);
// The node configuration file of one pod, as config_map() writes it.
std::string node_config(const cluster_spec& c, const std::string& public_addr);
// A hash (16 hex digits) of the settings the zone's pods share: the files of
// `cm` with each pod's rpc_public_addr line left out, so adding a pod or
// learning a pod's public address does not roll every pod; the caller
// restarts a pod whose own address changed. Put in the pod template
// annotation objectstore.garage-cpp.dev/config-hash, so a change of the
// shared settings rolls the nodes.
std::string config_hash(const nlohmann::json& cm);

// The zone's StatefulSet with `replicas` pods; RollingUpdate replaces pods
// with ordinal >= `partition` only (the caller rolls one at a time by
// lowering it). See the README for the pod's shape.
nlohmann::json stateful_set(const cluster_spec& c, const zone_spec& z, int replicas,
                            const std::string& config_hash, int partition = 0);

// The headless Service "<cluster>-<zone>" of the StatefulSet: RPC port, not-ready
// addresses published (nodes must reach each other before they are Ready).
nlohmann::json headless_service(const cluster_spec& c, const zone_spec& z);

// "<cluster>" in `ns`: S3, admin (and web when enabled) of every pod of the
// cluster in that namespace.
nlohmann::json api_service(const cluster_spec& c, const std::string& ns);

// "<cluster>-<zone>-<ordinal>": how nodes and the operator of other sites
// reach one node (RPC and admin ports), selecting its pod by
// statefulset.kubernetes.io/pod-name. Type LoadBalancer (loadBalancerClass,
// serviceAnnotations) or NodePort per spec.network.exposure.type; with
// HostPort, a NodePort Service too (the RPC port is also the pod's host port;
// the admin API is reached through the node port).
nlohmann::json node_service(const cluster_spec& c, const zone_spec& z, int ordinal);

// "<cluster>" in `ns`, maxUnavailable = `max_unavailable` (the caller passes
// the largest zone's node count in that site: never more than one zone's
// worth of nodes down at once), selecting the cluster's pods there.
nlohmann::json pod_disruption_budget(const cluster_spec& c, const std::string& ns,
                                     int max_unavailable);

// The cluster's pods, as a label selector string (status.selector).
std::string pod_selector(const cluster_spec& c);
// The labels every pod of the cluster has (the selector above as a map).
nlohmann::json pod_selector_labels(const cluster_spec& c);

}  // namespace garage::op::cluster
