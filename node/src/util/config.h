// The node's configuration, read from a YAML file (see docs/configuration.md,
// which documents every key). Loading is strict: an unknown key, a value of
// the wrong type or out of range stops start-up with a message naming it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace garage {

struct s3_api_config {
  std::string api_bind_addr = "127.0.0.1:3900";
  std::string s3_region = "garage";
  // Suffix for virtual-host-style addressing, e.g. ".s3.garage.localhost".
  // Empty: path-style only.
  std::string root_domain;
};

// The static website endpoint (section s3_web; absent: not served).
struct s3_web_config {
  std::string bind_addr;  // e.g. "127.0.0.1:3902"
  // A Host of "<bucket>.<root_domain>" serves <bucket>; any other Host is
  // looked up whole as a bucket's global alias. Leading dot optional.
  std::string root_domain;
  // Index document of buckets whose configuration names none.
  std::string index = "index.html";
};

struct admin_api_config {
  std::string api_bind_addr = "127.0.0.1:3903";
  std::string admin_token;       // bearer token of the admin API
  std::string admin_token_file;  // alternative: read the token from this file
  std::string metrics_token;     // optional bearer token for /metrics; empty: open
};

struct config {
  std::string metadata_dir;
  std::string data_dir;
  bool metadata_fsync = false;
  bool data_fsync = false;
  uint64_t block_size = 1 << 20;
  // zstd level for stored blocks; 0 disables compression.
  int compression_level = 1;
  // 1: a standalone node (its data stays on it). 2 and more: a cluster node;
  // S3 data is replicated on that many nodes of the layout.
  uint32_t replication_factor = 1;
  // Quorums of a cluster: consistent, degraded or dangerous (rpc/quorum.h).
  std::string consistency_mode = "consistent";
  // How often a cluster node compares its tables with the other replicas
  // (anti-entropy); it also does right after a layout change.
  uint64_t sync_interval_secs = 60;
  // Objects up to this size are stored inline in the object entry.
  uint64_t inline_threshold = 3072;
  // How long a block whose reference count dropped to zero is kept before deletion.
  uint64_t block_gc_delay_secs = 600;
  // Unfinished uploads (a PUT whose client vanished, a crash mid-PUT) older than
  // this are aborted and their blocks reclaimed.
  uint64_t upload_timeout_secs = 3600;
  // How often the lifecycle worker applies each bucket's lifecycle rules (a
  // bucket is processed at most once per period of this length).
  uint64_t lifecycle_interval_secs = 86400;
  // For tests: the lifecycle worker acts as if the clock were this far ahead.
  uint64_t lifecycle_clock_offset_secs = 0;
  std::string log_level = "info";
  // RPC between the nodes of a cluster (rpc/network.h).
  std::string rpc_bind_addr = "127.0.0.1:3901";
  // The address other nodes are told to dial; empty: the bind address.
  std::string rpc_public_addr;
  // The cluster secret, 64 hex digits, the same on every node; or a file
  // holding it. Neither: a secret is generated in <metadata_dir>/rpc_secret
  // (a node alone; give every node of a cluster the same secret).
  std::string rpc_secret;
  std::string rpc_secret_file;
  // "<64 hex node id>@<host:port>" of nodes to join at start.
  std::vector<std::string> bootstrap_peers;
  s3_api_config s3_api;
  std::optional<s3_web_config> s3_web;
  admin_api_config admin;
};

// The value of an environment variable; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv).
env_lookup process_environment();

// Parses a YAML document. `origin` names it in error messages.
//
// `env` (none by default) supplies environment overrides, which win over the
// file; a variable that is unset or empty is ignored. Secrets, with Garage's
// names: GARAGE_RPC_SECRET, GARAGE_RPC_SECRET_FILE, GARAGE_ADMIN_TOKEN,
// GARAGE_ADMIN_TOKEN_FILE (a secret from the environment replaces both the
// value and the file option of the configuration), GARAGE_METRICS_TOKEN.
// Addresses, so that pods sharing one host's network each bind their own IP:
// GARAGE_RPC_BIND_ADDR, GARAGE_RPC_PUBLIC_ADDR, GARAGE_S3_API_BIND_ADDR,
// GARAGE_ADMIN_API_BIND_ADDR, GARAGE_S3_WEB_BIND_ADDR (enables s3_web when the
// file has no such section). A bad value is an invalid_argument error naming
// the variable. The checks that the file is complete (e.g. an admin token is
// given) run after the overrides, so the file may leave a secret to them.
result<config> parse_config(std::string_view yaml_text, std::string_view origin,
                            const env_lookup& env = {});
// Reads and parses `path` with the process environment's overrides.
result<config> load_config_file(const std::string& path);

// The embedded default configuration: one node, everything under `base_dir`,
// S3 on 127.0.0.1:3900, admin API on 127.0.0.1:3903, the admin token in
// `<base_dir>/admin_token` (created by the server on first start).
config default_config(const std::string& base_dir);

// Parses a size such as 1048576, "1M", "1MiB", "512K", "4 GB". nullopt if invalid.
std::optional<uint64_t> parse_size(std::string_view s);

// Splits "host:port" ("[::1]:3900" for IPv6). Errors name the option.
struct host_port {
  std::string host;
  uint16_t port = 0;
};
result<host_port> parse_host_port(std::string_view s, std::string_view option);

}  // namespace garage
