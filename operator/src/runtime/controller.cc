#include "runtime/controller.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/informer.h"
#include "runtime/metrics.h"
#include "util/log.h"

namespace garage::op {

std::string object_key(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string k;
  k.reserve(ns.size() + name.size() + 1);
  k.append(ns).append("/").append(name);
  return k;
}

std::pair<std::string, std::string> split_key(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return {std::string(), std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

controller::controller(std::string name, reconcile_fn reconcile, metrics& m, queue_options options,
                       int workers)
    : name_(std::move(name)),
      reconcile_(std::move(reconcile)),
      metrics_(m),
      workers_(std::max(workers, 1)),
      queue_(name_, options, &m) {}

void controller::enqueue(const std::string& ns, const std::string& name) {
  queue_.add(object_key(ns, name));
}

void controller::watch(informer& inf) {
  inf.on_change([this](const nlohmann::json& obj, bool) {
    const auto& md = obj.value("metadata", nlohmann::json::object());
    auto name = md.value("name", std::string());
    if (!name.empty()) enqueue(md.value("namespace", std::string()), name);
  });
}

void controller::watch(
    informer& inf,
    std::function<std::vector<std::pair<std::string, std::string>>(const nlohmann::json&)>
        map_to_keys) {
  inf.on_change([this, map = std::move(map_to_keys)](const nlohmann::json& obj, bool) {
    for (const auto& [ns, name] : map(obj)) enqueue(ns, name);
  });
}

bool controller::process_next(std::stop_token stop) {
  auto key = queue_.get(stop);
  if (!key) return false;
  auto [ns, name] = split_key(*key);
  auto start = std::chrono::steady_clock::now();
  result<reconcile_result> r = error(errc::internal, "reconcile did not run");
  try {
    r = reconcile_(ns, name);
  } catch (const std::exception& e) {
    r = error(errc::internal, std::string("reconcile threw: ") + e.what());
  } catch (...) {
    r = error(errc::internal, "reconcile threw");
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r) {
    metrics_.reconcile(name_, "error", seconds);
    LOG_WARN("controller {}: reconcile {} failed (retry {}): {}", name_, *key,
             queue_.num_requeues(*key) + 1, r.error().to_string());
    queue_.add_rate_limited(*key);
  } else if (r->requeue_after > std::chrono::milliseconds::zero()) {
    metrics_.reconcile(name_, "requeue", seconds);
    queue_.forget(*key);
    queue_.add_after(*key, r->requeue_after);
  } else {
    metrics_.reconcile(name_, "success", seconds);
    queue_.forget(*key);
  }
  queue_.done(*key);
  return true;
}

void controller::run(std::stop_token stop) {
  std::vector<std::jthread> workers;
  for (int i = 0; i < workers_; ++i)
    workers.emplace_back([this, stop] {
      while (process_next(stop)) {
      }
    });
  // The workers return once `stop` is requested (get() wakes on it); the
  // reconciles in progress finish first.
  for (auto& w : workers) w.join();
  queue_.shut_down();
}

}  // namespace garage::op
