// The policy document of a browser-form upload (PostObject), SigV4 form:
// parsing and checking a form's fields against it. Pure.
//
//   auto p = parse_post_policy(*base64_decode(fields["policy"]));
//   auto ok = check_post_policy(*p, fields, now_msec);   // fields lower-cased
//
// Errors are what AWS answers: a policy that is not JSON or has a malformed
// condition is InvalidPolicyDocument-like (InvalidArgument, 400); an expired
// policy, a failed condition, or a form field no condition mentions is
// AccessDenied (403) "Invalid according to Policy: ...".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/s3/s3_error.h"

namespace garage::s3 {

struct post_condition {
  enum op_t { eq, starts_with } op = eq;
  std::string field;  // lower case, without the '$'
  std::string value;
};

struct post_policy {
  uint64_t expiration_msec = 0;
  std::vector<post_condition> conditions;
  // content-length-range: inclusive bounds of the file's size.
  std::optional<std::pair<uint64_t, uint64_t>> length_range;
};

// Parses the decoded (JSON) policy document.
s3_result<post_policy> parse_post_policy(std::string_view json_text);

// Form fields, by lower-case name. The caller sets "key" to the final key
// (${filename} substituted) and "bucket" to the bucket of the request.
using form_fields = std::map<std::string, std::string>;

// Checks expiration, every condition, and that every field is allowed by one
// (except policy, x-amz-signature, file, bucket and x-ignore-*). The file's
// size (content-length-range) is checked while it streams, by the caller.
s3_result<void> check_post_policy(const post_policy& p, const form_fields& fields,
                                  uint64_t now_msec);

// "2026-01-02T03:04:05Z" or with fractional seconds ("...05.000Z").
std::optional<uint64_t> parse_policy_expiration(std::string_view s);

}  // namespace garage::s3
