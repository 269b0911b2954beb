// An HTTP/1.1 server (keep-alive, HTTP/1.0 too) that hands every request to a
// coroutine handler through http::exchange. Shared by the S3 and admin APIs.
//
//   runtime rt(2, 4);
//   server s(rt, {.name = "s3"}, handle_s3, metrics);
//   if (auto r = s.listen("0.0.0.0:3900"); !r) die(r.error());
//   s.start();
//   ...
//   s.stop([&] { rt.stop(); });
//
// Per connection: one coroutine on its own strand reads a header (at most
// max_header_bytes, else 431), calls the handler, then reads the next. Bodies
// stream in both directions; nothing is buffered whole. A handler that returns
// without responding gets a 500; a request body the handler left unread is
// drained if small (< 64 KiB), else the connection closes. Malformed requests
// get a 400 and the connection closes.
//
// Threading: listen/start/stop may be called from any thread; stop() does not
// block. The handler runs on the connection's strand (an I/O thread). The
// runtime must outlive the server; connections in flight keep the server's
// internals alive, so destroying the server while the runtime still runs is
// safe (it cuts them).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/common/exchange.h"
#include "api/common/runtime.h"
#include "util/result.h"

namespace garage::http {

struct http_metrics;

struct server_options {
  std::string name = "s3";  // the `api` label of metrics, and in messages: "s3 api: ..."
  size_t max_header_bytes = 16 * 1024;
  // Waiting for (and reading) a request header, including between requests.
  std::chrono::seconds idle_timeout{60};
  // Inactivity while reading a request body or writing a response.
  std::chrono::seconds body_timeout{300};
  // After stop(), how long in-flight requests may run before being cut.
  std::chrono::seconds shutdown_grace{10};
};

class server {
 public:
  // metrics may be null.
  server(runtime& rt, server_options opts, handler h, std::shared_ptr<http_metrics> metrics);
  // Stops accepting and closes connections (without grace).
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens now, so that a busy port is an error at start-up:
  // "s3 api: cannot bind 127.0.0.1:3900: Address already in use". host_port is
  // "host:port" or "[v6]:port"; port 0 picks a free one. May be called more
  // than once to listen on several addresses.
  result<void> listen(std::string_view host_port);
  // The port of the first listen(); 0 before.
  uint16_t port() const;

  // Begins accepting on the runtime's io_context.
  void start();
  // Stops accepting and closes idle connections; requests in flight finish
  // (their connection then closes) or are cut after shutdown_grace.
  // on_drained, if given, is called on an I/O thread once every connection is
  // closed.
  void stop(std::function<void()> on_drained = nullptr);

  // Open connections (for tests and metrics).
  size_t connection_count() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace garage::http
