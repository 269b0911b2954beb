#include "util/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace garage {
namespace {

error bad(std::string_view origin, std::string_view key, std::string_view what) {
  return error(errc::invalid_argument,
               std::string(origin) + ": option '" + std::string(key) + "': " + std::string(what));
}

// Each section is a table of option name -> setter; a key not in the table is
// an error naming it, so a typo never silently falls back to a default.
using setter = std::function<result<void>(const YAML::Node&, const std::string& key)>;

result<void> apply_section(const YAML::Node& node, const std::map<std::string, setter>& setters,
                           std::string_view origin, const std::string& prefix) {
  if (!node.IsMap())
    return bad(origin, prefix.empty() ? "(top level)" : prefix, "expected a mapping");
  for (const auto& kv : node) {
    if (!kv.first.IsScalar())
      return bad(origin, prefix.empty() ? "(top level)" : prefix,
                 "option names must be plain strings");
    std::string key = kv.first.Scalar();
    std::string full = prefix.empty() ? key : prefix + "." + key;
    auto it = setters.find(key);
    if (it == setters.end()) return bad(origin, full, "unknown option");
    GARAGE_TRY(it->second(kv.second, full));
  }
  return ok();
}

setter string_opt(std::string& out, std::string_view origin) {
  return [&out, origin](const YAML::Node& n, const std::string& key) -> result<void> {
    if (!n.IsScalar()) return bad(origin, key, "expected a string");
    out = n.as<std::string>();
    return ok();
  };
}

setter bool_opt(bool& out, std::string_view origin) {
  return [&out, origin](const YAML::Node& n, const std::string& key) -> result<void> {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
      return bad(origin, key,
                 "expected true or false, got '" + (n.IsScalar() ? n.Scalar() : "?") + "'");
    out = v;
    return ok();
  };
}

setter uint_opt(uint64_t& out, std::string_view origin, uint64_t min, uint64_t max,
                bool sizes = false) {
  return
      [&out, origin, min, max, sizes](const YAML::Node& n, const std::string& key) -> result<void> {
        if (!n.IsScalar()) return bad(origin, key, "expected a number");
        std::optional<uint64_t> v;
        if (sizes) {
          v = parse_size(n.Scalar());
        } else {
          uint64_t x = 0;
          auto s = n.Scalar();
          auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
          if (ec == std::errc() && p == s.data() + s.size()) v = x;
        }
        if (!v)
          return bad(origin, key,
                     "expected a " + std::string(sizes ? "size" : "number") + ", got '" +
                         n.Scalar() + "'");
        if (*v < min || *v > max)
          return bad(origin, key,
                     "value " + std::to_string(*v) + " out of range [" + std::to_string(min) +
                         ", " + std::to_string(max) + "]");
        out = *v;
        return ok();
      };
}

setter string_list_opt(std::vector<std::string>& out, std::string_view origin) {
  return [&out, origin](const YAML::Node& n, const std::string& key) -> result<void> {
    if (!n.IsSequence()) return bad(origin, key, "expected a list of strings");
    out.clear();
    for (const auto& item : n) {
      if (!item.IsScalar()) return bad(origin, key, "expected a list of strings");
      out.push_back(item.Scalar());
    }
    return ok();
  };
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// "<64 hex digits>@<host:port>", as rpc/wire.h parses it.
result<void> check_peer_address(std::string_view origin, const std::string& s) {
  auto at = s.find('@');
  if (at != 64 || !is_hex(std::string_view(s).substr(0, 64)))
    return bad(origin, "bootstrap_peers",
               "'" + s + "': expected <node id: 64 hex digits>@<host:port>");
  GARAGE_TRY(parse_host_port(std::string_view(s).substr(65), "bootstrap_peers"));
  return ok();
}

error bad_env(std::string_view origin, const std::string& var, std::string_view what) {
  return error(errc::invalid_argument,
               std::string(origin) + ": environment variable " + var + ": " + std::string(what));
}

// The environment overrides of parse_config (see config.h). `web`/`has_web`
// are the s3_web section as read from the file so far.
result<void> apply_env(config& c, s3_web_config& web, bool& has_web, const env_lookup& env,
                       std::string_view origin) {
  auto get = [&env](const std::string& var) -> std::optional<std::string> {
    auto v = env(var);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  auto address = [&](const std::string& var, std::string& out) -> result<bool> {
    auto v = get(var);
    if (!v) return false;
    auto hp = parse_host_port(*v, var);
    if (!hp) return bad_env(origin, var, "expected host:port or [ipv6]:port, got '" + *v + "'");
    if (hp->host.empty())
      return bad_env(origin, var, "'" + *v + "' has no host (write 0.0.0.0:PORT or [::]:PORT)");
    out = *v;
    return true;
  };
  GARAGE_TRY(address("GARAGE_RPC_BIND_ADDR", c.rpc_bind_addr));
  GARAGE_TRY(address("GARAGE_RPC_PUBLIC_ADDR", c.rpc_public_addr));
  GARAGE_TRY(address("GARAGE_S3_API_BIND_ADDR", c.s3_api.api_bind_addr));
  GARAGE_TRY(address("GARAGE_ADMIN_API_BIND_ADDR", c.admin.api_bind_addr));
  auto web_set = address("GARAGE_S3_WEB_BIND_ADDR", web.bind_addr);
  if (!web_set) return std::move(web_set).error();
  if (*web_set) has_web = true;

  // A secret and its file: the environment replaces both options of the file.
  auto secret = [&](const std::string& var, const std::string& file_var, std::string& value,
                    std::string& file) -> result<void> {
    auto v = get(var);
    auto f = get(file_var);
    if (v && f) return bad_env(origin, var, "give " + var + " or " + file_var + ", not both");
    if (v) {
      value = *v;
      file.clear();
    } else if (f) {
      file = *f;
      value.clear();
    }
    return ok();
  };
  GARAGE_TRY(
      secret("GARAGE_RPC_SECRET", "GARAGE_RPC_SECRET_FILE", c.rpc_secret, c.rpc_secret_file));
  if (get("GARAGE_RPC_SECRET") && (c.rpc_secret.size() != 64 || !is_hex(c.rpc_secret)))
    return bad_env(origin, "GARAGE_RPC_SECRET",
                   "expected 64 hex digits (32 bytes), e.g. from 'openssl rand -hex 32'");
  GARAGE_TRY(secret("GARAGE_ADMIN_TOKEN", "GARAGE_ADMIN_TOKEN_FILE", c.admin.admin_token,
                    c.admin.admin_token_file));
  if (auto v = get("GARAGE_METRICS_TOKEN")) c.admin.metrics_token = *v;
  return ok();
}

}  // namespace

env_lookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::optional<uint64_t> parse_size(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  std::string unit(p, s.data() + s.size());
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::map<std::string, uint64_t> units = {
      {"", 1},
      {"B", 1},
      {"K", 1ull << 10},
      {"KB", 1000},
      {"KIB", 1ull << 10},
      {"M", 1ull << 20},
      {"MB", 1000000},
      {"MIB", 1ull << 20},
      {"G", 1ull << 30},
      {"GB", 1000000000},
      {"GIB", 1ull << 30},
      {"T", 1ull << 40},
      {"TB", 1000000000000},
      {"TIB", 1ull << 40},
  };
  auto it = units.find(unit);
  if (it == units.end()) return std::nullopt;
  if (v > UINT64_MAX / it->second) return std::nullopt;
  return v * it->second;
}

result<host_port> parse_host_port(std::string_view s, std::string_view option) {
  host_port hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return error(errc::invalid_argument,
                   std::string(option) + ": expected [ipv6]:port, got '" + std::string(s) + "'");
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
      return error(errc::invalid_argument,
                   std::string(option) + ": expected host:port, got '" + std::string(s) + "'");
    hp.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || p != port.data() + port.size() || v > 65535)
    return error(errc::invalid_argument,
                 std::string(option) + ": bad port in '" + std::string(s) + "'");
  hp.port = static_cast<uint16_t>(v);
  return hp;
}

result<config> parse_config(std::string_view yaml_text, std::string_view origin,
                            const env_lookup& env) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return error(errc::invalid_argument, std::string(origin) + ": not valid YAML: " + e.what());
  }
  config c;
  uint64_t compression = static_cast<uint64_t>(c.compression_level);
  uint64_t rf = c.replication_factor;

  std::map<std::string, setter> s3 = {
      {"api_bind_addr", string_opt(c.s3_api.api_bind_addr, origin)},
      {"s3_region", string_opt(c.s3_api.s3_region, origin)},
      {"root_domain", string_opt(c.s3_api.root_domain, origin)},
  };
  s3_web_config web;
  bool has_web = false;
  std::map<std::string, setter> web_opts = {
      {"bind_addr", string_opt(web.bind_addr, origin)},
      {"root_domain", string_opt(web.root_domain, origin)},
      {"index", string_opt(web.index, origin)},
  };
  std::map<std::string, setter> admin = {
      {"api_bind_addr", string_opt(c.admin.api_bind_addr, origin)},
      {"admin_token", string_opt(c.admin.admin_token, origin)},
      {"admin_token_file", string_opt(c.admin.admin_token_file, origin)},
      {"metrics_token", string_opt(c.admin.metrics_token, origin)},
  };
  auto section = [&](std::map<std::string, setter>& table) -> setter {
    return [&table, origin](const YAML::Node& n, const std::string& key) {
      return apply_section(n, table, origin, key);
    };
  };
  std::map<std::string, setter> top = {
      {"metadata_dir", string_opt(c.metadata_dir, origin)},
      {"data_dir", string_opt(c.data_dir, origin)},
      {"metadata_fsync", bool_opt(c.metadata_fsync, origin)},
      {"data_fsync", bool_opt(c.data_fsync, origin)},
      {"block_size", uint_opt(c.block_size, origin, 4096, 64ull << 20, true)},
      {"compression_level", uint_opt(compression, origin, 0, 19)},
      {"replication_factor", uint_opt(rf, origin, 1, 7)},
      {"consistency_mode", string_opt(c.consistency_mode, origin)},
      {"sync_interval_secs", uint_opt(c.sync_interval_secs, origin, 1, 7ull * 86400)},
      {"inline_threshold", uint_opt(c.inline_threshold, origin, 0, 64 * 1024, true)},
      {"block_gc_delay_secs", uint_opt(c.block_gc_delay_secs, origin, 0, 365ull * 86400)},
      {"upload_timeout_secs", uint_opt(c.upload_timeout_secs, origin, 1, 365ull * 86400)},
      {"lifecycle_interval_secs", uint_opt(c.lifecycle_interval_secs, origin, 1, 365ull * 86400)},
      {"lifecycle_clock_offset_secs",
       uint_opt(c.lifecycle_clock_offset_secs, origin, 0, 100ull * 365 * 86400)},
      {"log_level", string_opt(c.log_level, origin)},
      {"rpc_bind_addr", string_opt(c.rpc_bind_addr, origin)},
      {"rpc_public_addr", string_opt(c.rpc_public_addr, origin)},
      {"rpc_secret", string_opt(c.rpc_secret, origin)},
      {"rpc_secret_file", string_opt(c.rpc_secret_file, origin)},
      {"bootstrap_peers", string_list_opt(c.bootstrap_peers, origin)},
      {"s3_api", section(s3)},
      {"admin", section(admin)},
      {"s3_web",
       [&, origin](const YAML::Node& n, const std::string& key) {
         has_web = true;
         return apply_section(n, web_opts, origin, key);
       }},
  };
  if (root.IsNull()) return bad(origin, "(top level)", "the file is empty");
  // yaml-cpp reports some malformed values by throwing from accessors; none
  // of that may escape as a crash.
  try {
    GARAGE_TRY(apply_section(root, top, origin, ""));
  } catch (const YAML::Exception& e) {
    return error(errc::invalid_argument, std::string(origin) + ": " + e.what());
  }
  c.compression_level = static_cast<int>(compression);
  c.replication_factor = static_cast<uint32_t>(rf);
  if (env) GARAGE_TRY(apply_env(c, web, has_web, env, origin));

  if (c.metadata_dir.empty()) return bad(origin, "metadata_dir", "is required");
  if (c.data_dir.empty()) return bad(origin, "data_dir", "is required");
  if (c.consistency_mode != "consistent" && c.consistency_mode != "degraded" &&
      c.consistency_mode != "dangerous")
    return bad(origin, "consistency_mode",
               "must be consistent, degraded or dangerous; got '" + c.consistency_mode + "'");
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(levels), std::end(levels), c.log_level) == std::end(levels))
    return bad(origin, "log_level",
               "expected trace, debug, info, warn, error or off; got '" + c.log_level + "'");
  GARAGE_TRY(parse_host_port(c.s3_api.api_bind_addr, "s3_api.api_bind_addr"));
  GARAGE_TRY(parse_host_port(c.admin.api_bind_addr, "admin.api_bind_addr"));
  GARAGE_TRY(parse_host_port(c.rpc_bind_addr, "rpc_bind_addr"));
  if (!c.rpc_public_addr.empty()) GARAGE_TRY(parse_host_port(c.rpc_public_addr, "rpc_public_addr"));
  if (!c.rpc_secret.empty() && (c.rpc_secret.size() != 64 || !is_hex(c.rpc_secret)))
    return bad(origin, "rpc_secret",
               "expected 64 hex digits (32 bytes), e.g. from 'openssl rand -hex 32'");
  if (!c.rpc_secret.empty() && !c.rpc_secret_file.empty())
    return bad(origin, "rpc_secret_file", "give rpc_secret or rpc_secret_file, not both");
  for (const auto& p : c.bootstrap_peers) GARAGE_TRY(check_peer_address(origin, p));
  if (has_web) {
    if (web.bind_addr.empty()) return bad(origin, "s3_web.bind_addr", "is required");
    GARAGE_TRY(parse_host_port(web.bind_addr, "s3_web.bind_addr"));
    if (web.index.empty()) return bad(origin, "s3_web.index", "must not be empty");
    c.s3_web = std::move(web);
  }
  if (c.admin.admin_token.empty() && c.admin.admin_token_file.empty())
    return bad(origin, "admin.admin_token",
               "one of admin.admin_token or admin.admin_token_file is required");
  if (!c.admin.admin_token.empty() && !c.admin.admin_token_file.empty())
    return bad(origin, "admin.admin_token_file",
               "give admin.admin_token or admin.admin_token_file, not both");
  return c;
}

result<config> load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return error(errc::not_found, "cannot read configuration file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, process_environment());
}

config default_config(const std::string& base_dir) {
  config c;
  c.metadata_dir = base_dir + "/meta";
  c.data_dir = base_dir + "/data";
  c.admin.admin_token_file = base_dir + "/admin_token";
  c.rpc_secret_file = base_dir + "/rpc_secret";
  c.s3_web = s3_web_config{"127.0.0.1:3902", ".web.garage.localhost", "index.html"};
  return c;
}

}  // namespace garage
