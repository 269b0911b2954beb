// The client over the real cpprestsdk transport against fake_api_server.h.
#include "k8s/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fake_api_server.h"
#include "k8s/rest_transport.h"
#include "k8s/retry.h"

namespace garage::k8s {
namespace {

using testing::fake_api_server;
using testing::recorded_request;
using testing::scripted_response;
using namespace std::chrono_literals;

client make_client(const fake_api_server& server, std::string token = "tok") {
  cluster_config c;
  c.server = server.url();
  c.token = std::move(token);
  c.source = "test";
  rest_options o;
  o.request_timeout = std::chrono::seconds(5);
  o.stream_idle_timeout = std::chrono::seconds(5);
  auto t = make_rest_transport(c, o);
  EXPECT_TRUE(t) << t.error().to_string();
  return client(*t);
}

scripted_response json_response(const json& j, int status = 200) {
  scripted_response s;
  s.status = status;
  s.body = j.dump();
  return s;
}

json status(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"code", code},     {"reason", reason},   {"message", message}};
}

std::string event(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

json cluster_object(const std::string& name, const std::string& rv) {
  return {{"apiVersion", "objectstore.garage-cpp.dev/v1alpha1"},
          {"kind", "GarageCluster"},
          {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}}};
}

TEST(client, get_sends_auth_and_parses_the_object) {
  fake_api_server server(
      [](const recorded_request&) { return json_response(cluster_object("geo", "5")); });
  auto k = make_client(server);
  auto obj = k.get(kinds::garage_cluster(), "ns", "geo");
  ASSERT_TRUE(obj) << obj.error().to_string();
  EXPECT_EQ((*obj)["metadata"]["resourceVersion"], "5");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path,
            "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters/geo");
  EXPECT_EQ(reqs[0].headers["authorization"], "Bearer tok");
  EXPECT_EQ(reqs[0].headers["accept"], "application/json");
}

TEST(client, errors_carry_the_status) {
  fake_api_server server([](const recorded_request&) {
    return json_response(status(404, "NotFound", "garageclusters \"x\" not found"), 404);
  });
  auto k = make_client(server);
  auto obj = k.get_status(kinds::garage_cluster(), "ns", "x");
  ASSERT_FALSE(obj);
  EXPECT_TRUE(obj.error().is_not_found());
  EXPECT_EQ(obj.error().message, "garageclusters \"x\" not found");
  EXPECT_EQ(server.requests()[0].path,
            "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters/x/status");
}

TEST(client, unreachable_server_is_a_transport_error) {
  int port;
  {
    fake_api_server gone([](const recorded_request&) { return scripted_response{}; });
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  cluster_config c;
  c.server = "http://127.0.0.1:" + std::to_string(port);
  auto t = make_rest_transport(c);
  ASSERT_TRUE(t);
  client k(*t);
  auto r = k.get_path("/version");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_transport());
  EXPECT_EQ(r.error().reason, "Unreachable");
}

TEST(client, bad_tls_material_is_refused_up_front) {
  cluster_config c;
  c.server = "https://127.0.0.1:1";
  c.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  c.source = "kc";
  auto t = make_rest_transport(c);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("bad TLS material"), std::string::npos) << t.error().message;
}

TEST(client, list_with_selector_and_pages) {
  fake_api_server server([](const recorded_request& r) {
    json list = {
        {"kind", "SecretList"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "100"}}}};
    if (r.query.count("continue") == 0) {
      list["items"] = {{{"metadata", {{"name", "a"}}}}, {{"metadata", {{"name", "b"}}}}};
      list["metadata"]["continue"] = "page2";
    } else {
      list["items"] = {{{"metadata", {{"name", "c"}}}}};
      list["metadata"]["resourceVersion"] = "101";
    }
    return json_response(list);
  });
  auto k = make_client(server);
  list_options o;
  o.label_selector = "app.kubernetes.io/name=garage,tier in (a,b)";
  o.limit = 2;
  auto page = k.list(kinds::secret(), "ns", o);
  ASSERT_TRUE(page) << page.error().to_string();
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->resource_version, "100");
  EXPECT_EQ(page->continue_token, "page2");
  auto all = k.list_all(kinds::secret(), "ns", o);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->items.size(), 3u);
  EXPECT_EQ(all->items[2]["metadata"]["name"], "c");
  EXPECT_EQ(all->resource_version, "100");  // the snapshot of the first page
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].path, "/api/v1/namespaces/ns/secrets");
  EXPECT_EQ(reqs[0].query["labelSelector"], "app.kubernetes.io/name=garage,tier in (a,b)");
  EXPECT_EQ(reqs[0].query["limit"], "2");
  EXPECT_EQ(reqs.back().query["continue"], "page2");
}

