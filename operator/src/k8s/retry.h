// Optimistic concurrency where server-side apply does not fit: read, modify,
// write with the resourceVersion read, and start over on 409 Conflict.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "k8s/client.h"

namespace garage::k8s {

struct conflict_retry {
  int attempts = 5;                       // writes tried in all
  std::chrono::milliseconds backoff{20};  // before the 2nd attempt, doubled each time
  std::chrono::milliseconds max_backoff{1000};
  // How to wait; tests replace it to record the waits.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// Calls `attempt` until it succeeds, fails with anything but a conflict, or
// `policy.attempts` conflicts happened (then returns the last conflict).
api_result<json> retry_on_conflict(const std::function<api_result<json>()>& attempt,
                                   const conflict_retry& policy = {});

// Mutates an object in place. Returns false when nothing needs writing.
using mutation = std::function<api_result<bool>(json& object)>;

// GET the object (or its subresource), apply `mutate`, PUT it back; retried
// on 409 from the start (a fresh GET). Returns the object as written, or as
// read when `mutate` returned false.
api_result<json> update_with_retry(client& k, const resource_kind& kind, std::string_view ns,
                                   std::string_view name, const mutation& mutate,
                                   const conflict_retry& policy = {},
                                   std::string_view subresource = {});

}  // namespace garage::k8s
