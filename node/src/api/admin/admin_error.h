// Errors of the admin API, as the client sees them: an HTTP status, one of
// Garage's error codes ("NoSuchBucket", "InvalidRequest"...) and a message,
// sent as a JSON document {"code", "message", "region", "path"}.
//
// Model errors (util/result.h) are mapped here, in one place; handlers say
// which kind of thing they were looking up so that not_found becomes
// NoSuchBucket or NoSuchAccessKey.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "util/result.h"

namespace garage::admin {

struct api_error {
  unsigned status = 500;
  std::string code;  // e.g. "NoSuchAccessKey"
  std::string message;
};

// 400 InvalidRequest: a malformed body, a missing or bad parameter.
api_error bad_request(std::string message);
// 404 NoSuchEndpoint: a path that is no admin endpoint.
api_error no_such_endpoint(std::string_view path);
// 501 NotImplemented: a Garage admin endpoint (or option) not built here.
api_error not_implemented(std::string message);
// 500 InternalError.
api_error internal_error(std::string message);

// What a failed model call was about, to name the missing thing.
enum class subject { none, key, bucket };

// not_found → 404 (NoSuchAccessKey / NoSuchBucket / NotFound), invalid_argument
// → 400, already_exists → 409 (KeyAlreadyExists / BucketAlreadyExists),
// conflict → 409 Conflict, not_implemented → 501, anything else → 500.
api_error from_model_error(const error& e, subject s);

// The JSON error document (pretty-printed, like Garage's).
std::string error_body(const api_error& e, std::string_view region, std::string_view path);

// The value of an admin operation or its api_error.
template <class T>
class [[nodiscard]] api_result {
 public:
  api_result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
  api_result(api_error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& operator*() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& operator*() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& operator*() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &**this; }
  const T* operator->() const { return &**this; }
  const api_error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  api_error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, api_error> v_;
};

}  // namespace garage::admin
