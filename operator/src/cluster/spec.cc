#include "cluster/spec.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace garage::op::cluster {

using nlohmann::json;

namespace {

error bad(const std::string& field, const std::string& why) {
  return error(errc::invalid_argument, field + ": " + why);
}

// A field of `obj` that may be absent (or null): its default then.
const json* field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

result<json> object_at(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (!v) return json::object();
  if (!v->is_object()) return bad(path, "expected an object");
  return *v;
}

result<std::string> string_at(const json& obj, const char* key, const std::string& path,
                              const std::string& dflt) {
  const json* v = field(obj, key);
  if (!v) return dflt;
  if (!v->is_string()) return bad(path, "expected a string");
  return v->get<std::string>();
}

result<std::optional<int>> opt_int_at(const json& obj, const char* key, const std::string& path,
                                      int lo, int hi) {
  const json* v = field(obj, key);
  if (!v) return std::optional<int>();
  if (!v->is_number_integer()) return bad(path, "expected an integer");
  auto n = v->get<int64_t>();
  if (n < lo || n > hi)
    return bad(path, std::to_string(n) + " is out of range " + std::to_string(lo) + ".." +
                         std::to_string(hi));
  return std::optional<int>(static_cast<int>(n));
}

result<int> int_at(const json& obj, const char* key, const std::string& path, int lo, int hi,
                   int dflt) {
  GARAGE_ASSIGN_OR_RETURN(auto v, opt_int_at(obj, key, path, lo, hi));
  return v.value_or(dflt);
}

result<std::string> enum_at(const json& obj, const char* key, const std::string& path,
                            const std::vector<std::string>& allowed) {
  GARAGE_ASSIGN_OR_RETURN(auto v, string_at(obj, key, path, allowed.front()));
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return bad(path, "\"" + v + "\" is not one of " + list);
  }
  return v;
}

bool dns_label(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

result<void> check_map_of_strings(const json& v, const std::string& path) {
  if (!v.is_object()) return bad(path, "expected an object");
  for (auto it = v.begin(); it != v.end(); ++it)
    if (!it->is_string()) return bad(path + "." + it.key(), "expected a string");
  return ok();
}

result<json> parse_scheduling(const json& zone, const std::string& path) {
  GARAGE_ASSIGN_OR_RETURN(json s, object_at(zone, "scheduling", path));
  json out = json::object();
  if (const json* v = field(s, "nodeSelector")) {
    GARAGE_TRY(check_map_of_strings(*v, path + ".nodeSelector"));
    out["nodeSelector"] = *v;
  }
  for (const char* list : {"tolerations", "topologySpreadConstraints"}) {
    if (const json* v = field(s, list)) {
      if (!v->is_array()) return bad(path + "." + list, "expected a list");
      for (const auto& item : *v)
        if (!item.is_object()) return bad(path + "." + list, "expected a list of objects");
      out[list] = *v;
    }
  }
  if (const json* v = field(s, "affinity")) {
    if (!v->is_object()) return bad(path + ".affinity", "expected an object");
    out["affinity"] = *v;
  }
  return out;
}

struct volume {
  std::string size, storage_class;
  uint64_t bytes = 0;
};

result<volume> parse_volume(const json& storage, const char* key, const std::string& path,
                            const char* dflt) {
  GARAGE_ASSIGN_OR_RETURN(json v, object_at(storage, key, path));
  volume out;
  GARAGE_ASSIGN_OR_RETURN(out.size, string_at(v, "size", path + ".size", dflt));
  auto bytes = quantity_bytes(out.size);
  if (!bytes) return bad(path + ".size", bytes.error().message);
  if (*bytes == 0) return bad(path + ".size", "must be more than 0");
  out.bytes = *bytes;
  GARAGE_ASSIGN_OR_RETURN(out.storage_class,
                          string_at(v, "storageClassName", path + ".storageClassName", ""));
  return out;
}

result<zone_spec> parse_zone(const json& z, const std::string& path, const std::string& home_ns,
                             int nodes_per_zone) {
  if (!z.is_object()) return bad(path, "expected an object");
  zone_spec out;
  GARAGE_ASSIGN_OR_RETURN(out.name, string_at(z, "name", path + ".name", ""));
  if (!dns_label(out.name, 21))
    return bad(path + ".name", "\"" + out.name +
                                   "\" is not a DNS label of at most 21 characters "
                                   "([a-z0-9-], starting and ending alphanumeric)");
  GARAGE_ASSIGN_OR_RETURN(json site, object_at(z, "site", path + ".site"));
  if (field(site, "kubeconfigSecretRef")) {
    GARAGE_ASSIGN_OR_RETURN(
        json ref, object_at(site, "kubeconfigSecretRef", path + ".site.kubeconfigSecretRef"));
    GARAGE_ASSIGN_OR_RETURN(out.site_secret,
                            string_at(ref, "name", path + ".site.kubeconfigSecretRef.name", ""));
    if (out.site_secret.empty()) return bad(path + ".site.kubeconfigSecretRef.name", "required");
    GARAGE_ASSIGN_OR_RETURN(
        out.site_secret_key,
        string_at(ref, "key", path + ".site.kubeconfigSecretRef.key", "kubeconfig"));
    if (out.site_secret_key.empty()) return bad(path + ".site.kubeconfigSecretRef.key", "empty");
  }
  GARAGE_ASSIGN_OR_RETURN(out.ns, string_at(site, "namespace", path + ".site.namespace", ""));
  if (out.ns.empty()) out.ns = home_ns;
  if (!dns_label(out.ns, 63))
    return bad(path + ".site.namespace", "\"" + out.ns + "\" is not a namespace name");
  GARAGE_ASSIGN_OR_RETURN(out.nodes, int_at(z, "nodes", path + ".nodes", 1, 100, nodes_per_zone));
  GARAGE_ASSIGN_OR_RETURN(json storage, object_at(z, "storage", path + ".storage"));
  GARAGE_ASSIGN_OR_RETURN(auto meta,
                          parse_volume(storage, "metadata", path + ".storage.metadata", "1Gi"));
  GARAGE_ASSIGN_OR_RETURN(auto data, parse_volume(storage, "data", path + ".storage.data", "10Gi"));
  out.meta_size = meta.size;
  out.meta_class = meta.storage_class;
  out.data_size = data.size;
  out.data_class = data.storage_class;
  out.data_bytes = data.bytes;
  GARAGE_ASSIGN_OR_RETURN(out.scheduling, parse_scheduling(z, path + ".scheduling"));
  return out;
}

// spec.secrets.<key>: {name, key}; absent = generated into <cluster>-secrets.
result<void> parse_secret_ref(const json& secrets, const char* key, const std::string& dflt_key,
                              const std::string& generated, std::string& name, std::string& k,
                              bool& given) {
  std::string path = std::string("spec.secrets.") + key;
  name = generated;
  k = dflt_key;
  given = false;
  if (!field(secrets, key)) return ok();
  GARAGE_ASSIGN_OR_RETURN(json ref, object_at(secrets, key, path));
  GARAGE_ASSIGN_OR_RETURN(name, string_at(ref, "name", path + ".name", ""));
  if (name.empty()) return bad(path + ".name", "required");
  GARAGE_ASSIGN_OR_RETURN(k, string_at(ref, "key", path + ".key", dflt_key));
  if (k.empty()) k = dflt_key;
  given = true;
  return ok();
}

}  // namespace

