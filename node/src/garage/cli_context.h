// What the command implementations share: the command, the API caller, the
// output streams, and helpers to call the API and print. Internal to the CLI.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "garage/cli.h"

namespace garage::cli {

using json = nlohmann::json;

struct context {
  const command& cmd;
  const api_caller& call;
  std::ostream& out;

  // Calls the admin API. A reply that is not 2xx becomes an error carrying the
  // API's message and code ("access key GK12 not found (NoSuchAccessKey)");
  // an empty 2xx body is an empty object.
  result<json> api(const std::string& method, const std::string& target,
                   const std::optional<json>& body = std::nullopt) const;

  // Prints a JSON document as the API gave it (for --json).
  void print_json(const json& j) const;
};

// Looks up a key by id, id prefix or name (GetKeyInfo?search=).
result<json> find_key(const context& ctx, const std::string& pattern, bool show_secret = false);
// Looks up a bucket by global alias or id prefix (GetBucketInfo?search=).
result<json> find_bucket(const context& ctx, const std::string& pattern);

// Human output of a GetKeyInfoResponse / GetBucketInfoResponse.
std::string render_key_info(const json& key);
std::string render_bucket_info(const json& bucket);

// Commands. Each returns an error to print, or prints its result.
result<void> cmd_status(const context& ctx);
result<void> cmd_key(const context& ctx);     // every "key ..." command
result<void> cmd_bucket(const context& ctx);  // every "bucket ..." command
result<void> cmd_layout(const context& ctx);  // every "layout ..." command
result<void> cmd_node(const context& ctx);    // node id, node connect
result<void> cmd_worker(const context& ctx);  // every "worker ..." command

}  // namespace garage::cli
