#include "runtime/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "runtime/metrics.h"
#include "test_client.h"

namespace garage::op {
namespace {

using namespace testing;
using namespace std::chrono_literals;

json gcl(const std::string& name, const std::string& rv, const std::string& ns = "ns") {
  return {{"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
          {"kind", "GarageCluster"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}}};
}

json list_of(const std::vector<json>& items, const std::string& rv) {
  return {{"kind", "GarageClusterList"},
          {"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
          {"metadata", {{"resourceVersion", rv}}},
          {"items", items}};
}

scripted_response held_watch(std::vector<std::string> chunks = {}) {
  scripted_response s;
  s.chunks = std::move(chunks);
  s.chunk_delay = 10ms;
  s.hold_open = true;
  return s;
}

// What the handlers saw, as "name" or "-name" for a deletion, with its rv.
struct recorder {
  std::mutex mu;
  std::vector<std::string> seen;
  void operator()(const json& obj, bool deleted) {
    std::lock_guard lock(mu);
    seen.push_back((deleted ? "-" : "") + obj["metadata"]["name"].get<std::string>() + "@" +
                   obj["metadata"]["resourceVersion"].get<std::string>());
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mu);
    return seen;
  }
  size_t size() {
    std::lock_guard lock(mu);
    return seen.size();
  }
};

TEST(informer, lists_then_watches_adds_modifies_and_deletes) {
  fake_api_server server([](const recorded_request& r) {
    if (r.param("watch") != "true")
      return json_response(list_of({gcl("a", "5"), gcl("b", "6")}, "10"));
    if (r.param("resourceVersion") == "10")
      return held_watch(
          {watch_line("ADDED", gcl("c", "11")), watch_line("MODIFIED", gcl("a", "12")),
           watch_line("DELETED", gcl("b", "13")),
           watch_line("BOOKMARK",
                      {{"kind", "GarageCluster"}, {"metadata", {{"resourceVersion", "14"}}}})});
    return held_watch();
  });
  metrics m;
  informer inf(make_client(server), k8s::kinds::garage_cluster(), "ns", "app=garage", &m);
  recorder rec;
  inf.on_change(std::ref(rec));
  EXPECT_FALSE(inf.synced());
  std::stop_source stop;
  std::jthread runner([&] { inf.run(stop.get_token()); });
  ASSERT_TRUE(inf.wait_synced(stop.get_token(), 10s));
  ASSERT_TRUE(eventually([&] { return rec.size() >= 5; }));
  EXPECT_EQ(rec.get(), (std::vector<std::string>{"a@5", "b@6", "c@11", "a@12", "-b@13"}));
  auto a = inf.get("ns", "a");
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)["metadata"]["resourceVersion"], "12");
  EXPECT_FALSE(inf.get("ns", "b"));
  EXPECT_EQ(inf.list().size(), 2u);
  EXPECT_EQ(inf.list("ns").size(), 2u);
  EXPECT_EQ(inf.list("elsewhere").size(), 0u);
  EXPECT_EQ(inf.name(), "garageclusters/ns");

  auto start = std::chrono::steady_clock::now();
  stop.request_stop();
  runner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // the held watch is cancelled
  auto reqs = server.requests();
  ASSERT_GE(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters");
  EXPECT_EQ(reqs[0].param("labelSelector"), "app=garage");
  EXPECT_EQ(reqs[1].param("watch"), "true");
  EXPECT_EQ(reqs[1].param("resourceVersion"), "10");
  EXPECT_EQ(reqs[1].param("allowWatchBookmarks"), "true");
  EXPECT_EQ(reqs[1].param("labelSelector"), "app=garage");
}

TEST(informer, gone_lists_again_and_emits_deletions) {
  std::atomic<int> lists{0};
  fake_api_server server([&](const recorded_request& r) {
    if (r.param("watch") != "true") {
      if (++lists == 1) return json_response(list_of({gcl("a", "5"), gcl("b", "6")}, "10"));
      return json_response(list_of({gcl("a", "20"), gcl("c", "19")}, "20"));
    }
    if (r.param("resourceVersion") == "10") {
      scripted_response s;
      s.chunks = {watch_line("ERROR", status_object(410, "Expired", "too old resource version"))};
      return s;
    }
    return held_watch();
  });
  metrics m;
  informer inf(make_client(server), k8s::kinds::garage_cluster(), "", {}, &m);
  recorder rec;
  inf.on_change(std::ref(rec));
  std::stop_source stop;
  std::jthread runner([&] { inf.run(stop.get_token()); });
  ASSERT_TRUE(eventually([&] { return rec.size() >= 5; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rec.get(), (std::vector<std::string>{"a@5", "b@6", "-b@6", "a@20", "c@19"}));
  EXPECT_FALSE(inf.get("ns", "b"));
  EXPECT_TRUE(inf.get("ns", "c"));
  EXPECT_EQ(lists.load(), 2);
  stop.request_stop();
  runner.join();
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].path, "/apis/objectstore.garage-cpp.dev/v1alpha1/garageclusters");  // all ns
  EXPECT_EQ(reqs.back().param("resourceVersion"), "20");  // watching from the new list
  EXPECT_NE(m.text().find("garage_operator_informer_lists_total{informer=\"garageclusters\"} 2"),
            std::string::npos);
}

TEST(informer, other_errors_back_off_and_list_again) {
  std::atomic<int> lists{0}, watches{0};
  fake_api_server server([&](const recorded_request& r) {
    if (r.param("watch") != "true") {
      if (++lists == 1)
        return json_response(status_object(500, "InternalError", "etcd is sad"), 500);
      return json_response(list_of({gcl("a", "5")}, "10"));
    }
    if (++watches == 1) return json_response(status_object(500, "InternalError", "again"), 500);
    return held_watch();
  });
  informer inf(make_client(server), k8s::kinds::garage_cluster(), "ns");
  inf.set_backoff(20ms, 40ms);
  recorder rec;
  inf.on_change(std::ref(rec));
  std::stop_source stop;
  std::jthread runner([&] { inf.run(stop.get_token()); });
  ASSERT_TRUE(eventually([&] { return lists >= 3 && watches >= 2; }));
  EXPECT_TRUE(inf.synced());
  EXPECT_EQ(rec.get(), (std::vector<std::string>{"a@5", "a@5"}));  // each list tells it
  stop.request_stop();
  runner.join();
}

TEST(informer, resync_tells_the_handlers_again) {
  fake_api_server server([&](const recorded_request& r) {
    if (r.param("watch") != "true") return json_response(list_of({gcl("a", "5")}, "10"));
    return held_watch();
  });
  informer inf(make_client(server), k8s::kinds::garage_cluster(), "ns");
  inf.set_resync_period(50ms);
  recorder rec;
  inf.on_change(std::ref(rec));
  std::stop_source stop;
  std::jthread runner([&] { inf.run(stop.get_token()); });
  ASSERT_TRUE(eventually([&] { return rec.size() >= 3; }));
  stop.request_stop();
  runner.join();
  for (const auto& s : rec.get()) EXPECT_EQ(s, "a@5");
  // One list only: a resync is not a relist.
  int lists = 0;
  for (const auto& r : server.requests()) lists += r.param("watch") != "true";
  EXPECT_EQ(lists, 1);
}

}  // namespace
}  // namespace garage::op
