// One HTTP request/response, as a handler sees it. The server owns the
// exchange; it is valid for the duration of the handler's coroutine. Calls are
// made from that coroutine only (not thread-safe).
//
// The body is never buffered whole by the server: read_body hands out what
// arrived, and a streamed response is written piece by piece.
#pragma once

// clang-format off: <utility> must precede Asio's coroutine headers (Boost 1.74 misses it).
#include <utility>
// clang-format on

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "api/common/http.h"
#include "util/result.h"

namespace garage::http {

template <class T>
using task = boost::asio::awaitable<T>;

class exchange {
 public:
  virtual ~exchange() = default;

  virtual const request_head& head() const = 0;
  // "ip:port" of the client.
  virtual const std::string& remote_addr() const = 0;

  // Reads up to out.size() body bytes; 0 means the body is complete. An error
  // (io_error) when the client disconnects or the body is malformed.
  virtual task<result<size_t>> read_body(std::span<char> out) = 0;
  // Reads the whole body; too_large when it exceeds `limit` bytes (then the
  // body is left partly read).
  task<result<std::string>> read_body_all(size_t limit);

  // A complete response with a small body. Content-Length is set here.
  virtual task<result<void>> respond(response_head head, std::string body) = 0;
  // A response whose body of exactly `content_length` bytes follows through
  // write_body; end_response completes it. For HEAD requests the server sends
  // the headers only and write_body discards.
  virtual task<result<void>> begin_response(response_head head, uint64_t content_length) = 0;
  virtual task<result<void>> write_body(std::string_view data) = 0;
  virtual task<result<void>> end_response() = 0;

  // True once a response has begun: a handler that fails after that point
  // can only close the connection.
  virtual bool responded() const = 0;

  // Labels the request for metrics and logs ("GetObject", "ListBuckets"...);
  // "unknown" until set.
  void set_endpoint(std::string_view name) { endpoint_.assign(name); }
  const std::string& endpoint() const { return endpoint_; }

 protected:
  std::string endpoint_ = "unknown";
};

using handler = std::function<task<void>(exchange&)>;

}  // namespace garage::http
