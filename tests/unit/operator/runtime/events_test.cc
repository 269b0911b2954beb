#include "runtime/events.h"

#include <gtest/gtest.h>

#include <atomic>

#include "test_client.h"

namespace garage::op {
namespace {

using namespace testing;
using namespace std::chrono_literals;

json cluster() {
  return {{"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
          {"kind", "GarageCluster"},
          {"metadata",
           {{"name", "geo"}, {"namespace", "ns"}, {"uid", "u-1"}, {"resourceVersion", "42"}}}};
}

TEST(event_recorder, writes_events_and_aggregates_repeats) {
  std::atomic<bool> patch_404{false};
  fake_api_server server([&](const recorded_request& r) {
    if (r.method == "PATCH" && patch_404)
      return json_response(status_object(404, "NotFound", "expired"), 404);
    return json_response(r.body.empty() ? json::object() : json::parse(r.body),
                         r.method == "POST" ? 201 : 200);
  });
  event_recorder rec(make_client(server), "garage-operator", "pod-1");
  rec.normal(cluster(), "ScaledUp", "zone par1: 3 -> 4 nodes");
  rec.normal(cluster(), "ScaledUp", "zone par1: 3 -> 4 nodes");  // the same: aggregated
  rec.normal(cluster(), "ScaledUp", "zone par1: 3 -> 4 nodes");
  rec.warning(cluster(), "LayoutRefused", "not enough zones");  // another
  ASSERT_TRUE(rec.flush());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);

  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/api/v1/namespaces/ns/events");
  auto e = json::parse(reqs[0].body);
  EXPECT_EQ(e["type"], "Normal");
  EXPECT_EQ(e["reason"], "ScaledUp");
  EXPECT_EQ(e["message"], "zone par1: 3 -> 4 nodes");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["metadata"]["namespace"], "ns");
  auto name = e["metadata"]["name"].get<std::string>();
  EXPECT_TRUE(name.starts_with("geo.")) << name;
  EXPECT_EQ(e["involvedObject"], (json{{"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
                                       {"kind", "GarageCluster"},
                                       {"name", "geo"},
                                       {"namespace", "ns"},
                                       {"uid", "u-1"},
                                       {"resourceVersion", "42"}}));
  EXPECT_EQ(e["source"], (json{{"component", "garage-operator"}, {"host", "pod-1"}}));
  EXPECT_EQ(e["firstTimestamp"], e["lastTimestamp"]);
  EXPECT_TRUE(e["firstTimestamp"].get<std::string>().ends_with("Z"));

  EXPECT_EQ(reqs[1].method, "PATCH");
  EXPECT_EQ(reqs[1].path, "/api/v1/namespaces/ns/events/" + name);
  EXPECT_EQ(reqs[1].headers["content-type"], "application/merge-patch+json");
  EXPECT_EQ(json::parse(reqs[1].body)["count"], 2);
  EXPECT_TRUE(json::parse(reqs[1].body).contains("lastTimestamp"));
  EXPECT_EQ(json::parse(reqs[2].body)["count"], 3);

  EXPECT_EQ(reqs[3].method, "POST");
  EXPECT_EQ(json::parse(reqs[3].body)["type"], "Warning");

  // The Event is gone on the server: a new one is written.
  patch_404 = true;
  rec.normal(cluster(), "ScaledUp", "zone par1: 3 -> 4 nodes");
  ASSERT_TRUE(rec.flush());
  reqs = server.requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[4].method, "PATCH");
  EXPECT_EQ(reqs[5].method, "POST");
  EXPECT_EQ(json::parse(reqs[5].body)["count"], 1);
}

TEST(event_recorder, cluster_scoped_objects_and_failures) {
  std::atomic<int> calls{0};
  fake_api_server server([&](const recorded_request&) {
    ++calls;
    return json_response(status_object(403, "Forbidden", "no events for you"), 403);
  });
  event_recorder rec(make_client(server));
  json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}};
  rec.warning(node, "Unreachable", "x");      // fails: logged, not thrown
  rec.normal(json::object(), "NoName", "y");  // no name: not written
  ASSERT_TRUE(rec.flush());
  ASSERT_EQ(calls.load(), 1);
  auto r = server.requests()[0];
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/events");
  auto e = json::parse(r.body);
  EXPECT_FALSE(e["involvedObject"].contains("namespace"));
  EXPECT_EQ(e["source"], (json{{"component", "garage-operator"}}));
}

}  // namespace
}  // namespace garage::op
