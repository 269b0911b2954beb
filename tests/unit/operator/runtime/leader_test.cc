#include "runtime/leader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "runtime/metrics.h"
#include "test_client.h"

namespace garage::op {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// The Lease API of a fake server: GET / POST / PUT with resourceVersion
// preconditions, and PUTs by chosen holders refused (a partitioned leader).
class lease_store {
 public:
  scripted_response handle(const recorded_request& r) {
    std::lock_guard lock(mu_);
    const std::string collection = "/apis/coordination.k8s.io/v1/namespaces/ns/leases";
    const std::string object = collection + "/garage-operator";
    if (r.method == "GET" && r.path == object) {
      if (!lease_) return json_response(status_object(404, "NotFound", "no lease"), 404);
      return json_response(*lease_);
    }
    if (r.method == "POST" && r.path == collection) {
      if (lease_) return json_response(status_object(409, "AlreadyExists", "exists"), 409);
      lease_ = json::parse(r.body);
      (*lease_)["metadata"]["resourceVersion"] = std::to_string(++rv_);
      return json_response(*lease_, 201);
    }
    if (r.method == "PUT" && r.path == object) {
      auto body = json::parse(r.body);
      auto holder = body["spec"].value("holderIdentity", "");
      if (conflicts_ > 0) {  // another writer got there first
        --conflicts_;
        ++rv_;
        return json_response(status_object(409, "Conflict", "the object has been modified"), 409);
      }
      if (refused_.count(holder))
        return json_response(status_object(500, "InternalError", "partitioned"), 500);
      if (!lease_ || body["metadata"].value("resourceVersion", "") !=
                         (*lease_)["metadata"]["resourceVersion"].get<std::string>())
        return json_response(status_object(409, "Conflict", "the object has been modified"), 409);
      lease_ = body;
      (*lease_)["metadata"]["resourceVersion"] = std::to_string(++rv_);
      return json_response(*lease_);
    }
    return json_response(status_object(404, "NotFound", r.method + " " + r.path), 404);
  }
  void conflict_next_put() {
    std::lock_guard lock(mu_);
    ++conflicts_;
  }
  void refuse(const std::string& holder) {
    std::lock_guard lock(mu_);
    refused_.insert(holder);
  }
  json spec() {
    std::lock_guard lock(mu_);
    return lease_ ? (*lease_)["spec"] : json();
  }

 private:
  std::mutex mu_;
  std::optional<json> lease_;
  int rv_ = 0;
  int conflicts_ = 0;
  std::set<std::string> refused_;
};

leader_options fast(const std::string& identity, std::chrono::seconds lease = 2s) {
  leader_options o;
  o.ns = "ns";
  o.identity = identity;
  o.lease_duration = lease;
  o.renew_deadline_ms = 1s;
  o.retry_period_ms = 50ms;
  return o;
}

// An elector running on its own thread, recording its lead() calls.
struct candidate {
  candidate(const fake_api_server& server, leader_options o, metrics* m = nullptr)
      : elector(make_client(server), std::move(o), m) {}
  void start() {
    thread = std::jthread([this] {
      elector.run(stop.get_token(), [this](std::stop_token lost) {
        leading = true;
        while (!lost.stop_requested()) std::this_thread::sleep_for(5ms);
        // Leadership is already off when lost fires.
        leader_when_lost = elector.is_leader();
        lost_at = clock::now();
        lost_fired = true;
      });
      returned = true;
    });
  }
  leader_elector elector;
  std::stop_source stop;
  std::atomic<bool> leading{false}, lost_fired{false}, returned{false}, leader_when_lost{true};
  clock::time_point lost_at;
  std::jthread thread;
};

TEST(leader, one_leads_a_partitioned_leader_steps_down_and_the_other_takes_over) {
  lease_store store;
  fake_api_server server([&](const recorded_request& r) { return store.handle(r); });
  metrics m;
  candidate a(server, fast("a"), &m);
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector.is_leader() && a.leading; }));
  EXPECT_NE(m.text().find("garage_operator_leader 1"), std::string::npos);
  auto spec = store.spec();
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 2);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_TRUE(spec.contains("acquireTime"));
  EXPECT_TRUE(spec.contains("renewTime"));

  candidate b(server, fast("b"));
  b.start();
  std::this_thread::sleep_for(2500ms);  // more than the lease: a keeps renewing it
  EXPECT_FALSE(b.elector.is_leader());
  EXPECT_TRUE(a.elector.is_leader());
  EXPECT_NE(store.spec()["renewTime"], spec["renewTime"]);

  auto cut = clock::now();
  store.refuse("a");  // a's renewals fail from now on
  ASSERT_TRUE(eventually([&] { return !a.elector.is_leader(); }));
  EXPECT_LT(clock::now() - cut, 1s + 3s);  // the renew deadline, give or take a slow machine
  ASSERT_TRUE(eventually([&] { return a.returned.load(); }));
  EXPECT_TRUE(a.lost_fired);
  EXPECT_FALSE(a.leader_when_lost);
  EXPECT_TRUE(a.elector.lost());
  EXPECT_NE(m.text().find("garage_operator_leader 0"), std::string::npos);

  ASSERT_TRUE(eventually([&] { return b.elector.is_leader() && b.leading; }));
  EXPECT_GE(clock::now() - cut, 1500ms);  // b waited for the lease (2 s) to expire
  EXPECT_EQ(store.spec()["holderIdentity"], "b");
  EXPECT_EQ(store.spec()["leaseTransitions"], 1);
  b.stop.request_stop();
  b.thread.join();
  EXPECT_FALSE(b.elector.lost());
}

