// A bucket's CORS configuration (the rules of PutBucketCors) and the matching
// of a browser request against them, as AWS S3 does it. Pure functions,
// thread-safe; shared by api/s3 (preflights and CORS headers on S3 responses)
// and the web endpoint.
//
// The configuration is stored in bucket.cors as the JSON written by
// cors_to_json (empty string: no configuration). Validation of what a client
// sends (methods, wildcards, sizes) is done by the API layer before storing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace garage::model {

struct cors_rule {
  std::string id;                            // optional, may be empty
  std::vector<std::string> allowed_origins;  // each with at most one '*'
  std::vector<std::string> allowed_methods;  // GET, PUT, HEAD, POST, DELETE
  std::vector<std::string> allowed_headers;  // each with at most one '*'; matched without case
  std::vector<std::string> expose_headers;
  std::optional<uint64_t> max_age_seconds;
  bool operator==(const cors_rule&) const = default;
};

struct cors_config {
  std::vector<cors_rule> rules;
  bool operator==(const cors_config&) const = default;
};

// The canonical JSON document stored in bucket.cors.
std::string cors_to_json(const cors_config& c);
// corrupted when the document is not one cors_to_json writes.
result<cors_config> cors_from_json(std::string_view json);

// `pattern` with at most one '*' standing for any (possibly empty) run of
// characters; exact comparison otherwise.
bool wildcard_match(std::string_view pattern, std::string_view s);

// Splits a comma-separated header value ("a, B,c") into trimmed, lower-case
// names, dropping empty items.
std::vector<std::string> split_header_list(std::string_view value);

// The first rule that allows a request from `origin` with `method` and, for
// a preflight, the (lower-case) names of Access-Control-Request-Headers.
// Null when no rule does. Origins and methods compare with case, headers
// without, as AWS does.
const cors_rule* find_cors_rule(const cors_config& c, std::string_view origin,
                                std::string_view method,
                                const std::vector<std::string>& request_headers = {});

// The Access-Control-* headers (and Vary) to add to a response for a request
// from `origin` matched by `rule`. For a preflight: Allow-Methods, Max-Age and
// Allow-Headers echoing `request_headers`; for an actual request:
// Expose-Headers. Allow-Origin is "*" when the rule allows every origin,
// else the request's origin (then Allow-Credentials: true).
std::vector<std::pair<std::string, std::string>> cors_response_headers(
    const cors_rule& rule, std::string_view origin, bool preflight,
    const std::vector<std::string>& request_headers = {});

}  // namespace garage::model
