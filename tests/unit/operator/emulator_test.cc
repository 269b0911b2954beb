// The client over HTTPS against the Kubernetes API emulator (tests/k8s).
// Skipped unless GARAGE_TEST_KUBECONFIG names the emulator's kubeconfig;
// tests/crds/test_crds_emulator.py starts one (with the CRDs installed and a
// short watch history) and runs these tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "k8s/client.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest_transport.h"
#include "k8s/retry.h"

namespace garage::k8s {
namespace {

constexpr const char* manager = "garage-operator-test";

class emulator : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* path = std::getenv("GARAGE_TEST_KUBECONFIG");
    if (!path) GTEST_SKIP() << "GARAGE_TEST_KUBECONFIG not set";
    auto config = load_kubeconfig({path});
    ASSERT_TRUE(config) << config.error().to_string();
    auto t = make_rest_transport(*config);
    ASSERT_TRUE(t) << t.error().to_string();
    client_.emplace(*t);
  }

  json config_map(const std::string& name, const std::string& value) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", {{"test", "emulator"}}}}},
            {"data", {{"k", value}}}};
  }

  std::optional<client> client_;
};

TEST_F(emulator, apply_get_and_managed_fields) {
  auto& k = *client_;
  auto applied = k.apply(kinds::config_map(), "default", config_map("apply", "1"), {manager, true});
  ASSERT_TRUE(applied) << applied.error().to_string();
  auto got = k.get(kinds::config_map(), "default", "apply");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ((*got)["data"]["k"], "1");
  bool ours = false;
  for (const auto& m : (*got)["metadata"]["managedFields"])
    ours |= m.value("manager", "") == manager && m.value("operation", "") == "Apply";
  EXPECT_TRUE(ours) << got->dump();
  // Another manager's conflicting apply is refused without force.
  auto other =
      k.apply(kinds::config_map(), "default", config_map("apply", "2"), {"someone-else", false});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, 409);
}

TEST_F(emulator, list_then_watch_sees_changes) {
  auto& k = *client_;
  ASSERT_TRUE(k.apply(kinds::config_map(), "default", config_map("watched", "a"), {manager, true}));
  list_options lo;
  lo.label_selector = "test=emulator";
  auto list = k.list(kinds::config_map(), "default", lo);
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_FALSE(list->resource_version.empty());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto r = k.apply(kinds::config_map(), "default", config_map("watched", "b"), {manager, true});
    EXPECT_TRUE(r);
  });
  watch_options wo;
  wo.resource_version = list->resource_version;
  wo.label_selector = lo.label_selector;
  wo.timeout_seconds = 20;
  std::string seen;
  auto end = k.watch(kinds::config_map(), "default", wo, [&](const watch_event& e) {
    if (e.type != watch_event_type::modified) return true;
    seen = e.object["data"]["k"];
    return false;
  });
  writer.join();
  ASSERT_TRUE(end) << end.error().to_string();
  EXPECT_TRUE(end->stopped);
  EXPECT_EQ(seen, "b");
  EXPECT_NE(end->resource_version, list->resource_version);
}

TEST_F(emulator, watch_from_a_compacted_version_is_gone) {
  auto& k = *client_;
  auto first = k.apply(kinds::config_map(), "default", config_map("churn", "0"), {manager, true});
  ASSERT_TRUE(first);
  std::string old_rv = (*first)["metadata"]["resourceVersion"];
  for (int i = 1; i <= 60; ++i)  // more than the emulator's watch history
    ASSERT_TRUE(k.apply(kinds::config_map(), "default", config_map("churn", std::to_string(i)),
                        {manager, true}));
  watch_options wo;
  wo.resource_version = old_rv;
  wo.timeout_seconds = 5;
  auto end = k.watch(kinds::config_map(), "default", wo, [](const watch_event&) { return true; });
  ASSERT_FALSE(end);
  EXPECT_TRUE(end.error().is_gone()) << end.error().to_string();
}

TEST_F(emulator, conflicts_and_retry) {
  auto& k = *client_;
  auto created = k.apply(kinds::config_map(), "default", config_map("rmw", "0"), {manager, true});
  ASSERT_TRUE(created);
  auto stale = *created;
  ASSERT_TRUE(
      k.patch(kinds::config_map(), "default", "rmw", patch_type::merge, {{"data", {{"k", "1"}}}}));
  stale["data"]["k"] = "stale";
  auto refused = k.replace(kinds::config_map(), "default", "rmw", stale);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is_conflict()) << refused.error().to_string();
  auto updated =
      update_with_retry(k, kinds::config_map(), "default", "rmw", [](json& o) -> api_result<bool> {
        o["data"]["k"] = o["data"]["k"].get<std::string>() + "+1";
        return true;
      });
  ASSERT_TRUE(updated) << updated.error().to_string();
  EXPECT_EQ((*updated)["data"]["k"], "1+1");
  delete_options d;
  d.propagation = propagation_policy::background;
  ASSERT_TRUE(k.remove(kinds::config_map(), "default", "rmw", d));
  EXPECT_TRUE(k.get(kinds::config_map(), "default", "rmw").error().is_not_found());
}

TEST_F(emulator, status_subresource_of_a_garage_cluster) {
  auto& k = *client_;
  json gcl = {{"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
              {"kind", "GarageCluster"},
              {"metadata", {{"name", "status-test"}}},
              {"spec", {{"zones", json::array({{{"name", "a"}}})}}}};
  ASSERT_TRUE(k.apply(kinds::garage_cluster(), "default", gcl, {manager, true}));
  json status = {{"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
                 {"kind", "GarageCluster"},
                 {"metadata", {{"name", "status-test"}}},
                 {"status", {{"nodesReady", 2}, {"health", "Degraded"}}}};
  auto applied = k.apply_status(kinds::garage_cluster(), "default", status, {manager, true});
  ASSERT_TRUE(applied) << applied.error().to_string();
  auto got = k.get_status(kinds::garage_cluster(), "default", "status-test");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["status"]["nodesReady"], 2);
  EXPECT_EQ((*got)["spec"]["replicationFactor"], 3);  // defaulted, untouched by the status write
  auto patched = k.patch_status(kinds::garage_cluster(), "default", "status-test",
                                patch_type::merge, {{"status", {{"health", "Healthy"}}}});
  ASSERT_TRUE(patched) << patched.error().to_string();
  EXPECT_EQ((*patched)["status"]["health"], "Healthy");
  // A spec change through the status subresource is ignored.
  auto sneaky = k.patch_status(kinds::garage_cluster(), "default", "status-test", patch_type::merge,
                               {{"spec", {{"nodesPerZone", 9}}}});
  ASSERT_TRUE(sneaky);
  EXPECT_EQ((*k.get(kinds::garage_cluster(), "default", "status-test"))["spec"]["nodesPerZone"], 1);
}

}  // namespace
}  // namespace garage::k8s
