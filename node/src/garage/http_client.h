// A small blocking HTTP/1.1 client over a POSIX socket, for the command line
// talking to the admin API. One request per connection (Connection: close).
// Not for bulk data: the whole response is held in memory (capped).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace garage::cli {

struct http_response {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
};

struct http_request {
  std::string method = "GET";
  std::string target = "/";  // path and query, already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends `req` to host:port ("[v6]:port" works too) and reads the response.
// Errors: unavailable when the address cannot be resolved or the connection
// is refused or times out ("cannot connect to 127.0.0.1:3903: Connection
// refused"), io_error when the connection breaks, corrupted for a response
// that is not HTTP/1.x, too_large past 64 MiB.
result<http_response> http_call(std::string_view host_port, const http_request& req,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Parses a complete response as read from a connection closed by the server
// (Content-Length, chunked, or body to the end). Pure.
result<http_response> parse_http_response(std::string_view raw);

// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view s);

}  // namespace garage::cli
