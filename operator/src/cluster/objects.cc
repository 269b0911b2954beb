#include "cluster/objects.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

namespace garage::op::cluster {

using nlohmann::json;

namespace {

const char* hex_digits = "0123456789abcdef";

std::string to_hex(const unsigned char* p, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += hex_digits[p[i] >> 4];
    out += hex_digits[p[i] & 15];
  }
  return out;
}

std::string base64(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

json metadata(const std::string& name, const std::string& ns, json labels) {
  return {{"name", name}, {"namespace", ns}, {"labels", std::move(labels)}};
}

json zone_labels(const cluster_spec& c, const zone_spec& z, const std::string& component) {
  json l = common_labels(c, component);
  l[label_zone] = z.name;
  return l;
}

// The labels selecting one zone's pods (the StatefulSet's immutable selector).
json zone_selector(const cluster_spec& c, const zone_spec& z) {
  json l = pod_selector_labels(c);
  l[label_zone] = z.name;
  return l;
}

std::string addr(const std::string& host, int port) { return host + ":" + std::to_string(port); }

// A YAML double-quoted scalar: a JSON string is one.
std::string quoted(const std::string& s) { return json(s).dump(); }

json volume_claim(const cluster_spec& c, const zone_spec& z, const char* name,
                  const std::string& size, const std::string& storage_class) {
  json spec = {{"accessModes", {"ReadWriteOnce"}},
               {"resources", {{"requests", {{"storage", size}}}}}};
  if (!storage_class.empty()) spec["storageClassName"] = storage_class;
  return {{"metadata", {{"name", name}, {"labels", zone_labels(c, z, "node")}}},
          {"spec", std::move(spec)}};
}

json env_value(const char* name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

json env_field(const char* name, const char* path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}};
}

}  // namespace

json common_labels(const cluster_spec& c, const std::string& component) {
  return {{label_name, "garage"},
          {label_instance, c.name},
          {label_component, component},
          {label_managed_by, manager_name}};
}

json pod_selector_labels(const cluster_spec& c) {
  return {{label_name, "garage"}, {label_instance, c.name}, {label_component, "node"}};
}

std::string pod_selector(const cluster_spec& c) {
  return std::string(label_name) + "=garage," + label_instance + "=" + c.name + "," +
         label_component + "=node";
}

std::string secrets_name(const cluster_spec& c) { return c.name + "-secrets"; }

json secrets(const cluster_spec& c, const std::string& ns, const std::string& rpc_secret_hex,
             const std::string& admin_token) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", metadata(secrets_name(c), ns, common_labels(c, "secrets"))},
      {"type", "Opaque"},
      {"data", {{rpc_secret_key, base64(rpc_secret_hex)}, {admin_token_key, base64(admin_token)}}}};
}

std::string random_hex(size_t bytes) {
  std::string buf(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(bytes)) != 1) {
    std::fputs("garage-operator: RAND_bytes failed: no entropy\n", stderr);
    std::abort();
  }
  return to_hex(reinterpret_cast<const unsigned char*>(buf.data()), bytes);
}

std::string stateful_set_name(const cluster_spec& c, const zone_spec& z) {
  return c.name + "-" + z.name;
}

std::string config_map_name(const cluster_spec& c, const zone_spec& z) {
  return stateful_set_name(c, z) + "-config";
}

std::vector<std::string> node_names(const cluster_spec& c, const zone_spec& z, int replicas) {
  std::vector<std::string> out;
  for (int i = 0; i < replicas; ++i)
    out.push_back(stateful_set_name(c, z) + "-" + std::to_string(i));
  return out;
}

std::string node_config(const cluster_spec& c, const std::string& public_addr) {
  std::ostringstream o;
  o << "# Written by garage-operator for GarageCluster " << c.ns << "/" << c.name
    << ". Listeners are rebound on the pod IP by GARAGE_*_BIND_ADDR; the RPC secret and\n"
       "# admin token come from GARAGE_RPC_SECRET_FILE and GARAGE_ADMIN_TOKEN_FILE.\n";
  o << "metadata_dir: " << meta_dir << "\n";
  o << "data_dir: " << data_dir << "\n";
  o << "replication_factor: " << c.replication_factor << "\n";
  o << "consistency_mode: " << c.consistency_mode << "\n";
  o << "rpc_bind_addr: " << addr("0.0.0.0", c.rpc_port) << "\n";
  if (!public_addr.empty()) o << "rpc_public_addr: " << quoted(public_addr) << "\n";
  o << "s3_api:\n";
  o << "  api_bind_addr: " << addr("0.0.0.0", c.s3_port) << "\n";
  o << "  s3_region: " << quoted(c.region) << "\n";
  if (!c.s3_root_domain.empty()) o << "  root_domain: " << quoted(c.s3_root_domain) << "\n";
  if (c.web_enabled) {
    o << "s3_web:\n";
    o << "  bind_addr: " << addr("0.0.0.0", c.web_port) << "\n";
    o << "  root_domain: " << quoted(c.web_root_domain) << "\n";
  }
  o << "admin:\n";
  o << "  api_bind_addr: " << addr("0.0.0.0", c.admin_port) << "\n";
  return o.str();
}

