#include "k8s/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "util/encoding.h"

namespace garage::k8s {

namespace {

namespace fs = std::filesystem;

result<std::string> read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return error(errc::io_error, "cannot read " + what + " " + path + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One named entry of a kubeconfig list, with the directory of its file for
// resolving relative paths.
struct entry {
  YAML::Node body;
  std::string file;
  std::string dir;
  bool no_dir = false;  // parsed from text: relative paths mean nothing
};

struct merged {
  std::string current_context;
  std::map<std::string, entry> contexts, clusters, users;
};

std::string scalar(const YAML::Node& map, const char* key) {
  auto n = map[key];
  if (!n || n.IsNull()) return {};
  return n.as<std::string>();
}

result<void> merge_list(const YAML::Node& root, const char* list_key, const char* body_key,
                        const std::string& file, std::map<std::string, entry>& out,
                        bool no_dir = false) {
  auto list = root[list_key];
  if (!list || list.IsNull()) return ok();
  if (!list.IsSequence())
    return error(errc::invalid_argument, file + ": " + list_key + " is not a list");
  for (const auto& item : list) {
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar())
      return error(errc::invalid_argument, file + ": an entry of " + list_key + " has no name");
    auto name = item["name"].as<std::string>();
    auto body = item[body_key];
    if (body && !body.IsNull() && !body.IsMap())
      return error(errc::invalid_argument,
                   file + ": " + list_key + " entry '" + name + "': " + body_key + " is not a map");
    auto dir = no_dir ? std::string() : fs::path(file).parent_path().string();
    out.emplace(name, entry{body ? body : YAML::Node(YAML::NodeType::Map), file, dir,
                            no_dir});  // first wins
  }
  return ok();
}

// `file` names the source in messages; `no_dir`: the text came from no file
// (a Secret), so relative paths in it are refused.
result<void> merge_text(const std::string& text, const std::string& file, merged& m, bool no_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return error(errc::invalid_argument, file + ": not YAML: " + e.what());
  }
  if (!root || root.IsNull()) return ok();  // an empty file is an empty config
  if (!root.IsMap()) return error(errc::invalid_argument, file + ": not a kubeconfig (not a map)");
  try {
    if (m.current_context.empty()) m.current_context = scalar(root, "current-context");
    GARAGE_TRY(merge_list(root, "contexts", "context", file, m.contexts, no_dir));
    GARAGE_TRY(merge_list(root, "clusters", "cluster", file, m.clusters, no_dir));
    GARAGE_TRY(merge_list(root, "users", "user", file, m.users, no_dir));
  } catch (const YAML::Exception& e) {
    return error(errc::invalid_argument, file + ": " + e.what());
  }
  return ok();
}

result<void> merge_file(const std::string& file, merged& m) {
  GARAGE_ASSIGN_OR_RETURN(auto text, read_file(file, "kubeconfig"));
  return merge_text(text, file, m, false);
}

std::string resolve_path(const std::string& path, const std::string& dir) {
  if (path.empty() || fs::path(path).is_absolute() || dir.empty()) return path;
  return (fs::path(dir) / path).string();
}

// A file path of an entry, resolved against its file's directory; refused
// when relative in a kubeconfig that came from no file.
result<std::string> entry_path(const entry& e, const std::string& path, const std::string& key,
                               const std::string& where) {
  if (e.no_dir && !path.empty() && !fs::path(path).is_absolute())
    return error(errc::invalid_argument,
                 where + ": " + key + " '" + path +
                     "' is a relative path, which means nothing in a kubeconfig that is not a "
                     "file; embed it (" +
                     key + "-data, token) or give an absolute path");
  return resolve_path(path, e.dir);
}

// PEM from `<key>-data` (base64) or from the file `<key>`.
result<std::string> pem_field(const entry& e, const std::string& key, const std::string& where) {
  auto data = scalar(e.body, (key + "-data").c_str());
  if (!data.empty()) {
    auto decoded = base64_decode(data);
    if (!decoded) return error(errc::invalid_argument, where + ": " + key + "-data is not base64");
    return *decoded;
  }
  auto path = scalar(e.body, key.c_str());
  if (path.empty()) return std::string();
  GARAGE_ASSIGN_OR_RETURN(auto resolved, entry_path(e, path, key, where));
  auto r = read_file(resolved, key);
  if (!r) return error(r.error().code, where + ": " + r.error().message);
  return r;
}

bool parse_bool(const std::string& s) { return s == "true" || s == "True" || s == "yes"; }

result<void> fill_cluster(const entry& e, const std::string& name, cluster_config& c) {
  auto where = e.file + ": cluster '" + name + "'";
  c.server = scalar(e.body, "server");
  if (c.server.empty()) return error(errc::invalid_argument, where + " has no server");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    return error(errc::invalid_argument,
                 where + ": server '" + c.server + "' is not an http(s) URL");
  while (c.server.size() > 8 && c.server.back() == '/') c.server.pop_back();
  GARAGE_ASSIGN_OR_RETURN(c.ca_pem, pem_field(e, "certificate-authority", where));
  c.insecure_skip_tls_verify = parse_bool(scalar(e.body, "insecure-skip-tls-verify"));
  if (!scalar(e.body, "proxy-url").empty())
    return error(errc::not_implemented, where + ": proxy-url is not supported");
  return ok();
}

result<void> fill_user(const entry& e, const std::string& name, cluster_config& c) {
  auto where = e.file + ": user '" + name + "'";
  if (e.body["exec"])
    return error(
        errc::not_implemented,
        where + ": exec credential plugins are not supported; use a token or a client certificate");
  if (e.body["auth-provider"])
    return error(
        errc::not_implemented,
        where + ": auth-provider plugins are not supported; use a token or a client certificate");
  if (!scalar(e.body, "username").empty() || !scalar(e.body, "password").empty())
    return error(errc::not_implemented,
                 where + ": basic authentication (username/password) is not supported");
  c.token = scalar(e.body, "token");
  auto token_file = scalar(e.body, "tokenFile");
  if (token_file.empty()) token_file = scalar(e.body, "token-file");
  if (!token_file.empty()) {
    GARAGE_ASSIGN_OR_RETURN(c.token_file, entry_path(e, token_file, "tokenFile", where));
    if (auto r = read_file(c.token_file, "token file"); !r)
      return error(r.error().code, where + ": " + r.error().message);
  }
  GARAGE_ASSIGN_OR_RETURN(c.client_cert_pem, pem_field(e, "client-certificate", where));
  GARAGE_ASSIGN_OR_RETURN(c.client_key_pem, pem_field(e, "client-key", where));
  if (c.client_cert_pem.empty() != c.client_key_pem.empty())
    return error(errc::invalid_argument,
                 where + ": a client certificate needs its key and a key its certificate");
  return ok();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::vector<std::string> split_kubeconfig_env(const std::string& value) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(value);
  while (std::getline(in, cur, ':'))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

namespace {

// The cluster_config of `context` (or the current one) in merged kubeconfig
// `m`; `files` names its source in messages.
result<cluster_config> resolve(const merged& m, const std::string& files,
                               const std::string& context) {
  cluster_config c;
  c.source = files;
  c.context = context.empty() ? m.current_context : context;
  if (c.context.empty())
    return error(errc::invalid_argument,
                 files + ": no current-context; name a context (--context)");
  auto ctx = m.contexts.find(c.context);
  if (ctx == m.contexts.end())
    return error(errc::not_found, files + ": no context '" + c.context + "'");
  try {
    auto cluster_name = scalar(ctx->second.body, "cluster");
    auto user_name = scalar(ctx->second.body, "user");
    auto ns = scalar(ctx->second.body, "namespace");
    if (!ns.empty()) c.default_namespace = ns;
    if (cluster_name.empty())
      return error(errc::invalid_argument,
                   files + ": context '" + c.context + "' names no cluster");
    auto cl = m.clusters.find(cluster_name);
    if (cl == m.clusters.end())
      return error(errc::not_found, files + ": context '" + c.context + "' names cluster '" +
                                        cluster_name + "', which is not defined");
    GARAGE_TRY(fill_cluster(cl->second, cluster_name, c));
    if (!user_name.empty()) {
      auto u = m.users.find(user_name);
      if (u == m.users.end())
        return error(errc::not_found, files + ": context '" + c.context + "' names user '" +
                                          user_name + "', which is not defined");
      GARAGE_TRY(fill_user(u->second, user_name, c));
    }
  } catch (const YAML::Exception& e) {
    return error(errc::invalid_argument, files + ": " + e.what());
  }
  return c;
}

}  // namespace

result<cluster_config> load_kubeconfig(const std::vector<std::string>& paths,
                                       const std::string& context) {
  if (paths.empty()) return error(errc::invalid_argument, "no kubeconfig file given");
  merged m;
  for (const auto& p : paths) GARAGE_TRY(merge_file(p, m));
  std::string files;
  for (const auto& p : paths) files += (files.empty() ? "" : ":") + p;
  return resolve(m, files, context);
}

result<cluster_config> parse_kubeconfig(const std::string& yaml_text, const std::string& context,
                                        const std::string& source_name) {
  merged m;
  GARAGE_TRY(merge_text(yaml_text, source_name, m, true));
  return resolve(m, source_name, context);
}

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

result<cluster_config> load_in_cluster(const env_lookup& env, const std::string& sa_dir) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty())
    return error(errc::not_found,
                 "not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  cluster_config c;
  c.source = "in-cluster (" + sa_dir + ")";
  bool ipv6 = host->find(':') != std::string::npos;
  c.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  c.token_file = sa_dir + "/token";
  GARAGE_TRY(read_file(c.token_file, "service account token"));
  GARAGE_ASSIGN_OR_RETURN(c.ca_pem, read_file(sa_dir + "/ca.crt", "service account CA"));
  auto ns = read_file(sa_dir + "/namespace", "namespace");
  if (ns && !trim(*ns).empty()) c.default_namespace = trim(*ns);
  return c;
}

result<cluster_config> load_default(const std::string& explicit_path, const std::string& context,
                                    const env_lookup& env, const std::string& sa_dir) {
  if (!explicit_path.empty()) return load_kubeconfig({explicit_path}, context);
  if (auto v = env("KUBECONFIG"); v && !split_kubeconfig_env(*v).empty())
    return load_kubeconfig(split_kubeconfig_env(*v), context);
  auto in_cluster = load_in_cluster(env, sa_dir);
  if (in_cluster || in_cluster.error().code != errc::not_found) return in_cluster;
  if (auto home = env("HOME"); home && !home->empty()) {
    auto path = *home + "/.kube/config";
    if (fs::exists(path)) return load_kubeconfig({path}, context);
  }
  return error(errc::not_found,
               "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, or "
               "write ~/.kube/config");
}

}  // namespace garage::k8s
