#include "runtime/informer.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "runtime/controller.h"
#include "runtime/metrics.h"
#include "runtime/sleep.h"
#include "util/log.h"

namespace garage::op {

namespace {

using json = nlohmann::json;
using clock = std::chrono::steady_clock;

std::string str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string key_of(const json& obj) {
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return {};
  return object_key(str(*md, "namespace"), str(*md, "name"));
}

std::string rv_of(const json& obj) {
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return {};
  return str(*md, "resourceVersion");
}

}  // namespace

informer::informer(std::shared_ptr<k8s::client> c, k8s::resource_kind kind, std::string ns,
                   std::string label_selector, metrics* m)
    : client_(std::move(c)),
      kind_(std::move(kind)),
      ns_(std::move(ns)),
      selector_(std::move(label_selector)),
      metrics_(m) {}

void informer::on_change(handler h) { handlers_.push_back(std::move(h)); }

std::string informer::name() const { return ns_.empty() ? kind_.plural : kind_.plural + "/" + ns_; }

bool informer::wait_synced(std::stop_token stop, std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  while (!synced_ && !stop.stop_requested() && clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return synced_;
}

std::optional<json> informer::get(std::string_view ns, std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = cache_.find(object_key(ns, name));
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> informer::list(std::string_view ns) const {
  std::vector<json> out;
  std::shared_lock lock(mu_);
  for (const auto& [key, obj] : cache_) {
    if (!ns.empty()) {
      auto [obj_ns, name] = split_key(key);
      if (obj_ns != ns) continue;
    }
    out.push_back(obj);
  }
  return out;
}

void informer::notify(const json& obj, bool deleted) {
  for (const auto& h : handlers_) {
    try {
      h(obj, deleted);
    } catch (const std::exception& e) {
      LOG_ERROR("informer {}: a handler threw: {}", name(), e.what());
    }
  }
}

std::optional<std::string> informer::relist(std::stop_token stop) {
  if (metrics_) metrics_->informer_list(name());
  k8s::list_options o;
  o.label_selector = selector_;
  auto l = client_->list_all(kind_, ns_, o);
  if (!l) {
    if (!stop.stop_requested())
      LOG_WARN("informer {}: list failed: {}", name(), l.error().to_string());
    return std::nullopt;
  }
  std::map<std::string, json> fresh;
  for (auto& item : l->items) {
    // Items of built-in lists come without apiVersion; say it once here.
    if (!item.contains("apiVersion")) item["apiVersion"] = kind_.api_version();
    auto key = key_of(item);
    if (!key.empty()) fresh.emplace(std::move(key), std::move(item));
  }
  std::map<std::string, json> old;
  {
    std::unique_lock lock(mu_);
    old = std::exchange(cache_, fresh);
  }
  synced_ = true;
  for (const auto& [key, obj] : old)
    if (!fresh.count(key)) notify(obj, true);
  for (const auto& [key, obj] : fresh) notify(obj, false);
  return l->resource_version;
}

void informer::resync() {
  std::vector<json> all = list();
  for (const auto& obj : all) notify(obj, false);
}

k8s::api_result<k8s::watch_end> informer::watch_once(std::string& rv,
                                                     std::chrono::milliseconds timeout,
                                                     std::stop_token stop, bool& progressed) {
  k8s::watch_options o;
  o.resource_version = rv;
  o.label_selector = selector_;
  o.allow_bookmarks = true;
  o.timeout_seconds = static_cast<int>(
      std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(timeout).count()));
  // The watch also ends at the timeout on our side (a resync is due then),
  // whether or not the server honours timeoutSeconds.
  std::stop_source watch_stop;
  std::stop_callback forward(stop, [&] { watch_stop.request_stop(); });
  std::atomic<bool> timed_out{false};
  std::jthread timer([&, timeout](std::stop_token timer_stop) {
    if (!sleep_for(timer_stop, timeout)) return;
    timed_out = true;
    watch_stop.request_stop();
  });
  auto on_event = [&](const k8s::watch_event& e) {
    if (auto v = rv_of(e.object); !v.empty()) rv = v;
    switch (e.type) {
      case k8s::watch_event_type::added:
      case k8s::watch_event_type::modified: {
        auto key = key_of(e.object);
        if (key.empty()) break;
        progressed = true;
        {
          std::unique_lock lock(mu_);
          cache_[key] = e.object;
        }
        notify(e.object, false);
        break;
      }
      case k8s::watch_event_type::deleted: {
        auto key = key_of(e.object);
        if (key.empty()) break;
        progressed = true;
        {
          std::unique_lock lock(mu_);
          cache_.erase(key);
        }
        notify(e.object, true);
        break;
      }
      default:
        break;  // a bookmark only moves rv
    }
    return true;
  };
  auto r = client_->watch(kind_, ns_, o, on_event, watch_stop.get_token());
  timer.request_stop();
  timer.join();
  if (timed_out && !stop.stop_requested()) {
    progressed = true;                 // not a server ending watches at once
    return k8s::watch_end{rv, false};  // our timeout: a normal end
  }
  if (r && !r->resource_version.empty()) rv = r->resource_version;
  return r;
}

void informer::run(std::stop_token stop) {
  auto backoff = backoff_initial_;
  auto wait_backoff = [&] {
    bool more = sleep_for(stop, backoff);
    backoff = std::min(backoff * 2, backoff_max_);
    return more;
  };
  while (!stop.stop_requested()) {
    auto rv = relist(stop);
    if (!rv) {
      if (!wait_backoff()) return;
      continue;
    }
    auto next_resync = clock::now() + resync_period_;
    for (;;) {
      if (stop.stop_requested()) return;
      auto now = clock::now();
      if (now >= next_resync) {
        resync();
        next_resync = now + resync_period_;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_resync - now);
      auto timeout = std::clamp(left, std::chrono::milliseconds(10),
                                std::chrono::milliseconds(watch_timeout_));
      bool progressed = false;
      auto w = watch_once(*rv, timeout, stop, progressed);
      if (stop.stop_requested()) return;
      if (w) {
        if (progressed) backoff = backoff_initial_;
        // A server that ends watches at once must not make this spin.
        if (!progressed && clock::now() - now < std::chrono::milliseconds(100) && !wait_backoff())
          return;
        continue;
      }
      if (w.error().is_gone()) {
        LOG_INFO("informer {}: resourceVersion {} is gone, listing again", name(), *rv);
        break;
      }
      LOG_WARN("informer {}: watch failed: {}", name(), w.error().to_string());
      if (!wait_backoff()) return;
      break;
    }
  }
}

}  // namespace garage::op