TEST(client, watch_streams_events_and_bookmarks_then_resumes) {
  fake_api_server server([](const recorded_request& r) {
    scripted_response s;
    if (r.param("resourceVersion") == "10") {
      auto added = event("ADDED", cluster_object("a", "11"));
      // An event split over two chunks, sent 30 ms apart.
      s.chunks = {
          added.substr(0, 20), added.substr(20),
          event("BOOKMARK", {{"kind", "GarageCluster"}, {"metadata", {{"resourceVersion", "15"}}}}),
          event("MODIFIED", cluster_object("a", "16")) +
              event("DELETED", cluster_object("a", "17"))};
      s.chunk_delay = 30ms;
    } else {
      s.chunks = {event("ADDED", cluster_object("b", "18"))};
    }
    return s;
  });
  auto k = make_client(server);
  std::vector<std::string> seen;
  auto handler = [&](const watch_event& e) {
    seen.push_back(std::string(watch_event_type_name(e.type)) + " " +
                   e.object["metadata"]["resourceVersion"].get<std::string>());
    return true;
  };
  watch_options o;
  o.resource_version = "10";
  o.timeout_seconds = 60;
  auto end = k.watch(kinds::garage_cluster(), "ns", o, handler);
  ASSERT_TRUE(end) << end.error().to_string();
  EXPECT_EQ(seen,
            (std::vector<std::string>{"ADDED 11", "BOOKMARK 15", "MODIFIED 16", "DELETED 17"}));
  EXPECT_EQ(end->resource_version, "17");
  EXPECT_FALSE(end->stopped);

  o.resource_version = end->resource_version;  // resume where it ended
  auto again = k.watch(kinds::garage_cluster(), "ns", o, handler);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->resource_version, "18");
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].path, "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters");
  EXPECT_EQ(reqs[0].query["watch"], "true");
  EXPECT_EQ(reqs[0].query["allowWatchBookmarks"], "true");
  EXPECT_EQ(reqs[0].query["timeoutSeconds"], "60");
  EXPECT_EQ(reqs[1].query["resourceVersion"], "17");
}

TEST(client, watch_410_in_an_event_or_as_http_status_is_gone) {
  fake_api_server server([](const recorded_request& r) {
    if (r.param("resourceVersion") == "1") {
      scripted_response s;
      s.chunks = {event("ADDED", cluster_object("a", "2")),
                  event("ERROR", status(410, "Expired", "too old resource version: 1 (40)"))};
      return s;
    }
    return json_response(status(410, "Gone", "too old"), 410);
  });
  auto k = make_client(server);
  int events = 0;
  auto count = [&](const watch_event&) {
    ++events;
    return true;
  };
  watch_options o;
  o.resource_version = "1";
  auto in_event = k.watch(kinds::garage_cluster(), "ns", o, count);
  ASSERT_FALSE(in_event);
  EXPECT_TRUE(in_event.error().is_gone());
  EXPECT_EQ(in_event.error().message, "too old resource version: 1 (40)");
  EXPECT_EQ(events, 1);  // the event before the error was delivered
  o.resource_version = "2";
  auto in_status = k.watch(kinds::garage_cluster(), "ns", o, count);
  ASSERT_FALSE(in_status);
  EXPECT_TRUE(in_status.error().is_gone());
  EXPECT_EQ(in_status.error().code, 410);
}

