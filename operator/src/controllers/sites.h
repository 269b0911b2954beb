// The Kubernetes clusters ("sites") a GarageCluster's zones run in: the
// operator's own, or one reached through a kubeconfig held in a Secret of the
// GarageCluster's namespace. Clients are cached per Secret and rebuilt when
// the Secret changes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "k8s/client.h"
#include "k8s/transport.h"
#include "util/result.h"

namespace garage::op {

class sites {
 public:
  // `wrap` wraps every transport built here (the leader gate and API metrics).
  using wrapper = std::function<std::shared_ptr<k8s::transport>(std::shared_ptr<k8s::transport>)>;
  sites(std::shared_ptr<k8s::client> local, wrapper wrap);

  k8s::client& local() { return *local_; }
  std::shared_ptr<k8s::client> local_ptr() { return local_; }

  // The client of the site whose kubeconfig is Secret ns/secret, key; the
  // local client when secret is empty. Errors name the Secret and what is
  // wrong with it (missing, not a kubeconfig, bad certificates).
  result<std::shared_ptr<k8s::client>> get(const std::string& ns, const std::string& secret,
                                           const std::string& key);

 private:
  struct entry {
    std::string resource_version;
    std::shared_ptr<k8s::client> client;
  };
  std::shared_ptr<k8s::client> local_;
  wrapper wrap_;
  std::mutex mu_;
  std::map<std::string, entry> cache_;  // "ns/secret/key"
};

}  // namespace garage::op
