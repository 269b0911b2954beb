// The HTTP seam under the Kubernetes client: one request in, one response
// out, or a response body streamed as it arrives (watches). The real one is
// cpprestsdk over TLS (rest_transport.h); tests may put a fake behind
// `client` instead.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "k8s/api_error.h"

namespace garage::k8s {

struct http_request {
  std::string method;        // GET, POST, PUT, PATCH, DELETE
  std::string target;        // path and query, already encoded
  std::string content_type;  // of body; empty when there is no body
  std::string body;
  std::string accept = "application/json";
};

struct http_response {
  int status = 0;
  std::string content_type;
  std::string body;  // empty after a successful stream()
};

// Called with each piece of a streamed body, in order; returns false to stop.
using data_sink = std::function<bool(std::string_view)>;

// Thread-safe: several threads may call send() and stream() at once.
class transport {
 public:
  virtual ~transport() = default;

  // Sends the request and reads the whole response. A failure with no HTTP
  // status is an api_error with code 0 (transport_reason).
  virtual api_result<http_response> send(const http_request& req) = 0;

  // Sends the request; if the status is 2xx, hands the body to `sink` as it
  // arrives until it ends (or `sink` returns false) and returns the status
  // with an empty body. Any other status: returns the whole response without
  // calling `sink`. `stop` requested from another thread ends the call with a
  // Cancelled error, promptly even while no data is coming.
  virtual api_result<http_response> stream(const http_request& req, const data_sink& sink,
                                           std::stop_token stop) = 0;
};

}  // namespace garage::k8s