json config_map(const cluster_spec& c, const zone_spec& z, int replicas,
                const std::map<std::string, std::string>& public_addrs) {
  json data = json::object();
  for (const auto& pod : node_names(c, z, replicas)) {
    auto it = public_addrs.find(pod);
    data[pod + ".yaml"] = node_config(c, it == public_addrs.end() ? std::string() : it->second);
  }
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", metadata(config_map_name(c, z), z.ns, zone_labels(c, z, "config"))},
          {"data", std::move(data)}};
}

json config_map(const cluster_spec& c, const zone_spec& z,
                const std::map<std::string, std::string>& public_addrs) {
  return config_map(c, z, z.nodes, public_addrs);
}

std::string config_hash(const json& cm) {
  // The distinct files once each pod's own line is gone (normally one).
  std::set<std::string> shared;
  if (cm.contains("data") && cm["data"].is_object()) {
    for (const auto& [key, value] : cm["data"].items()) {
      if (!value.is_string()) continue;
      std::istringstream in(value.get<std::string>());
      std::string line, kept;
      while (std::getline(in, line))
        if (line.rfind("rpc_public_addr:", 0) != 0) kept += line + "\n";
      shared.insert(kept);
    }
  }
  std::string all;
  for (const auto& s : shared) all += s + '\0';
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(all.data(), all.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(md, 8);
}

json stateful_set(const cluster_spec& c, const zone_spec& z, int replicas,
                  const std::string& config_hash, int partition) {
  std::string name = stateful_set_name(c, z);
  json labels = zone_labels(c, z, "node");

  json rpc_port = {{"name", "rpc"}, {"containerPort", c.rpc_port}, {"protocol", "TCP"}};
  if (c.exposure_type == "HostPort") rpc_port["hostPort"] = c.rpc_port;
  json ports =
      json::array({rpc_port,
                   {{"name", "s3"}, {"containerPort", c.s3_port}, {"protocol", "TCP"}},
                   {{"name", "admin"}, {"containerPort", c.admin_port}, {"protocol", "TCP"}}});
  if (c.web_enabled)
    ports.push_back({{"name", "web"}, {"containerPort", c.web_port}, {"protocol", "TCP"}});

  json env = json::array({
      env_field("POD_NAME", "metadata.name"),
      env_field("POD_IP", "status.podIP"),
      env_value("GARAGE_RPC_BIND_ADDR", addr("$(POD_IP)", c.rpc_port)),
      env_value("GARAGE_S3_API_BIND_ADDR", addr("$(POD_IP)", c.s3_port)),
      env_value("GARAGE_ADMIN_API_BIND_ADDR", addr("$(POD_IP)", c.admin_port)),
  });
  if (c.web_enabled)
    env.push_back(env_value("GARAGE_S3_WEB_BIND_ADDR", addr("$(POD_IP)", c.web_port)));
  env.push_back(
      env_value("GARAGE_RPC_SECRET_FILE", std::string(secrets_dir) + "/" + rpc_secret_key));
  env.push_back(
      env_value("GARAGE_ADMIN_TOKEN_FILE", std::string(secrets_dir) + "/" + admin_token_key));

  json container = {
      {"name", "garage"},
      {"image", c.image},
      {"imagePullPolicy", c.image_pull_policy},
      {"command", {"/garage"}},
      {"args", {"server", "--config", std::string(config_dir) + "/$(POD_NAME).yaml"}},
      {"ports", std::move(ports)},
      {"env", std::move(env)},
      {"volumeMounts",
       {{{"name", "config"}, {"mountPath", config_dir}, {"readOnly", true}},
        {{"name", "secrets"}, {"mountPath", secrets_dir}, {"readOnly", true}},
        {{"name", "meta"}, {"mountPath", meta_dir}},
        {{"name", "data"}, {"mountPath", data_dir}}}},
      // /health answers 200 once the node serves its APIs (docs/admin-api.md).
      // Ready = can serve S3 requests: connected, with a layout whose every
      // partition has a write quorum (GET /ready); alive = answers at all.
      {"readinessProbe",
       {{"httpGet", {{"path", "/ready"}, {"port", "admin"}}},
        {"periodSeconds", 3},
        {"timeoutSeconds", 2},
        {"failureThreshold", 3}}},
      {"livenessProbe",
       {{"httpGet", {{"path", "/health"}, {"port", "admin"}}},
        {"initialDelaySeconds", 10},
        {"periodSeconds", 10},
        {"timeoutSeconds", 5},
        {"failureThreshold", 6}}},
  };
  if (c.resources.is_object() && !c.resources.empty()) container["resources"] = c.resources;

  json pod_spec = {
      {"containers", {std::move(container)}},
      {"terminationGracePeriodSeconds", 30},
      {"enableServiceLinks", false},
      {"volumes",
       {{{"name", "config"}, {"configMap", {{"name", config_map_name(c, z)}}}},
        {{"name", "secrets"},
         {"secret", {{"secretName", secrets_name(c)}, {"defaultMode", 0400}}}}}},
  };
  if (!c.image_pull_secrets.empty()) pod_spec["imagePullSecrets"] = c.image_pull_secrets;
  for (const char* k : {"nodeSelector", "tolerations", "topologySpreadConstraints", "affinity"})
    if (z.scheduling.is_object() && z.scheduling.contains(k)) pod_spec[k] = z.scheduling[k];

  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", metadata(name, z.ns, labels)},
          {"spec",
           {{"replicas", replicas},
            {"serviceName", name},
            {"podManagementPolicy", "Parallel"},
            {"updateStrategy",
             {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", partition}}}}},
            {"persistentVolumeClaimRetentionPolicy",
             {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
            {"selector", {{"matchLabels", zone_selector(c, z)}}},
            {"template",
             {{"metadata",
               {{"labels", labels}, {"annotations", {{annotation_config_hash, config_hash}}}}},
              {"spec", std::move(pod_spec)}}},
            {"volumeClaimTemplates",
             {volume_claim(c, z, "meta", z.meta_size, z.meta_class),
              volume_claim(c, z, "data", z.data_size, z.data_class)}}}}};
}

json headless_service(const cluster_spec& c, const zone_spec& z) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", metadata(stateful_set_name(c, z), z.ns, zone_labels(c, z, "node"))},
      {"spec",
       {{"clusterIP", "None"},
        {"publishNotReadyAddresses", true},
        {"selector", zone_selector(c, z)},
        {"ports",
         {{{"name", "rpc"}, {"port", c.rpc_port}, {"targetPort", "rpc"}, {"protocol", "TCP"}}}}}}};
}

json api_service(const cluster_spec& c, const std::string& ns) {
  json ports = json::array(
      {{{"name", "s3"}, {"port", c.s3_port}, {"targetPort", "s3"}, {"protocol", "TCP"}},
       {{"name", "admin"}, {"port", c.admin_port}, {"targetPort", "admin"}, {"protocol", "TCP"}}});
  if (c.web_enabled)
    ports.push_back(
        {{"name", "web"}, {"port", c.web_port}, {"targetPort", "web"}, {"protocol", "TCP"}});
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", metadata(c.name, ns, common_labels(c, "api"))},
      {"spec",
       {{"type", "ClusterIP"}, {"selector", pod_selector_labels(c)}, {"ports", std::move(ports)}}}};
}

json node_service(const cluster_spec& c, const zone_spec& z, int ordinal) {
  std::string pod = stateful_set_name(c, z) + "-" + std::to_string(ordinal);
  json meta = metadata(pod, z.ns, zone_labels(c, z, "node"));
  json spec = {
      {"publishNotReadyAddresses", true},
      {"selector",
       {{label_name, "garage"},
        {label_instance, c.name},
        {"statefulset.kubernetes.io/pod-name", pod}}},
      {"ports",
       {{{"name", "rpc"}, {"port", c.rpc_port}, {"targetPort", "rpc"}, {"protocol", "TCP"}},
        {{"name", "admin"},
         {"port", c.admin_port},
         {"targetPort", "admin"},
         {"protocol", "TCP"}}}}};
  if (c.exposure_type == "LoadBalancer") {
    spec["type"] = "LoadBalancer";
    if (!c.lb_class.empty()) spec["loadBalancerClass"] = c.lb_class;
  } else {
    spec["type"] = "NodePort";
  }
  if (c.service_annotations.is_object() && !c.service_annotations.empty())
    meta["annotations"] = c.service_annotations;
  return {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", std::move(meta)}, {"spec", spec}};
}

json pod_disruption_budget(const cluster_spec& c, const std::string& ns, int max_unavailable) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", metadata(c.name, ns, common_labels(c, "disruption-budget"))},
          {"spec",
           {{"maxUnavailable", max_unavailable < 1 ? 1 : max_unavailable},
            {"selector", {{"matchLabels", pod_selector_labels(c)}}}}}};
}

}  // namespace garage::op::cluster