TEST(client, watch_other_errors_and_bad_lines) {
  fake_api_server server([](const recorded_request& r) {
    scripted_response s;
    if (r.param("resourceVersion") == "1")
      s.chunks = {event("ERROR", status(500, "InternalError", "etcd is sad"))};
    else
      s.chunks = {"this is not an event\n"};
    return s;
  });
  auto k = make_client(server);
  auto any = [](const watch_event&) { return true; };
  watch_options o;
  o.resource_version = "1";
  auto internal = k.watch(kinds::garage_cluster(), "ns", o, any);
  ASSERT_FALSE(internal);
  EXPECT_EQ(internal.error().code, 500);
  EXPECT_FALSE(internal.error().is_gone());
  o.resource_version = "2";
  auto bad = k.watch(kinds::garage_cluster(), "ns", o, any);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, "BadResponse");
}

TEST(client, watch_stops_when_the_handler_says_so) {
  fake_api_server server([](const recorded_request&) {
    scripted_response s;
    s.chunks = {event("ADDED", cluster_object("a", "2")), event("ADDED", cluster_object("b", "3"))};
    s.hold_open = true;
    return s;
  });
  auto k = make_client(server);
  auto end = k.watch(kinds::garage_cluster(), "ns", {}, [](const watch_event&) { return false; });
  ASSERT_TRUE(end) << end.error().to_string();
  EXPECT_TRUE(end->stopped);
  EXPECT_EQ(end->resource_version, "2");
}

TEST(client, watch_is_cancelled_from_another_thread) {
  fake_api_server server([](const recorded_request&) {
    scripted_response s;
    s.chunks = {event("ADDED", cluster_object("a", "2"))};
    s.hold_open = true;  // then silence, as a quiet watch
    return s;
  });
  auto k = make_client(server);
  std::stop_source stop;
  std::atomic<int> events{0};
  std::thread stopper([&] {
    while (events == 0) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(100ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto end = k.watch(
      kinds::garage_cluster(), "ns", {},
      [&](const watch_event&) {
        ++events;
        return true;
      },
      stop.get_token());
  auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().reason, "Cancelled");
  EXPECT_EQ(events, 1);
  EXPECT_LT(took, 3s);  // well before the 5 s idle timeout
}

TEST(client, server_side_apply_request_shape) {
  fake_api_server server(
      [](const recorded_request& r) { return json_response(json::parse(r.body)); });
  auto k = make_client(server);
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "geo-config"}, {"namespace", "ns"}}},
             {"data", {{"garage.toml", "x"}}}};
  auto r = k.apply(kinds::config_map(), "ns", cm, {"garage-operator", true});
  ASSERT_TRUE(r) << r.error().to_string();
  auto status_obj = cluster_object("geo", "");
  status_obj["status"] = {{"nodesReady", 3}};
  ASSERT_TRUE(
      k.apply_status(kinds::garage_cluster(), "ns", status_obj, {"garage-operator", false}));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "PATCH");
  EXPECT_EQ(reqs[0].path, "/api/v1/namespaces/ns/configmaps/geo-config");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/apply-patch+yaml");
  EXPECT_EQ(reqs[0].query["fieldManager"], "garage-operator");
  EXPECT_EQ(reqs[0].query["force"], "true");
  EXPECT_EQ(json::parse(reqs[0].body), cm);
  EXPECT_EQ(reqs[1].path,
            "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters/geo/status");
  EXPECT_EQ(reqs[1].query.count("force"), 0u);

  // Refused before sending: no field manager, no name, or the wrong apiVersion.
  EXPECT_FALSE(k.apply(kinds::config_map(), "ns", cm, {"", false}));
  EXPECT_FALSE(k.apply(kinds::config_map(), "ns", json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}},
                       {"m", false}));
  EXPECT_FALSE(k.apply(kinds::secret(), "ns", status_obj, {"m", false}));
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(client, create_replace_patch_delete_shapes) {
  fake_api_server server([](const recorded_request&) { return json_response({{"kind", "X"}}); });
  auto k = make_client(server);
  json obj = cluster_object("geo", "7");
  ASSERT_TRUE(k.create(kinds::garage_cluster(), "ns", obj, "mgr"));
  ASSERT_TRUE(k.replace(kinds::garage_cluster(), "ns", "geo", obj));
  ASSERT_TRUE(k.patch(kinds::garage_cluster(), "ns", "geo", patch_type::merge,
                      {{"metadata", {{"labels", {{"a", "b"}}}}}}));
  ASSERT_TRUE(
      k.patch_status(kinds::garage_cluster(), "ns", "geo", patch_type::json,
                     json::array({{{"op", "replace"}, {"path", "/status/nodes"}, {"value", 3}}})));
  delete_options d;
  d.propagation = propagation_policy::foreground;
  d.precondition_resource_version = "7";
  ASSERT_TRUE(k.remove(kinds::stateful_set(), "ns", "geo-par1", d));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters");
  EXPECT_EQ(reqs[0].query["fieldManager"], "mgr");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/json");
  EXPECT_EQ(json::parse(reqs[0].body), obj);
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].path,
            "/apis/objectstore.garage-cpp.dev/v1alpha1/namespaces/ns/garageclusters/geo");
  EXPECT_EQ(reqs[2].method, "PATCH");
  EXPECT_EQ(reqs[2].headers["content-type"], "application/merge-patch+json");
  EXPECT_EQ(reqs[3].headers["content-type"], "application/json-patch+json");
  EXPECT_TRUE(reqs[3].path.ends_with("/geo/status"));
  EXPECT_EQ(reqs[4].method, "DELETE");
  EXPECT_EQ(reqs[4].path, "/apis/apps/v1/namespaces/ns/statefulsets/geo-par1");
  auto body = json::parse(reqs[4].body);
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "7");
}

