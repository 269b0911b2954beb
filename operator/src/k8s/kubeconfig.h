// Where the Kubernetes API is and how to authenticate to it: from a kubeconfig
// file (as kubectl reads it) or from inside a pod (service account).
//
// Supported in kubeconfig files: current-context or a named context; clusters
// with server, certificate-authority / -data, insecure-skip-tls-verify;
// users with token, tokenFile, client-certificate / -data and client-key /
// -data. Relative file paths are relative to the kubeconfig's directory.
// Several files (KUBECONFIG=a:b) merge as kubectl merges them: the first file
// that names a context, cluster or user, or sets current-context, wins.
// Not supported (a clear error, not a silent fallback): exec and
// auth-provider plugins, username/password.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace garage::k8s {

struct cluster_config {
  std::string server;  // "https://host:port", no trailing slash
  std::string ca_pem;  // trusted CA certificates (PEM); empty: the system's
  bool insecure_skip_tls_verify = false;
  std::string token;       // bearer token, when given inline
  std::string token_file;  // bearer token file, re-read as it rotates
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string default_namespace = "default";
  std::string context;  // the context used ("" in-cluster)
  std::string source;   // where this came from, for messages
};

// Reads kubeconfig files (merged in order) and resolves `context`, or the
// current-context when empty. Errors (invalid_argument, not_found, io_error,
// not_implemented) name the file and the key at fault.
result<cluster_config> load_kubeconfig(const std::vector<std::string>& paths,
                                       const std::string& context = {});

// A kubeconfig given as text (e.g. a Secret's key), resolved like
// load_kubeconfig; `source_name` ("secret ns/name key kubeconfig") names it in
// messages. File paths in it must be absolute: a relative one is an
// invalid_argument error (there is no directory to resolve it against).
result<cluster_config> parse_kubeconfig(const std::string& yaml_text, const std::string& context,
                                        const std::string& source_name);

// The files named by a KUBECONFIG value ("a:b:c"; empty entries skipped).
std::vector<std::string> split_kubeconfig_env(const std::string& value);

using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment.
std::optional<std::string> process_env(const std::string& name);

// In-cluster: KUBERNETES_SERVICE_HOST / _PORT from `env`, and token, ca.crt
// and namespace from `sa_dir` (the service account mount). not_found when
// the environment says this is not a pod.
inline constexpr const char* service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
result<cluster_config> load_in_cluster(const env_lookup& env = process_env,
                                       const std::string& sa_dir = service_account_dir);

// As controller-runtime picks: `explicit_path` (--kubeconfig) if given; else
// $KUBECONFIG; else in-cluster; else ~/.kube/config.
result<cluster_config> load_default(const std::string& explicit_path, const std::string& context,
                                    const env_lookup& env = process_env,
                                    const std::string& sa_dir = service_account_dir);

}  // namespace garage::k8s
