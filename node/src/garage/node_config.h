// Where the `garage` binary gets its configuration, for the server and the
// command line alike:
//   -c FILE, else $GARAGE_CONFIG, else the built-in configuration under a
//   base directory (--default-config DIR, default ./garage-data).
// And the admin token: admin.admin_token, or the contents of
// admin.admin_token_file (surrounding whitespace removed).
#pragma once

#include <optional>
#include <string>

#include "util/config.h"
#include "util/result.h"

namespace garage::cli {

inline constexpr const char* default_base_dir = "./garage-data";

struct config_source {
  config cfg;
  bool is_default = false;  // the built-in configuration (not a file)
  std::string origin;       // the file, or "built-in configuration under DIR"
};

// `config_path` from -c; `default_dir` from --default-config. Errors carry the
// message of the loader, which names the file and the offending key.
result<config_source> resolve_config(const std::optional<std::string>& config_path,
                                     const std::optional<std::string>& default_dir);

// The admin token of `cfg`. not_found when the token file does not exist.
result<std::string> read_admin_token(const config& cfg);

// For the built-in configuration: creates the token file (64 random hex
// digits, mode 0600, its directory too) when it does not exist, and returns
// the token.
result<std::string> ensure_admin_token(const config& cfg);

// The cluster's rpc_secret as 32 raw bytes: rpc_secret, else the file
// rpc_secret_file, else <metadata_dir>/rpc_secret. A missing file is created
// (64 random hex digits, mode 0600) when `create` is set, or when it is the
// metadata_dir default. Errors name the option (invalid_argument: not 64 hex
// digits; not_found; io_error).
result<std::string> resolve_rpc_secret(const config& cfg, bool create);

// The address to connect to for a bind address: 0.0.0.0 → 127.0.0.1,
// [::] → [::1]; others unchanged.
std::string connect_address(const std::string& bind_addr);

}  // namespace garage::cli
