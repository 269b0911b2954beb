// Leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection does, and the transport gate that stops mutations the
// moment leadership is lost.
//
// The Lease (spec.holderIdentity, leaseDurationSeconds, acquireTime,
// renewTime, leaseTransitions) is taken when absent, released (holder "") or
// expired, or already ours. Expiry is measured by the local steady clock from
// when THIS process last saw the record change (never by comparing clocks
// with the holder). Writes carry the resourceVersion read: a 409 means someone
// else won the race.
//
//   leader_elector e(ungated_client, {.ns = "garage-system", .identity = pod_name}, &m);
//   e.run(stop, [&](std::stop_token lost) { run_controllers(lost); });
//   // returns when stop was requested (the Lease is released), or when
//   // leadership was lost (the caller exits the process, as client-go does)
//
// Thread-safe: is_leader() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>

#include "k8s/client.h"
#include "k8s/transport.h"

namespace garage::op {

class metrics;

struct leader_options {
  std::string ns;
  std::string name = "garage-operator";
  std::string identity;  // unique per process (the pod name, plus a random suffix)
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  // Sub-second timings, for tests; used instead of the above when non-zero.
  // (The Lease holds its duration in whole seconds: no sub-second one.)
  std::chrono::milliseconds renew_deadline_ms{0};
  std::chrono::milliseconds retry_period_ms{0};
};

class leader_elector {
 public:
  // `c` must not be gated by leadership (the Lease writes go through it).
  leader_elector(std::shared_ptr<k8s::client> c, leader_options o, metrics* m = nullptr);
  leader_elector(const leader_elector&) = delete;
  leader_elector& operator=(const leader_elector&) = delete;

  // Tries to acquire the Lease every retry_period until it does or `stop`.
  // Once leader, runs lead(lost) on another thread and renews every
  // retry_period. If no renew succeeded for renew_deadline, leadership is
  // lost: is_leader() turns false at once, `lost` is requested, and run()
  // returns once lead() has returned. On `stop`: is_leader() turns false,
  // `lost` is requested, lead() is waited for, the Lease is released (so
  // another process takes it at once) and run() returns. Call once.
  void run(std::stop_token stop, std::function<void(std::stop_token lost)> lead);

  bool is_leader() const { return leader_; }
  // True when run() returned because leadership was lost (not stopped).
  bool lost() const { return lost_; }

  // One attempt to acquire or renew; true if the Lease is ours after it.
  // (What run() loops on; public for tests.)
  bool try_acquire_or_renew();

 private:
  using clock = std::chrono::steady_clock;
  void release();
  nlohmann::json record(const nlohmann::json& old_spec) const;

  std::shared_ptr<k8s::client> client_;
  leader_options o_;
  std::chrono::milliseconds renew_deadline_, retry_period_;
  metrics* metrics_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> lost_{false};

  std::mutex mu_;            // the observed record, for try_acquire_or_renew
  nlohmann::json observed_;  // the Lease's spec as last seen
  clock::time_point observed_at_;
  std::string observed_rv_;
};

// A transport that refuses every request but GET (get, list, watch) with
// api_error{0, "NotLeader", ...} while allowed() is false, and counts every
// request in metrics::api_request(verb, code, seconds) (`m` may be null).
// Give the reconcilers a client over this one, with allowed = is_leader.
std::shared_ptr<k8s::transport> gated_transport(std::shared_ptr<k8s::transport> inner,
                                                std::function<bool()> allowed, metrics* m);

inline constexpr std::string_view not_leader_reason = "NotLeader";

}  // namespace garage::op
