// A bucket's website configuration (what PutBucketWebsite accepted), stored
// in bucket.website as the JSON written by website_to_json; a bucket with a
// non-empty website document has website access enabled. Pure functions,
// thread-safe: api/s3 writes and reads it back, the web endpoint serves by it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace garage::model {

struct website_redirect_all {
  std::string host_name;
  std::string protocol;  // "http", "https" or empty (the request's)
  bool operator==(const website_redirect_all&) const = default;
};

struct website_routing_rule {
  // Condition (both empty: the rule always applies).
  std::optional<std::string> key_prefix_equals;
  std::optional<unsigned> http_error_code_returned_equals;
  // Redirect (at least one field set).
  std::string host_name;
  std::string protocol;
  std::optional<unsigned> http_redirect_code;  // 3xx; default 301
  std::optional<std::string> replace_key_prefix_with;
  std::optional<std::string> replace_key_with;
  bool operator==(const website_routing_rule&) const = default;
};

struct website_config {
  // Exactly one of: index_document (with optional error_document and routing
  // rules), or redirect_all.
  std::string index_document;  // suffix, e.g. "index.html"
  std::optional<std::string> error_document;
  std::optional<website_redirect_all> redirect_all;
  std::vector<website_routing_rule> routing_rules;
  bool operator==(const website_config&) const = default;
};

std::string website_to_json(const website_config& c);
// corrupted when the document is not one website_to_json writes.
result<website_config> website_from_json(std::string_view json);

// The first routing rule whose condition holds for `key` (without leading
// '/') and, when given, the HTTP status the request would otherwise get
// (rules with an error-code condition apply only then). Null: none.
const website_routing_rule* find_routing_rule(const website_config& c, std::string_view key,
                                              std::optional<unsigned> error_code = std::nullopt);

// Where `rule` sends a request for `key`: "protocol://host/newkey" when the
// rule names a host ("/newkey" otherwise), the protocol defaulting to
// `request_protocol`; newkey after ReplaceKeyWith / ReplaceKeyPrefixWith.
std::string routing_redirect_location(const website_routing_rule& rule, std::string_view key,
                                      std::string_view request_protocol);

}  // namespace garage::model
