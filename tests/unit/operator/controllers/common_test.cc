// The reconcilers' shared helpers: conditions keep their transition time
// while their status holds, API errors map to errc, finalizers.
#include "controllers/common.h"

#include <gtest/gtest.h>

namespace garage::op {
namespace {

TEST(conditions, keep_the_transition_time_while_the_status_holds) {
  json old = {{"conditions", json::array({{{"type", "Ready"},
                                           {"status", "True"},
                                           {"reason", "Ready"},
                                           {"message", "ok"},
                                           {"lastTransitionTime", "2020-01-01T00:00:00Z"},
                                           {"observedGeneration", 1}},
                                          {{"type", "Degraded"},
                                           {"status", "False"},
                                           {"reason", "AsExpected"},
                                           {"lastTransitionTime", "2020-01-01T00:00:00Z"}},
                                          {{"type", "Custom"}, {"status", "True"}}})}};
  conditions c(old, 7);
  c.set("Ready", true, "Ready", "still ok");
  c.set("Degraded", true, "SiteUnreachable", "site b");
  c.set("Progressing", false, "Stable", "");
  EXPECT_FALSE(c.changed("Ready"));
  EXPECT_TRUE(c.changed("Degraded"));
  EXPECT_TRUE(c.changed("Progressing"));  // new
  EXPECT_FALSE(c.changed("Custom"));      // not set this round
  json out = c.to_json();
  ASSERT_EQ(out.size(), 4u);  // the three set, and Custom kept
  auto find = [&](const std::string& t) {
    for (const auto& x : out)
      if (x["type"] == t) return x;
    return json();
  };
  EXPECT_EQ(find("Ready")["lastTransitionTime"], "2020-01-01T00:00:00Z");
  EXPECT_EQ(find("Ready")["message"], "still ok");
  EXPECT_EQ(find("Ready")["observedGeneration"], 7);
  EXPECT_NE(find("Degraded")["lastTransitionTime"], "2020-01-01T00:00:00Z");
  EXPECT_EQ(find("Degraded")["status"], "True");
  EXPECT_EQ(find("Progressing")["status"], "False");
  EXPECT_EQ(find("Custom")["status"], "True");
  ASSERT_NE(c.find("Degraded"), nullptr);
  EXPECT_EQ((*c.find("Degraded"))["reason"], "SiteUnreachable");
}

TEST(conditions, an_empty_reason_becomes_unknown_and_a_missing_status_is_fine) {
  conditions c(json(), 1);
  c.set("Ready", std::string("Unknown"), "", "");
  EXPECT_EQ(c.to_json()[0]["reason"], "Unknown");
  EXPECT_EQ(c.to_json()[0]["status"], "Unknown");
}

TEST(from_api, maps_codes) {
  struct c {
    k8s::api_error e;
    errc want;
  } cases[] = {
      {{404, "NotFound", "x not found"}, errc::not_found},
      {{409, "Conflict", "modified"}, errc::conflict},
      {{409, "AlreadyExists", "exists"}, errc::already_exists},
      {{401, "Unauthorized", ""}, errc::unauthenticated},
      {{403, "Forbidden", ""}, errc::permission_denied},
      {{422, "Invalid", "bad"}, errc::invalid_argument},
      {{0, "Unreachable", "refused"}, errc::unavailable},
      {{0, "Timeout", "slow"}, errc::timeout},
      {{503, "ServiceUnavailable", ""}, errc::unavailable},
      {{410, "Expired", ""}, errc::not_found},
  };
  for (const auto& k : cases) {
    auto e = from_api(k.e, "get thing");
    EXPECT_EQ(e.code, k.want) << k.e.code << " " << k.e.reason;
    EXPECT_EQ(e.message.rfind("get thing: ", 0), 0u) << e.message;
  }
  EXPECT_EQ(from_api({0, "Unreachable", ""}, "w").message, "w: Unreachable");
}

TEST(finalizers, has_finalizer_and_owner_reference) {
  json o = {{"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
            {"kind", "GarageCluster"},
            {"metadata", {{"name", "demo"}, {"uid", "u1"}, {"finalizers", {"other", finalizer}}}}};
  EXPECT_TRUE(has_finalizer(o));
  o["metadata"]["finalizers"] = {"other"};
  EXPECT_FALSE(has_finalizer(o));
  EXPECT_FALSE(has_finalizer(json{{"metadata", json::object()}}));
  json ref = owner_reference(o);
  EXPECT_EQ(ref["kind"], "GarageCluster");
  EXPECT_EQ(ref["uid"], "u1");
  EXPECT_EQ(ref["controller"], true);
}

}  // namespace
}  // namespace garage::op
