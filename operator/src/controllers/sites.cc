#include "controllers/sites.h"

#include "controllers/common.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest_transport.h"
#include "util/encoding.h"

namespace garage::op {

sites::sites(std::shared_ptr<k8s::client> local, wrapper wrap)
    : local_(std::move(local)), wrap_(std::move(wrap)) {}

result<std::shared_ptr<k8s::client>> sites::get(const std::string& ns, const std::string& secret,
                                                const std::string& key) {
  if (secret.empty()) return local_;
  auto s = local_->get(k8s::kinds::secret(), ns, secret);
  if (!s) return from_api(s.error(), "site kubeconfig Secret " + ns + "/" + secret);
  std::string rv = (*s)["metadata"].value("resourceVersion", "");
  std::string id = ns + "/" + secret + "/" + key;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(id); it != cache_.end() && it->second.resource_version == rv)
      return it->second.client;
  }
  const json& d = (*s).contains("data") ? (*s)["data"] : json::object();
  if (!d.contains(key) || !d[key].is_string())
    return garage::error(errc::not_found,
                         "site kubeconfig Secret " + ns + "/" + secret + " has no key " + key);
  auto text = base64_decode(d[key].get<std::string>());
  if (!text)
    return garage::error(errc::invalid_argument,
                         "site kubeconfig Secret " + ns + "/" + secret + ": not base64");
  auto cfg = k8s::parse_kubeconfig(*text, "", "Secret " + ns + "/" + secret);
  if (!cfg) return std::move(cfg).error();
  auto t = k8s::make_rest_transport(*cfg);
  if (!t) return from_api(t.error(), "site kubeconfig Secret " + ns + "/" + secret);
  auto c = std::make_shared<k8s::client>(wrap_ ? wrap_(*t) : *t);
  std::lock_guard lock(mu_);
  cache_[id] = entry{rv, c};
  return c;
}

}  // namespace garage::op
