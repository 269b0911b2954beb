#include "cluster/spec.h"

#include <gtest/gtest.h>

namespace garage::op::cluster {
namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({
    "apiVersion": "objectstore.garage-cpp.dev/v1alpha1", "kind": "GarageCluster",
    "metadata": {"name": "geo", "namespace": "storage", "uid": "u-1", "generation": 4},
    "spec": {"zones": [{"name": "par1"}]}})");
}

TEST(ParseCluster, AppliesTheCrdDefaults) {
  auto c = parse_cluster(minimal());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->name, "geo");
  EXPECT_EQ(c->ns, "storage");
  EXPECT_EQ(c->uid, "u-1");
  EXPECT_EQ(c->generation, 4);
  EXPECT_EQ(c->replication_factor, 3);
  EXPECT_EQ(c->consistency_mode, "consistent");
  EXPECT_FALSE(c->zone_redundancy);
  ASSERT_EQ(c->zones.size(), 1u);
  const auto& z = c->zones[0];
  EXPECT_EQ(z.name, "par1");
  EXPECT_EQ(z.site_secret, "");
  EXPECT_EQ(z.site_secret_key, "kubeconfig");
  EXPECT_EQ(z.ns, "storage");
  EXPECT_EQ(z.nodes, 1);
  EXPECT_EQ(z.meta_size, "1Gi");
  EXPECT_EQ(z.data_size, "10Gi");
  EXPECT_EQ(z.data_bytes, 10ull << 30);
  EXPECT_EQ(z.meta_class, "");
  EXPECT_EQ(z.scheduling, json::object());
  EXPECT_EQ(c->image, "ghcr.io/garage-cpp/garage:0.1.0");
  EXPECT_EQ(c->image_pull_policy, "IfNotPresent");
  EXPECT_EQ(c->image_pull_secrets, json::array());
  EXPECT_EQ(c->resources, json::object());
  EXPECT_EQ(c->s3_port, 3900);
  EXPECT_EQ(c->rpc_port, 3901);
  EXPECT_EQ(c->web_port, 3902);
  EXPECT_EQ(c->admin_port, 3903);
  EXPECT_EQ(c->region, "garage");
  EXPECT_FALSE(c->web_enabled);
  EXPECT_EQ(c->exposure_type, "LoadBalancer");
  EXPECT_EQ(c->node_address_type, "ExternalIP");
  EXPECT_EQ(c->lb_class, "");
  EXPECT_EQ(c->layout_policy, "Auto");
  EXPECT_EQ(c->rpc_secret_name, "geo-secrets");
  EXPECT_EQ(c->rpc_secret_key, "rpc-secret");
  EXPECT_FALSE(c->rpc_secret_given);
  EXPECT_EQ(c->admin_token_name, "geo-secrets");
  EXPECT_EQ(c->admin_token_key, "admin-token");
  EXPECT_FALSE(c->multi_site());
  EXPECT_EQ(c->total_nodes(), 1);
}

TEST(ParseCluster, ReadsTheTwoSiteExample) {
  // crds/examples/cluster-two-sites.yaml, as the API server returns it.
  auto gcl = json::parse(R"({
    "metadata": {"name": "geo", "namespace": "storage"},
    "spec": {"replicationFactor": 3, "consistencyMode": "degraded", "nodesPerZone": 2,
      "zoneRedundancy": 2,
      "zones": [
        {"name": "par1", "scheduling": {"nodeSelector": {"topology.kubernetes.io/zone": "a"}}},
        {"name": "par2"},
        {"name": "ams1", "nodes": 3, "site": {"kubeconfigSecretRef": {"name": "site-ams"},
                                              "namespace": "garage-ams"},
         "storage": {"data": {"size": "200Gi", "storageClassName": "fast-ssd"}}}],
      "imagePullSecrets": [{"name": "regcred"}],
      "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
      "s3Api": {"region": "eu-geo", "rootDomain": ".s3.example.com"},
      "webApi": {"enabled": true, "rootDomain": "web.example.com"},
      "network": {"exposure": {"type": "NodePort", "nodeAddressType": "InternalIP",
                               "serviceAnnotations": {"a": "b"}}},
      "layoutPolicy": "Manual",
      "secrets": {"rpcSecretRef": {"name": "mine"}, "adminTokenRef": {"name": "tok", "key": "t"}}}})");
  auto c = parse_cluster(gcl);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->consistency_mode, "degraded");
  EXPECT_EQ(c->zone_redundancy, 2);
  ASSERT_EQ(c->zones.size(), 3u);
  EXPECT_EQ(c->zones[0].nodes, 2);
  EXPECT_EQ(c->zones[0].scheduling["nodeSelector"]["topology.kubernetes.io/zone"], "a");
  EXPECT_EQ(c->zones[2].nodes, 3);
  EXPECT_EQ(c->zones[2].site_secret, "site-ams");
  EXPECT_EQ(c->zones[2].site_secret_key, "kubeconfig");
  EXPECT_EQ(c->zones[2].ns, "garage-ams");
  EXPECT_EQ(c->zones[2].data_class, "fast-ssd");
  EXPECT_EQ(c->zones[2].data_bytes, 200ull << 30);
  EXPECT_EQ(c->zones[1].ns, "storage");
  EXPECT_TRUE(c->multi_site());
  EXPECT_EQ(c->total_nodes(), 7);
  ASSERT_NE(c->zone("ams1"), nullptr);
  EXPECT_EQ(c->zone("nope"), nullptr);
  EXPECT_EQ(c->image_pull_secrets, json::parse(R"([{"name": "regcred"}])"));
  EXPECT_EQ(c->resources["requests"]["cpu"], "500m");
  EXPECT_EQ(c->region, "eu-geo");
  EXPECT_EQ(c->s3_root_domain, ".s3.example.com");
  EXPECT_TRUE(c->web_enabled);
  EXPECT_EQ(c->web_root_domain, "web.example.com");
  EXPECT_EQ(c->exposure_type, "NodePort");
  EXPECT_EQ(c->node_address_type, "InternalIP");
  EXPECT_EQ(c->service_annotations, json::parse(R"({"a": "b"})"));
  EXPECT_EQ(c->layout_policy, "Manual");
  EXPECT_EQ(c->rpc_secret_name, "mine");
  EXPECT_EQ(c->rpc_secret_key, "rpc-secret");
  EXPECT_TRUE(c->rpc_secret_given);
  EXPECT_EQ(c->admin_token_name, "tok");
  EXPECT_EQ(c->admin_token_key, "t");
}

