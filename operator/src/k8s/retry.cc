#include "k8s/retry.h"

#include <algorithm>
#include <thread>

namespace garage::k8s {

api_result<json> retry_on_conflict(const std::function<api_result<json>()>& attempt,
                                   const conflict_retry& policy) {
  auto wait = policy.backoff;
  for (int i = 1;; ++i) {
    auto r = attempt();
    if (r || !r.error().is_conflict() || i >= policy.attempts) return r;
    if (policy.sleep) {
      policy.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    wait = std::min(wait * 2, policy.max_backoff);
  }
}

api_result<json> update_with_retry(client& k, const resource_kind& kind, std::string_view ns,
                                   std::string_view name, const mutation& mutate,
                                   const conflict_retry& policy, std::string_view subresource) {
  return retry_on_conflict(
      [&]() -> api_result<json> {
        auto current = k.get(kind, ns, name, subresource);
        if (!current) return current;
        auto changed = mutate(*current);
        if (!changed) return std::move(changed).error();
        if (!*changed) return current;
        return k.replace(kind, ns, name, *current, subresource);
      },
      policy);
}

}  // namespace garage::k8s
