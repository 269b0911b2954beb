// Conditional GET/HEAD (RFC 7232 section 6, as S3 applies it), shared by
// the S3 API and the website endpoint: If-Match,
// If-None-Match, If-Modified-Since, If-Unmodified-Since. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "api/common/http.h"

namespace garage::http {

enum class condition_outcome {
  proceed,              // serve the object
  not_modified,         // 304 Not Modified (GET/HEAD)
  precondition_failed,  // 412 PreconditionFailed
};

// The four conditional headers of a request (views into its header_map).
struct conditional_headers {
  std::optional<std::string_view> if_match;
  std::optional<std::string_view> if_none_match;
  std::optional<std::string_view> if_modified_since;
  std::optional<std::string_view> if_unmodified_since;

  static conditional_headers from(const header_map& headers);
};

// Evaluates the conditions against an existing object whose ETag is `etag`
// (quoted, as sent in the ETag header) and last modified at `last_modified_msec`.
// Order: If-Match (false → 412), else If-Unmodified-Since (modified after → 412);
// then If-None-Match (matches → 304), else If-Modified-Since (not modified
// since → 304). So If-Match true + If-Unmodified-Since false → proceed, and
// If-None-Match false + If-Modified-Since true → 304, as S3 documents.
// "*" matches any object; If-Match compares strongly (W/ tags never match),
// If-None-Match weakly. Unparsable dates are ignored; times compare in seconds.
condition_outcome evaluate_conditions(const conditional_headers& h, std::string_view etag,
                                      uint64_t last_modified_msec);

}  // namespace garage::http
