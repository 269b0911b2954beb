// health_server: the operator's probe and metrics endpoints over plain HTTP.
//
//   GET /healthz  200 "ok" while the process serves
//   GET /readyz   200 "ok" when ready() is true, else 503 "not ready"
//   GET /metrics  the metrics' text exposition (text/plain; version=0.0.4)
//
// A small blocking socket server on one thread (probes and scrapes are small
// and rare); each connection gets one response and is closed. A client that
// sends nothing for 2 s is dropped.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "util/result.h"

namespace garage::op {

class metrics;

class health_server {
 public:
  // address: "host:port", ":port" (every interface) or "[v6addr]:port";
  // port 0 picks a free port (see port()). `m` and `ready` must outlive the
  // server; ready() is called from the server's thread.
  health_server(std::string address, metrics& m, std::function<bool()> ready);
  ~health_server();
  health_server(const health_server&) = delete;
  health_server& operator=(const health_server&) = delete;

  // Binds and starts serving; an error when the address is bad or taken.
  result<void> start();
  void stop();
  // The port listened on, once started.
  int port() const { return port_; }

 private:
  void serve(std::stop_token stop);
  void handle(int fd);

  std::string address_;
  metrics& metrics_;
  std::function<bool()> ready_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::jthread thread_;
};

}  // namespace garage::op
