#include "k8s/resource.h"

#include <gtest/gtest.h>

namespace garage::k8s {
namespace {

TEST(resource, core_group_paths_use_api_v1) {
  auto s = kinds::secret();
  EXPECT_EQ(s.api_version(), "v1");
  EXPECT_EQ(collection_path(s, "ns"), "/api/v1/namespaces/ns/secrets");
  EXPECT_EQ(collection_path(s, ""), "/api/v1/secrets");  // every namespace
  EXPECT_EQ(object_path(s, "ns", "creds"), "/api/v1/namespaces/ns/secrets/creds");
}

TEST(resource, named_group_paths_and_subresources) {
  auto gcl = kinds::garage_cluster();
  EXPECT_EQ(gcl.api_version(), "objectstore.garage-cpp.dev/v1alpha1");
  EXPECT_EQ(
      object_path(gcl, "storage", "geo", "status"),
      "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/storage/garageclusters/geo/status");
  EXPECT_EQ(
      object_path(gcl, "storage", "geo", "scale"),
      "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/storage/garageclusters/geo/scale");
  EXPECT_EQ(object_path(kinds::stateful_set(), "a", "b"),
            "/apis/apps/v1/namespaces/a/statefulsets/b");
  EXPECT_EQ(object_path(kinds::lease(), "a", "leader"),
            "/apis/coordination.k8s.io/v1/namespaces/a/leases/leader");
}

TEST(resource, cluster_scoped_kinds_ignore_the_namespace) {
  EXPECT_EQ(object_path(kinds::namespace_kind(), "ignored", "storage"),
            "/api/v1/namespaces/storage");
  resource_kind crd{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
  EXPECT_EQ(object_path(crd, "", "garageclusters.objectstore.garage-cpp.dev"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
            "garageclusters.objectstore.garage-cpp.dev");
}

TEST(resource, names_and_queries_are_encoded) {
  EXPECT_EQ(object_path(kinds::secret(), "n s", "a/b"), "/api/v1/namespaces/n%20s/secrets/a%2Fb");
  EXPECT_EQ(url_encode("app=garage,tier in (a,b)"), "app%3Dgarage%2Ctier%20in%20%28a%2Cb%29");
  EXPECT_EQ(url_encode("-_.~AZaz09"), "-_.~AZaz09");
  EXPECT_EQ(query_string({{"a", "1"}, {"skip", ""}, {"b", "x y"}}), "?a=1&b=x%20y");
  EXPECT_EQ(query_string({{"skip", ""}}), "");
}

}  // namespace
}  // namespace garage::k8s
