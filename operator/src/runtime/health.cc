#include "runtime/health.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "runtime/metrics.h"
#include "util/log.h"

namespace garage::op {

namespace {

constexpr int read_timeout_ms = 2000;

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string response(int status, const char* reason, const std::string& content_type,
                     const std::string& body, bool head) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         (head ? std::string() : body);
}

}  // namespace

health_server::health_server(std::string address, metrics& m, std::function<bool()> ready)
    : address_(std::move(address)), metrics_(m), ready_(std::move(ready)) {}

health_server::~health_server() { stop(); }

result<void> health_server::start() {
  if (listen_fd_ >= 0) return error(errc::internal, "health server already started");
  // "host:port", ":port" or "[v6]:port".
  auto colon = address_.rfind(':');
  if (colon == std::string::npos)
    return error(errc::invalid_argument, "health address '" + address_ + "' has no :port");
  std::string host = address_.substr(0, colon), port = address_.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
    return error(errc::invalid_argument, "health address '" + address_ + "': bad port");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
      rc != 0)
    return error(errc::invalid_argument,
                 "health address '" + address_ + "': " + ::gai_strerror(rc));
  // Every interface: prefer the IPv6 wildcard, dual-stack, else IPv4's.
  std::vector<addrinfo*> candidates;
  for (auto* a = res; a; a = a->ai_next)
    if (host.empty() && a->ai_family == AF_INET6) candidates.push_back(a);
  for (auto* a = res; a; a = a->ai_next)
    if (!(host.empty() && a->ai_family == AF_INET6)) candidates.push_back(a);
  std::string last_error = "no address";
  for (auto* a : candidates) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      listen_fd_ = fd;
      break;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0)
    return error(errc::unavailable,
                 "health server cannot listen on " + address_ + ": " + last_error);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  thread_ = std::jthread([this](std::stop_token stop) { serve(stop); });
  return ok();
}

void health_server::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void health_server::serve(std::stop_token stop) {
  while (!stop.stop_requested()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void health_server::handle(int fd) {
  std::string in;
  char buf[2048];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(read_timeout_ms);
  while (in.find("\r\n\r\n") == std::string::npos && in.find("\n\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0 || in.size() > 16384) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
  }
  auto line = in.substr(0, in.find_first_of("\r\n"));
  auto sp1 = line.find(' ');
  auto sp2 = line.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    send_all(fd, response(400, "Bad Request", "text/plain", "bad request\n", false));
    return;
  }
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto path = target.substr(0, target.find('?'));
  bool head = method == "HEAD";
  if (method != "GET" && !head) {
    send_all(fd, response(405, "Method Not Allowed", "text/plain", "method not allowed\n", false));
    return;
  }
  if (path == "/healthz" || path == "/livez") {
    send_all(fd, response(200, "OK", "text/plain", "ok\n", head));
  } else if (path == "/readyz") {
    bool ready = false;
    try {
      ready = ready_();
    } catch (const std::exception& e) {
      LOG_WARN("health: the readiness check threw: {}", e.what());
    }
    if (ready)
      send_all(fd, response(200, "OK", "text/plain", "ok\n", head));
    else
      send_all(fd, response(503, "Service Unavailable", "text/plain",
                            "not ready: caches not synced or controllers not started\n", head));
  } else if (path == "/metrics") {
    send_all(
        fd, response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", metrics_.text(), head));
  } else {
    send_all(fd, response(404, "Not Found", "text/plain", "not found\n", head));
  }
}

}  // namespace garage::op
