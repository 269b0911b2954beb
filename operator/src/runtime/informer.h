// informer: a cache of the objects of one kind (in one namespace or all),
// kept current by list + watch, that tells handlers about every change.
//
// run() lists (every page), then watches from the list's resourceVersion with
// bookmarks. A watch that ends normally is started again from the last
// resourceVersion seen; 410 Gone lists again at once and diffs the cache
// (handlers see a deletion for every object no longer listed and a change for
// every other); any other failure waits (1 s, doubling up to 30 s) and lists
// again. Every resync_period (5 minutes) the handlers see every cached object
// again, so a reconcile that missed something is retried.
//
// Handlers are registered before run() and called on run()'s thread, one at a
// time, after the cache took the change: keep them cheap (enqueue a key).
// The cache (get, list, synced) is safe to read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/client.h"
#include "k8s/resource.h"

namespace garage::op {

class metrics;

class informer {
 public:
  using handler = std::function<void(const nlohmann::json& obj, bool deleted)>;

  // ns "" = every namespace. `m`, when given, must outlive the informer.
  informer(std::shared_ptr<k8s::client> c, k8s::resource_kind kind, std::string ns,
           std::string label_selector = {}, metrics* m = nullptr);
  informer(const informer&) = delete;
  informer& operator=(const informer&) = delete;

  void on_change(handler h);

  // Lists and watches until `stop`. Call once.
  void run(std::stop_token stop);

  // True once the first list is in the cache (it stays true).
  bool synced() const { return synced_; }
  // Blocks until synced() or `stop` or `timeout`; returns synced().
  bool wait_synced(std::stop_token stop, std::chrono::milliseconds timeout);

  std::optional<nlohmann::json> get(std::string_view ns, std::string_view name) const;
  // Every cached object, of namespace `ns` when not empty; in key order.
  std::vector<nlohmann::json> list(std::string_view ns = {}) const;
  // "plural" or "plural/namespace", for logs and metrics.
  std::string name() const;

  // Tuning, before run(); tests shorten them.
  void set_resync_period(std::chrono::milliseconds d) { resync_period_ = d; }
  void set_backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) {
    backoff_initial_ = initial;
    backoff_max_ = max;
  }
  void set_watch_timeout(std::chrono::seconds d) { watch_timeout_ = d; }

 private:
  // Lists, replaces the cache and tells the handlers; the list's
  // resourceVersion, or nullopt on failure (logged).
  std::optional<std::string> relist(std::stop_token stop);
  // Watches from `rv` (updated as events arrive) until the watch ends.
  k8s::api_result<k8s::watch_end> watch_once(std::string& rv, std::chrono::milliseconds timeout,
                                             std::stop_token stop, bool& progressed);
  void resync();
  void notify(const nlohmann::json& obj, bool deleted);

  std::shared_ptr<k8s::client> client_;
  k8s::resource_kind kind_;
  std::string ns_;
  std::string selector_;
  metrics* metrics_;
  std::vector<handler> handlers_;
  std::chrono::milliseconds resync_period_{std::chrono::minutes(5)};
  std::chrono::milliseconds backoff_initial_{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_max_{std::chrono::seconds(30)};
  std::chrono::seconds watch_timeout_{300};

  mutable std::shared_mutex mu_;
  std::map<std::string, nlohmann::json> cache_;  // by "ns/name"
  std::atomic<bool> synced_{false};
};

}  // namespace garage::op