TEST(leader, release_on_stop_lets_the_other_take_over_at_once) {
  lease_store store;
  fake_api_server server([&](const recorded_request& r) { return store.handle(r); });
  candidate a(server, fast("a", 60s));  // without the release, b would wait a minute
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector.is_leader(); }));
  candidate b(server, fast("b", 60s));
  b.start();
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(b.elector.is_leader());
  auto stopped = clock::now();
  a.stop.request_stop();
  a.thread.join();
  EXPECT_TRUE(a.lost_fired);  // lead() was told to stop
  EXPECT_FALSE(a.elector.is_leader());
  EXPECT_FALSE(a.elector.lost());
  ASSERT_TRUE(eventually([&] { return b.elector.is_leader(); }, 20s));
  EXPECT_LT(clock::now() - stopped, 20s);
  EXPECT_EQ(store.spec()["holderIdentity"], "b");
  b.stop.request_stop();
  b.thread.join();
  EXPECT_FALSE(store.spec().contains("holderIdentity"));  // b released it too
}

TEST(leader, a_held_lease_is_not_taken_before_it_expires) {
  lease_store store;
  fake_api_server server([&](const recorded_request& r) { return store.handle(r); });
  leader_elector a(make_client(server), fast("a"));
  leader_elector b(make_client(server), fast("b"));
  EXPECT_TRUE(a.try_acquire_or_renew());   // created
  EXPECT_FALSE(b.try_acquire_or_renew());  // held, not expired
  EXPECT_TRUE(a.try_acquire_or_renew());   // renewed
  store.conflict_next_put();
  EXPECT_FALSE(a.try_acquire_or_renew());  // 409: someone else wrote first
  EXPECT_TRUE(a.try_acquire_or_renew());
  EXPECT_EQ(store.spec()["holderIdentity"], "a");
}

// A transport that answers 200 to everything and counts what reached it.
class counting_transport : public k8s::transport {
 public:
  k8s::api_result<k8s::http_response> send(const k8s::http_request&) override {
    ++sent;
    return k8s::http_response{200, "application/json", R"({"metadata": {}, "items": []})"};
  }
  k8s::api_result<k8s::http_response> stream(const k8s::http_request&, const k8s::data_sink&,
                                             std::stop_token) override {
    ++sent;
    return k8s::http_response{200, "application/json", ""};
  }
  std::atomic<int> sent{0};
};

TEST(gated_transport, refuses_mutations_while_not_allowed_and_counts_requests) {
  auto inner = std::make_shared<counting_transport>();
  std::atomic<bool> leader{false};
  metrics m;
  k8s::client c(gated_transport(
      inner, [&] { return leader.load(); }, &m));
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}};

  EXPECT_TRUE(c.get(k8s::kinds::config_map(), "ns", "x"));  // reads always pass
  EXPECT_TRUE(c.list(k8s::kinds::config_map(), "ns"));
  EXPECT_TRUE(
      c.watch(k8s::kinds::config_map(), "ns", {}, [](const k8s::watch_event&) { return true; }));
  EXPECT_EQ(inner->sent, 3);
  auto created = c.create(k8s::kinds::config_map(), "ns", cm);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().reason, "NotLeader");
  EXPECT_EQ(created.error().code, 0);
  EXPECT_FALSE(c.remove(k8s::kinds::config_map(), "ns", "x"));
  EXPECT_FALSE(c.apply(k8s::kinds::config_map(), "ns", cm, {"garage-operator", true}));
  EXPECT_FALSE(
      c.patch(k8s::kinds::config_map(), "ns", "x", k8s::patch_type::merge, json::object()));
  EXPECT_FALSE(c.replace(k8s::kinds::config_map(), "ns", "x", cm));
  EXPECT_EQ(inner->sent, 3);  // none reached the server

  leader = true;
  EXPECT_TRUE(c.create(k8s::kinds::config_map(), "ns", cm));
  EXPECT_TRUE(c.remove(k8s::kinds::config_map(), "ns", "x"));
  EXPECT_EQ(inner->sent, 5);
  leader = false;  // lost: refused again at once
  EXPECT_FALSE(c.create(k8s::kinds::config_map(), "ns", cm));
  EXPECT_EQ(inner->sent, 5);

  auto t = m.text();
  EXPECT_NE(t.find("garage_operator_api_requests_total{code=\"200\",verb=\"GET\"} 2"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("garage_operator_api_requests_total{code=\"200\",verb=\"WATCH\"} 1"),
            std::string::npos);
  EXPECT_NE(t.find("garage_operator_api_requests_total{code=\"200\",verb=\"POST\"} 1"),
            std::string::npos);
  EXPECT_NE(t.find("garage_operator_api_requests_total{code=\"200\",verb=\"DELETE\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace garage::op
