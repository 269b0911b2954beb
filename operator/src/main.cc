// garage-operator: flags, then either --check (reach and authenticate to a
// Kubernetes API) or the operator itself (controllers/manager.h).
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/manager.h"
#include "k8s/client.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest_transport.h"
#include "version.h"

namespace {

using namespace garage;

constexpr const char* usage =
    "usage: garage-operator [--kubeconfig FILE] [--context NAME] [--namespace NS]\n"
    "                       [--leader-elect] [--leader-election-namespace NS] [--id NAME]\n"
    "                       [--health-addr ADDR] [--metrics-addr ADDR]\n"
    "       garage-operator [--kubeconfig FILE] [--context NAME] --check\n"
    "       garage-operator --version | --help\n"
    "\n"
    "  --check            connect to the Kubernetes API, print its version, exit\n"
    "  --namespace NS     watch only this namespace (default: every namespace)\n"
    "  --leader-elect     act only while holding the Lease garage-operator (for replicas > 1)\n"
    "  --leader-election-namespace NS  where the Lease is (default: the configuration's "
    "namespace)\n"
    "  --id NAME          this replica's identity in the Lease (default: hostname_pid)\n"
    "  --health-addr ADDR /healthz, /readyz and /metrics (default :8081; port 0 picks one)\n"
    "  --metrics-addr ADDR  also serve them there (default: only --health-addr)\n"
    "  --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
    "  --context NAME     context of the kubeconfig (default: its current-context)\n"
    "  --version          print the version and exit\n";

struct args {
  std::string kubeconfig;
  std::string context;
  std::string ns, leader_ns, id, health_addr = ":8081", metrics_addr;
  bool leader_elect = false;
  bool check = false;
  bool version = false;
  bool help = false;
};

// Returns false (with a message on stderr) on a bad command line.
bool parse(int argc, char** argv, args& a) {
  std::vector<std::string_view> v(argv + 1, argv + argc);
  for (size_t i = 0; i < v.size(); ++i) {
    std::string_view arg = v[i];
    std::string_view value;
    bool inline_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    auto take = [&](std::string& out) {
      if (inline_value) {
        out = value;
      } else if (i + 1 < v.size()) {
        out = v[++i];
      } else {
        std::cerr << "garage-operator: " << arg << " needs a value\n";
        return false;
      }
      if (out.empty()) {
        std::cerr << "garage-operator: " << arg << " needs a non-empty value\n";
        return false;
      }
      return true;
    };
    auto flag = [&](bool& out) {
      if (inline_value) {
        std::cerr << "garage-operator: " << arg << " takes no value\n";
        return false;
      }
      out = true;
      return true;
    };
    bool ok;
    if (arg == "--kubeconfig")
      ok = take(a.kubeconfig);
    else if (arg == "--context")
      ok = take(a.context);
    else if (arg == "--namespace")
      ok = take(a.ns);
    else if (arg == "--leader-election-namespace")
      ok = take(a.leader_ns);
    else if (arg == "--id")
      ok = take(a.id);
    else if (arg == "--health-addr")
      ok = take(a.health_addr);
    else if (arg == "--metrics-addr")
      ok = take(a.metrics_addr);
    else if (arg == "--leader-elect")
      ok = flag(a.leader_elect);
    else if (arg == "--check")
      ok = flag(a.check);
    else if (arg == "--version")
      ok = flag(a.version);
    else if (arg == "--help" || arg == "-h")
      ok = flag(a.help);
    else {
      std::cerr << "garage-operator: unknown argument '" << v[i] << "'\n";
      ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

int check(const args& a) {
  auto config = k8s::load_default(a.kubeconfig, a.context);
  if (!config) {
    std::cerr << "garage-operator: " << config.error().message << "\n";
    return 1;
  }
  k8s::rest_options options;
  options.request_timeout = std::chrono::seconds(10);
  options.user_agent = "garage-operator/" + std::string(op::operator_version);
  auto transport = k8s::make_rest_transport(*config, options);
  if (!transport) {
    std::cerr << "garage-operator: " << transport.error().message << "\n";
    return 1;
  }
  k8s::client client(*transport);
  auto version = client.get_path("/version");
  if (!version) {
    std::cerr << "garage-operator: cannot reach the Kubernetes API at " << config->server << ": "
              << version.error().to_string() << "\n";
    return 1;
  }
  // /version is public on most clusters; discovery needs an authenticated user.
  if (auto api = client.get_path("/api"); !api) {
    std::cerr << "garage-operator: the Kubernetes API at " << config->server
              << " refuses this identity: " << api.error().to_string() << "\n";
    return 1;
  }
  std::cout << "server: " << config->server << "\n"
            << "context: " << (config->context.empty() ? "(in-cluster)" : config->context) << "\n"
            << "version: " << version->value("gitVersion", "unknown") << "\n";
  auto crds = client.get_path("/apis/objectstore.garage-cpp.dev/v1alpha1");
  if (crds) {
    std::cout << "crds: installed\n";
  } else if (crds.error().is_not_found()) {
    std::cout << "crds: not installed (kubectl apply -f crds/)\n";
  } else {
    std::cout << "crds: unknown (" << crds.error().to_string() << ")\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  args a;
  if (!parse(argc, argv, a)) {
    std::cerr << usage;
    return 2;
  }
  if (a.help) {
    std::cout << usage;
    return 0;
  }
  if (a.version) {
    std::cout << "garage-operator " << op::operator_version << "\n";
    return 0;
  }
  if (a.check) return check(a);
  auto config = k8s::load_default(a.kubeconfig, a.context);
  if (!config) {
    std::cerr << "garage-operator: " << config.error().message << "\n";
    return 1;
  }
  op::run_options o;
  o.kube = *config;
  o.watch_namespace = a.ns;
  o.leader_elect = a.leader_elect;
  o.leader_namespace = a.leader_ns;
  o.identity = a.id;
  o.health_addr = a.health_addr;
  o.metrics_addr = a.metrics_addr;
  return op::run_operator(o);
}