TEST(ParseCluster, MultiSiteMeansTwoDistinctSites) {
  auto gcl = minimal();
  gcl["spec"]["zones"] = json::parse(R"([
    {"name": "a", "site": {"kubeconfigSecretRef": {"name": "s"}}},
    {"name": "b", "site": {"kubeconfigSecretRef": {"name": "s"}, "namespace": "other"}}])");
  auto c = parse_cluster(gcl);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->multi_site());  // one remote site, two namespaces
  gcl["spec"]["zones"][1]["site"] = json::object();
  c = parse_cluster(gcl);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->multi_site());
}

// The message of parse_cluster's error after `edit`, or "" when it parses.
template <class F>
std::string error_after(F edit) {
  auto gcl = minimal();
  edit(gcl);
  auto c = parse_cluster(gcl);
  if (c) return "";
  EXPECT_EQ(c.error().code, errc::invalid_argument);
  return c.error().message;
}

TEST(ParseCluster, RefusesWhatTheSchemaCannotCatch) {
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zones"][0]["storage"]["data"]["size"] = "10Gb";
            }).find("spec.zones[0].storage.data.size: \"10Gb\" is not a quantity"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zones"][0]["storage"]["metadata"]["size"] = "0";
            }).find("spec.zones[0].storage.metadata.size: must be more than 0"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["adminApi"]["port"] = 3900;
            }).find("spec.adminApi.port: port 3900 is also spec.s3Api.port"),
            std::string::npos);
  // The web port only counts when the website endpoint runs.
  EXPECT_EQ(error_after([](json& g) { g["spec"]["webApi"]["port"] = 3900; }), "");
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["webApi"] = {{"enabled", true}, {"port", 3901}, {"rootDomain", "w"}};
            }).find("spec.webApi.port"),
            std::string::npos);
}

TEST(ParseCluster, RepeatsTheCrdRules) {
  EXPECT_NE(error_after([](json& g) {
              g["metadata"]["name"] = std::string(31, 'a');
            }).find("metadata.name"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) { g["spec"].erase("zones"); }).find("spec.zones: required"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) { g["spec"]["zones"] = json::array(); }).find("spec.zones"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zones"].push_back({{"name", "par1"}});
            }).find("listed twice"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zones"][0]["name"] = "Par1";
            }).find("spec.zones[0].name"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zones"][0]["nodes"] = 0;
            }).find("spec.zones[0].nodes: 0 is out of range 1..100"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["replicationFactor"] = 8;
            }).find("spec.replicationFactor"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["replicationFactor"] = 1;
              g["spec"]["consistencyMode"] = "degraded";
            }).find("replicationFactor > 1"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["consistencyMode"] = "eventual";
            }).find("spec.consistencyMode: \"eventual\" is not one of"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zoneRedundancy"] = 2;
            }).find("cannot exceed the number of zones"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["webApi"]["enabled"] = true;
            }).find("spec.webApi.rootDomain: required"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["network"] = {{"exposure", {{"type", "Ingress"}}}};
            }).find("spec.network.exposure.type"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["s3Api"] = {{"port", "3900"}};
            }).find("spec.s3Api.port: expected an integer"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zones"][0]["site"] = {{"kubeconfigSecretRef", json::object()}};
            }).find("spec.zones[0].site.kubeconfigSecretRef.name: required"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) { g.erase("spec"); }).find("spec: required"),
            std::string::npos);
  EXPECT_NE(error_after([](json& g) {
              g["spec"]["zones"][0]["scheduling"] = {{"tolerations", json::object()}};
            }).find("spec.zones[0].scheduling.tolerations: expected a list"),
            std::string::npos);
}

TEST(QuantityBytes, ParsesKubernetesQuantities) {
  EXPECT_EQ(*quantity_bytes("1000"), 1000u);
  EXPECT_EQ(*quantity_bytes("1Ki"), 1024u);
  EXPECT_EQ(*quantity_bytes("1Gi"), 1ull << 30);
  EXPECT_EQ(*quantity_bytes("1.5Gi"), 3ull << 29);
  EXPECT_EQ(*quantity_bytes("500M"), 500000000u);
  EXPECT_EQ(*quantity_bytes("2k"), 2000u);
  EXPECT_EQ(*quantity_bytes("3Ti"), 3ull << 40);
  EXPECT_EQ(*quantity_bytes("1e9"), 1000000000u);
  EXPECT_EQ(*quantity_bytes("4000m"), 4u);
  for (const char* bad :
       {"", "Gi", "10Gb", "10 Gi", "-1Gi", "1.5", "1m", "10GiB", "1e", "9Ei", "1..2", "0x10"})
    EXPECT_FALSE(quantity_bytes(bad)) << bad;
}

}  // namespace
}  // namespace garage::op::cluster
