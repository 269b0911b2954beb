#include "runtime/leader.h"

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <thread>

#include "runtime/metrics.h"
#include "runtime/sleep.h"
#include "util/log.h"

namespace garage::op {

namespace {

using json = nlohmann::json;

// A MicroTime: "2026-11-25T07:00:00.123456Z".
std::string micro_time(std::chrono::system_clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(us % 1000000));
  return buf;
}

std::string str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t num(const json& o, const char* key, int64_t fallback) {
  auto it = o.find(key);
  return it != o.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::chrono::milliseconds pick(std::chrono::milliseconds ms, std::chrono::seconds s) {
  return ms.count() > 0 ? ms : std::chrono::milliseconds(s);
}

}  // namespace

leader_elector::leader_elector(std::shared_ptr<k8s::client> c, leader_options o, metrics* m)
    : client_(std::move(c)),
      o_(std::move(o)),
      renew_deadline_(pick(o_.renew_deadline_ms, o_.renew_deadline)),
      retry_period_(pick(o_.retry_period_ms, o_.retry_period)),
      metrics_(m) {}

json leader_elector::record(const json& old_spec) const {
  auto now = micro_time(std::chrono::system_clock::now());
  bool ours = str(old_spec, "holderIdentity") == o_.identity;
  json spec = {{"holderIdentity", o_.identity},
               {"leaseDurationSeconds", std::max<int64_t>(1, o_.lease_duration.count())},
               {"renewTime", now}};
  auto transitions = num(old_spec, "leaseTransitions", 0);
  if (ours && old_spec.contains("acquireTime")) {
    spec["acquireTime"] = old_spec["acquireTime"];
    spec["leaseTransitions"] = transitions;
  } else {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = old_spec.empty() ? 0 : transitions + 1;
  }
  return spec;
}

bool leader_elector::try_acquire_or_renew() {
  auto got = client_->get(k8s::kinds::lease(), o_.ns, o_.name);
  std::lock_guard lock(mu_);
  if (!got) {
    if (!got.error().is_not_found()) {
      LOG_WARN("leader election: cannot read Lease {}/{}: {}", o_.ns, o_.name,
               got.error().to_string());
      return false;
    }
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", o_.name}, {"namespace", o_.ns}}},
                  {"spec", record(json::object())}};
    auto created = client_->create(k8s::kinds::lease(), o_.ns, lease);
    if (!created) {
      if (!created.error().is_already_exists())
        LOG_WARN("leader election: cannot create Lease {}/{}: {}", o_.ns, o_.name,
                 created.error().to_string());
      return false;
    }
    observed_ = created->value("spec", json::object());
    observed_at_ = clock::now();
    return true;
  }
  auto spec = got->value("spec", json::object());
  if (spec != observed_) {  // the record changed: the holder is alive
    observed_ = spec;
    observed_at_ = clock::now();
  }
  auto holder = str(spec, "holderIdentity");
  auto duration =
      std::chrono::seconds(num(spec, "leaseDurationSeconds", o_.lease_duration.count()));
  if (!holder.empty() && holder != o_.identity && clock::now() < observed_at_ + duration)
    return false;     // held by another, not expired
  json lease = *got;  // keeps metadata.resourceVersion: a precondition of the PUT
  lease["spec"] = record(spec);
  auto written = client_->replace(k8s::kinds::lease(), o_.ns, o_.name, lease);
  if (!written) {
    if (!written.error().is_conflict())
      LOG_WARN("leader election: cannot update Lease {}/{}: {}", o_.ns, o_.name,
               written.error().to_string());
    return false;
  }
  if (holder != o_.identity)
    LOG_INFO("leader election: {} took Lease {}/{} (held by '{}')", o_.identity, o_.ns, o_.name,
             holder);
  observed_ = written->value("spec", json::object());
  observed_at_ = clock::now();
  return true;
}

