// api_error, api_result<T>: how a Kubernetes API call fails.
//
// An API error carries the HTTP status and, when the server sent a Status
// object, its `reason` (NotFound, Conflict, AlreadyExists, Expired, Gone,
// Invalid, Forbidden, Unauthorized, ...) and `message`. A failure before any
// HTTP status (connection refused, TLS, timeout, a cancelled watch) has
// code 0 and a reason of our own (see `transport_reason`).
#pragma once

#include <cassert>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace garage::k8s {

// Reasons of failures that have no HTTP status.
namespace transport_reason {
inline constexpr std::string_view unreachable = "Unreachable";  // connect, TLS, I/O
inline constexpr std::string_view timeout = "Timeout";
inline constexpr std::string_view cancelled = "Cancelled";       // a stop was requested
inline constexpr std::string_view bad_response = "BadResponse";  // unparseable body or event
inline constexpr std::string_view bad_request = "BadRequest";    // refused before sending
}  // namespace transport_reason

struct api_error {
  int code = 0;         // HTTP status; 0 when no response came
  std::string reason;   // Status.reason, or a transport_reason
  std::string message;  // Status.message, or what went wrong

  bool is_not_found() const { return code == 404; }
  bool is_conflict() const { return code == 409 && reason != "AlreadyExists"; }
  bool is_already_exists() const { return code == 409 && reason == "AlreadyExists"; }
  // The resourceVersion asked for is too old: list again, then watch.
  bool is_gone() const { return code == 410 || reason == "Expired" || reason == "Gone"; }
  bool is_unauthorized() const { return code == 401; }
  bool is_forbidden() const { return code == 403; }
  bool is_transport() const { return code == 0; }
  // "409 Conflict: the object has been modified", for logs and messages.
  std::string to_string() const;
};

// The error described by a non-2xx response: the Status object in `body` when
// there is one, else the HTTP status and the start of the body.
api_error error_from_response(int http_status, std::string_view body);

// The error an ERROR watch event carries (its object is a Status).
api_error error_from_status_object(const nlohmann::json& status);

template <class T>
class [[nodiscard]] api_result {
 public:
  api_result(const T& v) : v_(std::in_place_index<0>, v) {}
  api_result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
  api_result(api_error e) : v_(std::in_place_index<1>, std::move(e)) {}

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

template <>
class [[nodiscard]] api_result<void> {
 public:
  api_result() = default;
  api_result(api_error e) : e_(std::move(e)), ok_(false) {}
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const api_error& error() const& {
    assert(!ok_);
    return e_;
  }
  api_error&& error() && {
    assert(!ok_);
    return std::move(e_);
  }

 private:
  api_error e_;
  bool ok_ = true;
};

}  // namespace garage::k8s