TEST(retry, update_retries_on_conflict_from_a_fresh_read) {
  std::atomic<int> puts{0}, gets{0};
  fake_api_server server([&](const recorded_request& r) {
    if (r.method == "GET") {
      ++gets;
      auto o = cluster_object("geo", std::to_string(gets.load()));
      o["spec"] = {{"nodesPerZone", 1}};
      return json_response(o);
    }
    if (++puts <= 2)
      return json_response(status(409, "Conflict", "the object has been modified"), 409);
    return json_response(json::parse(r.body));
  });
  auto k = make_client(server);
  std::vector<std::chrono::milliseconds> waits;
  conflict_retry policy;
  policy.sleep = [&](std::chrono::milliseconds d) { waits.push_back(d); };
  std::vector<std::string> versions_seen;
  auto r = update_with_retry(
      k, kinds::garage_cluster(), "ns", "geo",
      [&](json& o) -> api_result<bool> {
        versions_seen.push_back(o["metadata"]["resourceVersion"]);
        o["spec"]["nodesPerZone"] = 3;
        return true;
      },
      policy);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["spec"]["nodesPerZone"], 3);
  EXPECT_EQ(versions_seen, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{20ms, 40ms}));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[5].method, "PUT");
  EXPECT_EQ(json::parse(reqs[5].body)["metadata"]["resourceVersion"], "3");  // optimistic lock
}

TEST(retry, gives_up_after_the_attempts_and_keeps_other_errors) {
  std::atomic<int> calls{0};
  fake_api_server server([&](const recorded_request& r) {
    ++calls;
    if (r.method == "GET") return json_response(cluster_object("geo", "1"));
    return json_response(status(409, "Conflict", "modified"), 409);
  });
  auto k = make_client(server);
  conflict_retry policy;
  policy.attempts = 3;
  policy.sleep = [](std::chrono::milliseconds) {};
  auto r = update_with_retry(
      k, kinds::garage_cluster(), "ns", "geo", [](json&) -> api_result<bool> { return true; },
      policy);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_conflict());
  EXPECT_EQ(calls, 6);  // 3 GET + 3 PUT

  // Nothing to change: no write.
  calls = 0;
  auto same = update_with_retry(
      k, kinds::garage_cluster(), "ns", "geo", [](json&) -> api_result<bool> { return false; },
      policy);
  ASSERT_TRUE(same);
  EXPECT_EQ(calls, 1);

  // A mutation's own error, and an error other than a conflict, end at once.
  calls = 0;
  auto refused = update_with_retry(
      k, kinds::garage_cluster(), "ns", "geo",
      [](json&) -> api_result<bool> {
        return api_error{0, "BadRequest", "no"};
      },
      policy);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "no");
  EXPECT_EQ(calls, 1);
}

TEST(retry, exists_is_not_a_conflict) {
  int n = 0;
  auto r = retry_on_conflict([&]() -> api_result<json> {
    ++n;
    return api_error{409, "AlreadyExists", "x"};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace garage::k8s
