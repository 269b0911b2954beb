#include "runtime/events.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "util/log.h"

namespace garage::op {

namespace {

using json = nlohmann::json;

constexpr size_t max_pending = 1000;
constexpr auto aggregation_window = std::chrono::minutes(10);
constexpr size_t max_remembered = 4096;

// core/v1 Events (involvedObject, count, first/lastTimestamp), not
// kinds::event(), which is events.k8s.io/v1 with other field names.
const k8s::resource_kind& core_events() {
  static const k8s::resource_kind k{"", "v1", "events"};
  return k;
}

// A Time: "2026-11-25T07:00:00Z".
std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

event_recorder::event_recorder(std::shared_ptr<k8s::client> c, std::string component,
                               std::string host)
    : client_(std::move(c)), component_(std::move(component)), host_(std::move(host)) {
  writer_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

event_recorder::~event_recorder() {
  flush();
  writer_.request_stop();
  writer_.join();
}

void event_recorder::normal(const json& object, const std::string& reason,
                            const std::string& message) {
  record(object, "Normal", reason, message);
}

void event_recorder::warning(const json& object, const std::string& reason,
                             const std::string& message) {
  record(object, "Warning", reason, message);
}

void event_recorder::record(const json& object, const std::string& type, const std::string& reason,
                            const std::string& message) {
  std::lock_guard lock(mu_);
  if (queue_.size() >= max_pending) {
    LOG_WARN("events: {} Events waiting, dropping {} {}: {}", queue_.size(), type, reason, message);
    return;
  }
  queue_.push_back({object, type, reason, message, std::chrono::system_clock::now()});
  cv_.notify_all();
}

bool event_recorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !writing_; });
}

void event_recorder::loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, stop, [&] { return !queue_.empty(); });
    if (stop.stop_requested()) {  // the destructor flushed what it could wait for
      if (!queue_.empty()) LOG_WARN("events: {} Events not written at shutdown", queue_.size());
      return;
    }
    auto p = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    write(p);
    lock.lock();
    writing_ = false;
    cv_.notify_all();  // flush()
  }
}

void event_recorder::write(const pending& p) {
  const auto md = p.object.value("metadata", json::object());
  auto name = str(md, "name");
  auto ns = str(md, "namespace");
  auto uid = str(md, "uid");
  if (name.empty()) {
    LOG_WARN("events: {} {} about an object without a name: {}", p.type, p.reason, p.message);
    return;
  }
  auto event_ns = ns.empty() ? std::string("default") : ns;
  auto now = rfc3339(p.when);
  auto steady_now = std::chrono::steady_clock::now();
  aggregate_key key{uid.empty() ? event_ns + "/" + name : uid, p.type, p.reason, p.message};

  if (auto it = written_.find(key);
      it != written_.end() && steady_now - it->second.last_seen < aggregation_window) {
    auto& w = it->second;
    json patch = {{"count", w.count + 1}, {"lastTimestamp", now}};
    auto r = client_->patch(core_events(), w.ns, w.name, k8s::patch_type::merge, patch);
    if (r) {
      ++w.count;
      w.last_seen = steady_now;
      return;
    }
    if (!r.error().is_not_found()) {
      LOG_WARN("events: cannot update Event {}/{}: {}", w.ns, w.name, r.error().to_string());
      return;
    }
    written_.erase(it);  // it expired on the server: write a new one
  }

  auto event_name = name + "." + [&] {
    char buf[32];
    std::snprintf(
        buf, sizeof buf, "%llx",
        static_cast<unsigned long long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(p.when.time_since_epoch())
                .count()));
    return std::string(buf);
  }();
  json involved = {
      {"apiVersion", str(p.object, "apiVersion")}, {"kind", str(p.object, "kind")}, {"name", name}};
  if (!ns.empty()) involved["namespace"] = ns;
  if (!uid.empty()) involved["uid"] = uid;
  if (auto rv = str(md, "resourceVersion"); !rv.empty()) involved["resourceVersion"] = rv;
  json source = {{"component", component_}};
  if (!host_.empty()) source["host"] = host_;
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", event_name}, {"namespace", event_ns}}},
                {"involvedObject", involved},
                {"reason", p.reason},
                {"message", p.message},
                {"type", p.type},
                {"source", source},
                {"firstTimestamp", now},
                {"lastTimestamp", now},
                {"count", 1},
                {"reportingComponent", component_}};
  if (!host_.empty()) event["reportingInstance"] = host_;
  auto r = client_->create(core_events(), event_ns, event);
  if (!r) {
    LOG_WARN("events: cannot write Event {}/{} ({} {}): {}", event_ns, event_name, p.type, p.reason,
             r.error().to_string());
    return;
  }
  if (written_.size() >= max_remembered) {
    // Forget the stalest half: aggregation is an optimisation, not a promise.
    std::vector<std::pair<std::chrono::steady_clock::time_point, aggregate_key>> by_age;
    for (const auto& [k, w] : written_) by_age.emplace_back(w.last_seen, k);
    std::sort(by_age.begin(), by_age.end());
    for (size_t i = 0; i < by_age.size() / 2; ++i) written_.erase(by_age[i].second);
  }
  written_[key] = {event_ns, event_name, 1, now, steady_now};
}

}  // namespace garage::op
