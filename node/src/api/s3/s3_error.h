// The S3 error codes, their HTTP statuses, and the one mapping from internal
// errors to them. Handlers return an s3_error; the server renders it with
// error_xml(). Pure functions, thread-safe.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "util/result.h"

namespace garage::s3 {

// Every S3 error code the node can answer. The names are the XML <Code> values.
enum class s3_errc {
  access_denied,
  access_forbidden,  // a CORS preflight no rule allows
  authorization_header_malformed,
  authorization_query_parameters_error,
  bad_digest,
  bucket_already_exists,
  bucket_already_owned_by_you,
  bucket_not_empty,
  entity_too_large,
  entity_too_small,
  incomplete_body,
  internal_error,
  invalid_access_key_id,
  invalid_argument,
  invalid_bucket_name,
  invalid_digest,
  invalid_encryption_algorithm,  // SSE-C with an algorithm other than AES256
  invalid_part,
  invalid_part_number,  // GetObject/HeadObject ?partNumber past the object's parts
  invalid_part_order,
  invalid_range,
  invalid_request,
  invalid_storage_class,
  invalid_tag,
  invalid_uri,
  key_too_long,
  malformed_xml,
  malformed_post_request,
  metadata_too_large,
  method_not_allowed,
  missing_content_length,
  no_such_bucket,
  no_such_key,
  no_such_upload,
  no_such_cors_configuration,
  no_such_lifecycle_configuration,
  no_such_website_configuration,
  no_such_bucket_policy,
  no_such_tag_set,
  not_implemented,
  operation_aborted,
  precondition_failed,
  quota_exceeded,
  request_time_too_skewed,
  request_timeout,
  service_unavailable,
  signature_does_not_match,
  slow_down,
  too_many_buckets,
  x_amz_content_sha256_mismatch,
};

// "AccessDenied", "NoSuchKey", ...
const char* code_name(s3_errc c);
// The HTTP status AWS answers with for this code (403, 404, 416, ...).
unsigned http_status(s3_errc c);
// AWS's usual message for the code, used when no specific one is given.
const char* default_message(s3_errc c);

struct s3_error {
  s3_errc code;
  std::string message;
  std::string resource;  // e.g. "/bucket/key"; may be empty

  unsigned status() const { return http_status(code); }
};

// An s3_error with the code's default message when `message` is empty.
s3_error make_error(s3_errc code, std::string message = {}, std::string resource = {});

// The one mapping from an internal error to S3: invalid_argument → InvalidArgument,
// not_found → NoSuchKey, permission_denied → AccessDenied, unavailable/timeout →
// ServiceUnavailable, too_large → EntityTooLarge, io/corruption/internal →
// InternalError, ... Handlers that know better (NoSuchBucket) build their own.
s3_error from_error(const garage::error& e, std::string resource = {});

// The S3 <Error> document (with XML declaration) for a response body.
std::string error_xml(const s3_error& e, std::string_view request_id);

// The value of an S3 operation that can fail with an S3 error.
template <class T>
class [[nodiscard]] s3_result {
 public:
  s3_result(const T& v) : v_(std::in_place_index<0>, v) {}
  s3_result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
  s3_result(s3_error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const s3_error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  s3_error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, s3_error> v_;
};

template <>
class [[nodiscard]] s3_result<void> {
 public:
  s3_result() = default;
  s3_result(s3_error e) : e_(std::move(e)), ok_(false) {}
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const s3_error& error() const& {
    assert(!ok_);
    return e_;
  }
  s3_error&& error() && {
    assert(!ok_);
    return std::move(e_);
  }

 private:
  s3_error e_{s3_errc::internal_error, {}, {}};
  bool ok_ = true;
};

}  // namespace garage::s3