result<uint64_t> quantity_bytes(std::string_view q) {
  auto fail = [&] {
    return error(errc::invalid_argument, "\"" + std::string(q) + "\" is not a quantity");
  };
  if (q.empty()) return fail();
  size_t i = 0;
  if (q[0] == '+') ++i;
  std::string mantissa;
  bool digits = false, dot = false;
  for (; i < q.size(); ++i) {
    char c = q[i];
    if (c >= '0' && c <= '9') {
      digits = true;
      mantissa += c;
    } else if (c == '.' && !dot) {
      dot = true;
      mantissa += c;
    } else {
      break;
    }
  }
  if (!digits) return fail();
  std::string_view suffix = q.substr(i);
  long double mult = 1;
  static const std::pair<std::string_view, long double> suffixes[] = {
      {"", 1},         {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L}, {"Ti", 0x1p40L},
      {"Pi", 0x1p50L}, {"Ei", 0x1p60L}, {"m", 1e-3L},       {"k", 1e3L},           {"M", 1e6L},
      {"G", 1e9L},     {"T", 1e12L},    {"P", 1e15L},       {"E", 1e18L}};
  bool found = false;
  for (const auto& [s, m] : suffixes) {
    if (suffix == s) {
      mult = m;
      found = true;
      break;
    }
  }
  if (!found) {
    // Decimal exponent: 1e9, 5E3.
    if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {
      std::string_view e = suffix.substr(1);
      bool neg = false;
      if (e[0] == '+' || e[0] == '-') {
        neg = e[0] == '-';
        e = e.substr(1);
      }
      if (e.empty() || e.size() > 3 ||
          !std::all_of(e.begin(), e.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail();
      int exp = std::stoi(std::string(e));
      mult = std::pow(10.0L, neg ? -exp : exp);
    } else {
      return fail();
    }
  }
  long double v = std::stold(mantissa) * mult;
  if (v >= 0x1p63L) return error(errc::invalid_argument, "\"" + std::string(q) + "\" is too large");
  long double whole = std::round(v);
  if (std::fabs(v - whole) > 1e-6L * std::max<long double>(1, v))
    return error(errc::invalid_argument,
                 "\"" + std::string(q) + "\" is not a whole number of bytes");
  return static_cast<uint64_t>(whole);
}

bool cluster_spec::multi_site() const {
  std::set<std::string> sites;
  for (const auto& z : zones) sites.insert(z.site_secret);
  return sites.size() > 1;
}

const zone_spec* cluster_spec::zone(std::string_view n) const {
  for (const auto& z : zones)
    if (z.name == n) return &z;
  return nullptr;
}

int cluster_spec::total_nodes() const {
  int n = 0;
  for (const auto& z : zones) n += z.nodes;
  return n;
}

result<cluster_spec> parse_cluster(const json& gcl) {
  if (!gcl.is_object()) return bad("GarageCluster", "expected an object");
  cluster_spec c;
  GARAGE_ASSIGN_OR_RETURN(json meta, object_at(gcl, "metadata", "metadata"));
  GARAGE_ASSIGN_OR_RETURN(c.name, string_at(meta, "name", "metadata.name", ""));
  GARAGE_ASSIGN_OR_RETURN(c.ns, string_at(meta, "namespace", "metadata.namespace", "default"));
  GARAGE_ASSIGN_OR_RETURN(c.uid, string_at(meta, "uid", "metadata.uid", ""));
  if (const json* g = field(meta, "generation")) {
    if (!g->is_number_integer()) return bad("metadata.generation", "expected an integer");
    c.generation = g->get<int64_t>();
  }
  // The name prefixes StatefulSets and per-node Services: <name>-<zone>-<ordinal>.
  if (!dns_label(c.name, 30))
    return bad("metadata.name", "\"" + c.name +
                                    "\" must be a DNS label of at most 30 characters (it "
                                    "prefixes StatefulSet and Service names)");
  if (!dns_label(c.ns, 63)) return bad("metadata.namespace", "\"" + c.ns + "\" is not valid");

  const json* specp = field(gcl, "spec");
  if (!specp || !specp->is_object()) return bad("spec", "required (an object)");
  const json& s = *specp;

  GARAGE_ASSIGN_OR_RETURN(c.replication_factor,
                          int_at(s, "replicationFactor", "spec.replicationFactor", 1, 7, 3));
  GARAGE_ASSIGN_OR_RETURN(c.consistency_mode, enum_at(s, "consistencyMode", "spec.consistencyMode",
                                                      {"consistent", "degraded", "dangerous"}));
  if (c.consistency_mode != "consistent" && c.replication_factor == 1)
    return bad("spec.consistencyMode",
               c.consistency_mode + " only makes sense with replicationFactor > 1");
  GARAGE_ASSIGN_OR_RETURN(c.zone_redundancy,
                          opt_int_at(s, "zoneRedundancy", "spec.zoneRedundancy", 1, 7));
  GARAGE_ASSIGN_OR_RETURN(int nodes_per_zone,
                          int_at(s, "nodesPerZone", "spec.nodesPerZone", 1, 100, 1));

  const json* zones = field(s, "zones");
  if (!zones || !zones->is_array() || zones->empty())
    return bad("spec.zones", "required: a list of at least one zone");
  if (zones->size() > 16) return bad("spec.zones", "at most 16 zones");
  std::set<std::string> names;
  for (size_t i = 0; i < zones->size(); ++i) {
    std::string path = "spec.zones[" + std::to_string(i) + "]";
    GARAGE_ASSIGN_OR_RETURN(auto z, parse_zone((*zones)[i], path, c.ns, nodes_per_zone));
    if (!names.insert(z.name).second)
      return bad(path + ".name", "zone \"" + z.name + "\" is listed twice");
    c.zones.push_back(std::move(z));
  }
  if (c.zone_redundancy) {
    if (*c.zone_redundancy > c.replication_factor)
      return bad("spec.zoneRedundancy", "cannot exceed replicationFactor");
    if (*c.zone_redundancy > static_cast<int>(c.zones.size()))
      return bad("spec.zoneRedundancy", "cannot exceed the number of zones");
  }

  GARAGE_ASSIGN_OR_RETURN(c.image,
                          string_at(s, "image", "spec.image", "ghcr.io/garage-cpp/garage:0.1.0"));
  if (c.image.empty()) return bad("spec.image", "empty");
  GARAGE_ASSIGN_OR_RETURN(c.image_pull_policy, enum_at(s, "imagePullPolicy", "spec.imagePullPolicy",
                                                       {"IfNotPresent", "Always", "Never"}));
  c.image_pull_secrets = json::array();
  if (const json* v = field(s, "imagePullSecrets")) {
    if (!v->is_array()) return bad("spec.imagePullSecrets", "expected a list");
    for (const auto& p : *v) {
      if (!p.is_object() || !p.contains("name") || !p["name"].is_string())
        return bad("spec.imagePullSecrets", "each item needs a name");
      c.image_pull_secrets.push_back({{"name", p["name"]}});
    }
  }
  GARAGE_ASSIGN_OR_RETURN(c.resources, object_at(s, "resources", "spec.resources"));

  GARAGE_ASSIGN_OR_RETURN(json s3, object_at(s, "s3Api", "spec.s3Api"));
  GARAGE_ASSIGN_OR_RETURN(c.s3_port, int_at(s3, "port", "spec.s3Api.port", 1, 65535, 3900));
  GARAGE_ASSIGN_OR_RETURN(c.region, string_at(s3, "region", "spec.s3Api.region", "garage"));
  if (c.region.empty()) return bad("spec.s3Api.region", "empty");
  GARAGE_ASSIGN_OR_RETURN(c.s3_root_domain,
                          string_at(s3, "rootDomain", "spec.s3Api.rootDomain", ""));
  GARAGE_ASSIGN_OR_RETURN(json web, object_at(s, "webApi", "spec.webApi"));
  if (const json* e = field(web, "enabled")) {
    if (!e->is_boolean()) return bad("spec.webApi.enabled", "expected a boolean");
    c.web_enabled = e->get<bool>();
  }
  GARAGE_ASSIGN_OR_RETURN(c.web_port, int_at(web, "port", "spec.webApi.port", 1, 65535, 3902));
  GARAGE_ASSIGN_OR_RETURN(c.web_root_domain,
                          string_at(web, "rootDomain", "spec.webApi.rootDomain", ""));
  if (c.web_enabled && c.web_root_domain.empty())
    return bad("spec.webApi.rootDomain", "required when webApi is enabled");
  GARAGE_ASSIGN_OR_RETURN(json adm, object_at(s, "adminApi", "spec.adminApi"));
  GARAGE_ASSIGN_OR_RETURN(c.admin_port, int_at(adm, "port", "spec.adminApi.port", 1, 65535, 3903));
  GARAGE_ASSIGN_OR_RETURN(json net, object_at(s, "network", "spec.network"));
  GARAGE_ASSIGN_OR_RETURN(c.rpc_port,
                          int_at(net, "rpcPort", "spec.network.rpcPort", 1, 65535, 3901));

  // Every port is bound on the same pod address: they must differ.
  std::vector<std::pair<std::string, int>> ports = {{"spec.s3Api.port", c.s3_port},
                                                    {"spec.network.rpcPort", c.rpc_port},
                                                    {"spec.adminApi.port", c.admin_port}};
  if (c.web_enabled) ports.emplace_back("spec.webApi.port", c.web_port);
  for (size_t i = 0; i < ports.size(); ++i)
    for (size_t j = i + 1; j < ports.size(); ++j)
      if (ports[i].second == ports[j].second)
        return bad(ports[j].first, "port " + std::to_string(ports[j].second) + " is also " +
                                       ports[i].first + " (every port of a node must differ)");

  GARAGE_ASSIGN_OR_RETURN(json exp, object_at(net, "exposure", "spec.network.exposure"));
  GARAGE_ASSIGN_OR_RETURN(c.exposure_type, enum_at(exp, "type", "spec.network.exposure.type",
                                                   {"LoadBalancer", "NodePort", "HostPort"}));
  GARAGE_ASSIGN_OR_RETURN(c.node_address_type,
                          enum_at(exp, "nodeAddressType", "spec.network.exposure.nodeAddressType",
                                  {"ExternalIP", "InternalIP"}));
  GARAGE_ASSIGN_OR_RETURN(c.lb_class, string_at(exp, "loadBalancerClass",
                                                "spec.network.exposure.loadBalancerClass", ""));
  GARAGE_ASSIGN_OR_RETURN(
      c.service_annotations,
      object_at(exp, "serviceAnnotations", "spec.network.exposure.serviceAnnotations"));
  GARAGE_TRY(
      check_map_of_strings(c.service_annotations, "spec.network.exposure.serviceAnnotations"));
  GARAGE_ASSIGN_OR_RETURN(c.layout_policy,
                          enum_at(s, "layoutPolicy", "spec.layoutPolicy", {"Auto", "Manual"}));

  GARAGE_ASSIGN_OR_RETURN(json secrets, object_at(s, "secrets", "spec.secrets"));
  std::string generated = c.name + "-secrets";
  GARAGE_TRY(parse_secret_ref(secrets, "rpcSecretRef", "rpc-secret", generated, c.rpc_secret_name,
                              c.rpc_secret_key, c.rpc_secret_given));
  GARAGE_TRY(parse_secret_ref(secrets, "adminTokenRef", "admin-token", generated,
                              c.admin_token_name, c.admin_token_key, c.admin_token_given));
  return c;
}

}  // namespace garage::op::cluster