void leader_elector::release() {
  auto got = client_->get(k8s::kinds::lease(), o_.ns, o_.name);
  if (!got) return;
  auto spec = got->value("spec", json::object());
  if (str(spec, "holderIdentity") != o_.identity) return;
  auto now = micro_time(std::chrono::system_clock::now());
  // As client-go releases: no holder, so the next candidate takes it at once.
  json lease = *got;
  lease["spec"] = {{"leaseDurationSeconds", 1},
                   {"acquireTime", now},
                   {"renewTime", now},
                   {"leaseTransitions", num(spec, "leaseTransitions", 0)}};
  if (auto r = client_->replace(k8s::kinds::lease(), o_.ns, o_.name, lease); !r)
    LOG_WARN("leader election: cannot release Lease {}/{}: {}", o_.ns, o_.name,
             r.error().to_string());
  else
    LOG_INFO("leader election: {} released Lease {}/{}", o_.identity, o_.ns, o_.name);
}

void leader_elector::run(std::stop_token stop, std::function<void(std::stop_token lost)> lead) {
  lost_ = false;
  while (!try_acquire_or_renew())
    if (!sleep_for(stop, retry_period_)) return;
  if (stop.stop_requested()) {
    release();
    return;
  }
  leader_ = true;
  if (metrics_) metrics_->leader(true);
  LOG_INFO("leader election: {} leads (Lease {}/{})", o_.identity, o_.ns, o_.name);

  std::mutex mu;
  std::condition_variable_any cv;
  auto last_renew = clock::now();
  std::stop_source lead_stop;
  std::jthread lead_thread([&] {
    try {
      lead(lead_stop.get_token());
    } catch (const std::exception& e) {
      LOG_ERROR("leader election: the leader's work threw: {}", e.what());
    }
  });
  std::jthread renewer([&](std::stop_token renew_stop) {
    while (sleep_for(renew_stop, retry_period_)) {
      if (!try_acquire_or_renew()) continue;
      std::lock_guard lock(mu);
      last_renew = clock::now();
    }
  });
  // This thread watches the deadline, so that leadership ends on time even
  // while a renew hangs in the network.
  bool stopped = false;
  {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait_until(lock, stop, last_renew + renew_deadline_, [] { return false; });
      if (stop.stop_requested()) {
        stopped = true;
        break;
      }
      if (clock::now() >= last_renew + renew_deadline_) break;
    }
  }
  leader_ = false;
  if (metrics_) metrics_->leader(false);
  if (!stopped) {
    lost_ = true;
    LOG_ERROR("leader election: {} lost Lease {}/{}: no renew for {} ms", o_.identity, o_.ns,
              o_.name, renew_deadline_.count());
  }
  lead_stop.request_stop();
  lead_thread.join();
  renewer.request_stop();
  renewer.join();
  if (stopped) release();
}

// The gate.

namespace {

class gated : public k8s::transport {
 public:
  gated(std::shared_ptr<k8s::transport> inner, std::function<bool()> allowed, metrics* m)
      : inner_(std::move(inner)), allowed_(std::move(allowed)), metrics_(m) {}

  k8s::api_result<k8s::http_response> send(const k8s::http_request& req) override {
    if (auto refused = check(req)) return *refused;
    auto start = std::chrono::steady_clock::now();
    auto r = inner_->send(req);
    count(req.method, r, start);
    return r;
  }

  k8s::api_result<k8s::http_response> stream(const k8s::http_request& req,
                                             const k8s::data_sink& sink,
                                             std::stop_token stop) override {
    if (auto refused = check(req)) return *refused;
    auto start = std::chrono::steady_clock::now();
    auto r = inner_->stream(req, sink, stop);
    count("WATCH", r, start);
    return r;
  }

 private:
  std::optional<k8s::api_error> check(const k8s::http_request& req) const {
    if (req.method == "GET" || allowed_()) return std::nullopt;
    return k8s::api_error{0, std::string(not_leader_reason),
                          "not the leader: " + req.method + " " + req.target + " refused"};
  }

  void count(const std::string& verb, const k8s::api_result<k8s::http_response>& r,
             std::chrono::steady_clock::time_point start) const {
    if (!metrics_) return;
    int code = r ? r->status : r.error().code;
    metrics_->api_request(
        verb, code,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  std::shared_ptr<k8s::transport> inner_;
  std::function<bool()> allowed_;
  metrics* metrics_;
};

}  // namespace

std::shared_ptr<k8s::transport> gated_transport(std::shared_ptr<k8s::transport> inner,
                                                std::function<bool()> allowed, metrics* m) {
  return std::make_shared<gated>(std::move(inner), std::move(allowed), m);
}

}  // namespace garage::op
