// result<T>: the value of an operation that can fail in an expected way.
//
// Expected failures (bad input, missing entry, I/O error, corruption) travel as
// values, never as exceptions across a module boundary. An `error` carries a
// coarse code that callers branch on and a message for humans; the API layers
// map codes to protocol errors in one place each.
//
//   result<int> parse(std::string_view s);
//   auto r = parse("12");
//   if (!r) return r.error();          // propagate
//   use(*r);
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace garage {

enum class errc {
  invalid_argument,   // the caller's input is malformed
  not_found,          // the thing asked for does not exist
  already_exists,     // creating something that is there
  conflict,           // a precondition on current state failed
  permission_denied,  // authenticated but not allowed
  unauthenticated,    // identity could not be established
  io_error,           // the OS refused a read or write
  corrupted,          // stored bytes do not match their checksum or format
  unavailable,        // a dependency (peer, disk, quota) cannot serve now
  timeout,            // gave up waiting
  too_large,          // over a configured limit
  not_implemented,    // known request, not supported
  internal,           // a bug: an invariant did not hold
};

const char* errc_name(errc c);

struct [[nodiscard]] error {
  errc code;
  std::string message;

  error(errc c, std::string msg) : code(c), message(std::move(msg)) {}
  // "code: message", for logs and command-line output.
  std::string to_string() const;
};

template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  result(const T& v) : v_(std::in_place_index<0>, v) {}
  result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, garage::error> &&
           !std::is_same_v<std::decay_t<U>, result>) result(U&& v)
      : v_(std::in_place_index<0>, T(std::forward<U>(v))) {}
  result(garage::error e) : v_(std::in_place_index<1>, std::move(e)) {}

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
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Named like std::expected::error().
  const garage::error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  garage::error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, garage::error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;
  result() = default;
  result(garage::error e) : e_(std::move(e)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const garage::error& error() const& {
    assert(!ok_);
    return e_;
  }
  garage::error&& error() && {
    assert(!ok_);
    return std::move(e_);
  }

 private:
  garage::error e_{errc::internal, {}};
  bool ok_ = true;
};

inline result<void> ok() { return {}; }

}  // namespace garage

// Propagates an error out of the enclosing function returning result<...>.
#define GARAGE_TRY(expr)                                         \
  do {                                                           \
    auto&& garage_try_r_ = (expr);                               \
    if (!garage_try_r_) return std::move(garage_try_r_).error(); \
  } while (0)

// Binds the value of a result or propagates its error.
#define GARAGE_CONCAT_INNER(a, b) a##b
#define GARAGE_CONCAT(a, b) GARAGE_CONCAT_INNER(a, b)
#define GARAGE_ASSIGN_OR_RETURN(lhs, expr) \
  GARAGE_ASSIGN_OR_RETURN_IMPL(GARAGE_CONCAT(garage_r_, __LINE__), lhs, expr)
#define GARAGE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp) return std::move(tmp).error();           \
  lhs = std::move(tmp).value()
