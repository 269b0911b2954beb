#include "cluster/objects.h"

#include <gtest/gtest.h>

namespace garage::op::cluster {
namespace {

using nlohmann::json;

cluster_spec parse(const std::string& spec) {
  auto gcl = json::parse(R"({"metadata": {"name": "geo", "namespace": "storage"}})");
  gcl["spec"] = json::parse(spec);
  auto c = parse_cluster(gcl);
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

cluster_spec two_sites() {
  return parse(R"({"nodesPerZone": 2, "zones": [
      {"name": "par1", "scheduling": {"nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "k", "operator": "Exists"}],
        "topologySpreadConstraints": [{"maxSkew": 1}], "affinity": {"podAntiAffinity": {}}},
       "storage": {"metadata": {"storageClassName": "fast"}}},
      {"name": "ams1", "nodes": 3, "site": {"kubeconfigSecretRef": {"name": "site-ams"},
                                            "namespace": "garage"}}],
    "imagePullSecrets": [{"name": "regcred"}], "imagePullPolicy": "Always",
    "resources": {"limits": {"memory": "2Gi"}},
    "webApi": {"enabled": true, "rootDomain": ".web.example.com"},
    "network": {"exposure": {"loadBalancerClass": "lb.example/x",
                             "serviceAnnotations": {"svc/anno": "v"}}}})");
}

void expect_labels(const json& obj, const std::string& component, const std::string& zone = "") {
  const auto& l = obj["metadata"]["labels"];
  EXPECT_EQ(l["app.kubernetes.io/name"], "garage");
  EXPECT_EQ(l["app.kubernetes.io/instance"], "geo");
  EXPECT_EQ(l["app.kubernetes.io/component"], component);
  EXPECT_EQ(l["app.kubernetes.io/managed-by"], "garage-operator");
  if (zone.empty())
    EXPECT_FALSE(l.contains("objectstore.garage-cpp.dev/zone"));
  else
    EXPECT_EQ(l["objectstore.garage-cpp.dev/zone"], zone);
  EXPECT_FALSE(obj["metadata"].contains("ownerReferences"));
}

const json* find_named(const json& list, const std::string& name) {
  for (const auto& item : list)
    if (item.value("name", "") == name) return &item;
  return nullptr;
}

TEST(Objects, Secrets) {
  auto c = two_sites();
  EXPECT_EQ(secrets_name(c), "geo-secrets");
  auto s = secrets(c, "garage", std::string(64, 'a'), "tok");
  EXPECT_EQ(s["apiVersion"], "v1");
  EXPECT_EQ(s["kind"], "Secret");
  EXPECT_EQ(s["metadata"]["name"], "geo-secrets");
  EXPECT_EQ(s["metadata"]["namespace"], "garage");
  expect_labels(s, "secrets");
  EXPECT_EQ(s["data"]["admin-token"], "dG9r");
  EXPECT_EQ(s["data"]["rpc-secret"].get<std::string>().size(), 88u);
  auto r = random_hex(32);
  EXPECT_EQ(r.size(), 64u);
  EXPECT_EQ(r.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(r, random_hex(32));
}

TEST(Objects, NodeNames) {
  auto c = two_sites();
  EXPECT_EQ(node_names(c, c.zones[1], 3),
            (std::vector<std::string>{"geo-ams1-0", "geo-ams1-1", "geo-ams1-2"}));
  EXPECT_TRUE(node_names(c, c.zones[1], 0).empty());
}

TEST(Objects, ConfigMapHasOneFilePerPod) {
  auto c = two_sites();
  auto cm = config_map(c, c.zones[1], {{"geo-ams1-1", "127.0.0.9:3901"}});
  EXPECT_EQ(cm["kind"], "ConfigMap");
  EXPECT_EQ(cm["metadata"]["name"], "geo-ams1-config");
  EXPECT_EQ(cm["metadata"]["namespace"], "garage");
  expect_labels(cm, "config", "ams1");
  ASSERT_EQ(cm["data"].size(), 3u);
  std::string f0 = cm["data"]["geo-ams1-0.yaml"], f1 = cm["data"]["geo-ams1-1.yaml"];
  for (const char* line :
       {"metadata_dir: /var/lib/garage/meta\n", "data_dir: /var/lib/garage/data\n",
        "replication_factor: 3\n", "consistency_mode: consistent\n",
        "rpc_bind_addr: 0.0.0.0:3901\n", "  api_bind_addr: 0.0.0.0:3900\n",
        "  s3_region: \"garage\"\n", "s3_web:\n  bind_addr: 0.0.0.0:3902\n",
        "  root_domain: \".web.example.com\"\n", "admin:\n  api_bind_addr: 0.0.0.0:3903\n"})
    EXPECT_NE(f0.find(line), std::string::npos) << line;
  EXPECT_EQ(f0.find("rpc_public_addr"), std::string::npos);
  EXPECT_NE(f1.find("rpc_public_addr: \"127.0.0.9:3901\"\n"), std::string::npos);
  // secrets never in the file
  EXPECT_EQ(f0.find("rpc_secret"), std::string::npos);
  EXPECT_EQ(f0.find("admin_token"), std::string::npos);
  // an explicit replica count
  EXPECT_EQ(config_map(c, c.zones[1], 5, {})["data"].size(), 5u);
}

TEST(Objects, ConfigHashIgnoresPodCountAndPublicAddresses) {
  auto c = two_sites();
  const auto& z = c.zones[1];
  auto h = config_hash(config_map(c, z, {}));
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h, config_hash(config_map(c, z, 7, {})));
  EXPECT_EQ(h, config_hash(config_map(c, z, {{"geo-ams1-0", "10.0.0.1:3901"}})));
  auto c2 = c;
  c2.region = "other";
  EXPECT_NE(h, config_hash(config_map(c2, c2.zones[1], {})));
  c2 = c;
  c2.consistency_mode = "degraded";
  EXPECT_NE(h, config_hash(config_map(c2, c2.zones[1], {})));
}

TEST(Objects, StatefulSet) {
  auto c = two_sites();
  const auto& z = c.zones[0];
  auto s = stateful_set(c, z, 2, "abc", 1);
  EXPECT_EQ(s["apiVersion"], "apps/v1");
  EXPECT_EQ(s["kind"], "StatefulSet");
  EXPECT_EQ(s["metadata"]["name"], "geo-par1");
  EXPECT_EQ(s["metadata"]["namespace"], "storage");
  expect_labels(s, "node", "par1");
  const auto& spec = s["spec"];
  EXPECT_EQ(spec["replicas"], 2);
  EXPECT_EQ(spec["serviceName"], "geo-par1");
  EXPECT_EQ(spec["podManagementPolicy"], "Parallel");
  EXPECT_EQ(spec["updateStrategy"]["type"], "RollingUpdate");
  EXPECT_EQ(spec["updateStrategy"]["rollingUpdate"]["partition"], 1);
  // the selector matches the template's labels and only this zone
  const auto& sel = spec["selector"]["matchLabels"];
  const auto& tl = spec["template"]["metadata"]["labels"];
  for (auto it = sel.begin(); it != sel.end(); ++it) EXPECT_EQ(tl[it.key()], it.value());
  EXPECT_EQ(sel["objectstore.garage-cpp.dev/zone"], "par1");
  EXPECT_EQ(spec["template"]["metadata"]["annotations"]["objectstore.garage-cpp.dev/config-hash"],
            "abc");

  const auto& vct = spec["volumeClaimTemplates"];
  ASSERT_EQ(vct.size(), 2u);
  EXPECT_EQ(vct[0]["metadata"]["name"], "meta");
  EXPECT_EQ(vct[0]["spec"]["resources"]["requests"]["storage"], "1Gi");
  EXPECT_EQ(vct[0]["spec"]["storageClassName"], "fast");
  EXPECT_EQ(vct[1]["metadata"]["name"], "data");
  EXPECT_EQ(vct[1]["spec"]["resources"]["requests"]["storage"], "10Gi");
  EXPECT_FALSE(vct[1]["spec"].contains("storageClassName"));

  const auto& pod = spec["template"]["spec"];
  EXPECT_EQ(pod["nodeSelector"], json::parse(R"({"disk": "ssd"})"));
  EXPECT_EQ(pod["tolerations"][0]["key"], "k");
  EXPECT_EQ(pod["topologySpreadConstraints"][0]["maxSkew"], 1);
  EXPECT_TRUE(pod["affinity"].contains("podAntiAffinity"));
  EXPECT_EQ(pod["imagePullSecrets"], json::parse(R"([{"name": "regcred"}])"));
  ASSERT_EQ(pod["containers"].size(), 1u);
  const auto& ctr = pod["containers"][0];
  EXPECT_EQ(ctr["name"], "garage");
  EXPECT_EQ(ctr["image"], "ghcr.io/garage-cpp/garage:0.1.0");
  EXPECT_EQ(ctr["imagePullPolicy"], "Always");
  EXPECT_EQ(ctr["command"], json::parse(R"(["/garage"])"));
  EXPECT_EQ(ctr["args"], json::parse(R"(["server", "--config", "/etc/garage/$(POD_NAME).yaml"])"));
  EXPECT_EQ(ctr["resources"]["limits"]["memory"], "2Gi");
  for (auto [name, port] : std::vector<std::pair<std::string, int>>{
           {"rpc", 3901}, {"s3", 3900}, {"admin", 3903}, {"web", 3902}}) {
    const json* p = find_named(ctr["ports"], name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ((*p)["containerPort"], port);
    EXPECT_FALSE(p->contains("hostPort"));
  }
  auto env = [&](const std::string& n) -> json {
    const json* e = find_named(ctr["env"], n);
    return e ? *e : json();
  };
  EXPECT_EQ(env("POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
  EXPECT_EQ(env("POD_IP")["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP");
  EXPECT_EQ(env("GARAGE_RPC_BIND_ADDR")["value"], "$(POD_IP):3901");
  EXPECT_EQ(env("GARAGE_S3_API_BIND_ADDR")["value"], "$(POD_IP):3900");
  EXPECT_EQ(env("GARAGE_ADMIN_API_BIND_ADDR")["value"], "$(POD_IP):3903");
  EXPECT_EQ(env("GARAGE_S3_WEB_BIND_ADDR")["value"], "$(POD_IP):3902");
  EXPECT_EQ(env("GARAGE_RPC_SECRET_FILE")["value"], "/etc/garage-secrets/rpc-secret");
  EXPECT_EQ(env("GARAGE_ADMIN_TOKEN_FILE")["value"], "/etc/garage-secrets/admin-token");
  EXPECT_TRUE(env("GARAGE_RPC_PUBLIC_ADDR").is_null());  // per pod, in the file
  // $(POD_IP) expands only from variables defined before it
  EXPECT_EQ(ctr["env"][1]["name"], "POD_IP");
  EXPECT_EQ(ctr["readinessProbe"]["httpGet"]["path"], "/ready");
  EXPECT_EQ(ctr["livenessProbe"]["httpGet"]["path"], "/health");
  EXPECT_EQ(ctr["readinessProbe"]["httpGet"]["port"], "admin");
  const auto& vols = pod["volumes"];
  EXPECT_EQ((*find_named(vols, "config"))["configMap"]["name"], "geo-par1-config");
  EXPECT_EQ((*find_named(vols, "secrets"))["secret"]["secretName"], "geo-secrets");
  std::map<std::string, std::string> mounts;
  for (const auto& m : ctr["volumeMounts"]) mounts[m["name"]] = m["mountPath"];
  EXPECT_EQ(mounts, (std::map<std::string, std::string>{{"config", "/etc/garage"},
                                                        {"secrets", "/etc/garage-secrets"},
                                                        {"meta", "/var/lib/garage/meta"},
                                                        {"data", "/var/lib/garage/data"}}));
}

TEST(Objects, StatefulSetWithoutOptions) {
  auto c = parse(R"({"zones": [{"name": "z"}], "network": {"exposure": {"type": "HostPort"}}})");
  auto s = stateful_set(c, c.zones[0], 1, "h");
  EXPECT_EQ(s["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
  const auto& pod = s["spec"]["template"]["spec"];
  for (const char* k : {"nodeSelector", "tolerations", "affinity", "imagePullSecrets"})
    EXPECT_FALSE(pod.contains(k)) << k;
  const auto& ctr = pod["containers"][0];
  EXPECT_FALSE(ctr.contains("resources"));
  EXPECT_EQ(find_named(ctr["ports"], "web"), nullptr);
  EXPECT_EQ(find_named(ctr["env"], "GARAGE_S3_WEB_BIND_ADDR"), nullptr);
  EXPECT_EQ((*find_named(ctr["ports"], "rpc"))["hostPort"], 3901);
  EXPECT_FALSE(find_named(ctr["ports"], "admin")->contains("hostPort"));
}

TEST(Objects, Services) {
  auto c = two_sites();
  auto h = headless_service(c, c.zones[1]);
  EXPECT_EQ(h["metadata"]["name"], "geo-ams1");
  EXPECT_EQ(h["metadata"]["namespace"], "garage");
  expect_labels(h, "node", "ams1");
  EXPECT_EQ(h["spec"]["clusterIP"], "None");
  EXPECT_EQ(h["spec"]["publishNotReadyAddresses"], true);
  EXPECT_EQ(h["spec"]["selector"]["objectstore.garage-cpp.dev/zone"], "ams1");
  EXPECT_EQ(h["spec"]["ports"][0]["port"], 3901);

  auto a = api_service(c, "storage");
  EXPECT_EQ(a["metadata"]["name"], "geo");
  expect_labels(a, "api");
  EXPECT_EQ(a["spec"]["selector"], pod_selector_labels(c));
  EXPECT_EQ(a["spec"]["ports"].size(), 3u);
  EXPECT_EQ((*find_named(a["spec"]["ports"], "s3"))["port"], 3900);
  EXPECT_EQ((*find_named(a["spec"]["ports"], "admin"))["port"], 3903);
  EXPECT_EQ((*find_named(a["spec"]["ports"], "web"))["targetPort"], "web");

  auto n = node_service(c, c.zones[1], 2);
  EXPECT_EQ(n["metadata"]["name"], "geo-ams1-2");
  EXPECT_EQ(n["metadata"]["namespace"], "garage");
  expect_labels(n, "node", "ams1");
  EXPECT_EQ(n["metadata"]["annotations"]["svc/anno"], "v");
  EXPECT_EQ(n["spec"]["type"], "LoadBalancer");
  EXPECT_EQ(n["spec"]["loadBalancerClass"], "lb.example/x");
  EXPECT_EQ(n["spec"]["selector"]["statefulset.kubernetes.io/pod-name"], "geo-ams1-2");
  EXPECT_EQ((*find_named(n["spec"]["ports"], "rpc"))["port"], 3901);
  EXPECT_EQ((*find_named(n["spec"]["ports"], "admin"))["port"], 3903);

  auto np = parse(R"({"zones": [{"name": "z"}], "network": {"exposure": {"type": "NodePort"}}})");
  auto ns = node_service(np, np.zones[0], 0);
  EXPECT_EQ(ns["spec"]["type"], "NodePort");
  EXPECT_FALSE(ns["spec"].contains("loadBalancerClass"));
  EXPECT_FALSE(ns["metadata"].contains("annotations"));
}

TEST(Objects, PodDisruptionBudgetAndSelector) {
  auto c = two_sites();
  auto p = pod_disruption_budget(c, "storage", 2);
  EXPECT_EQ(p["apiVersion"], "policy/v1");
  EXPECT_EQ(p["kind"], "PodDisruptionBudget");
  EXPECT_EQ(p["metadata"]["name"], "geo");
  expect_labels(p, "disruption-budget");
  EXPECT_EQ(p["spec"]["maxUnavailable"], 2);
  EXPECT_EQ(p["spec"]["selector"]["matchLabels"], pod_selector_labels(c));
  EXPECT_EQ(pod_selector(c),
            "app.kubernetes.io/name=garage,app.kubernetes.io/instance=geo,"
            "app.kubernetes.io/component=node");
}

}  // namespace
}  // namespace garage::op::cluster
