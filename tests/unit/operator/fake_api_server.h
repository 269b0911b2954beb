// An in-process HTTP/1.1 server standing in for the Kubernetes API in the
// client tests: plain HTTP on 127.0.0.1, one thread per connection, every
// response with "Connection: close". It records each request and answers
// from a handler; a response may stream chunks with delays and stay open
// (a watch) until the client goes away or the server stops.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace garage::k8s::testing {

struct recorded_request {
  std::string method;
  std::string target;  // path and query
  std::string path;
  std::map<std::string, std::string> query;    // decoded values
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string param(const std::string& k) const {
    auto it = query.find(k);
    return it == query.end() ? std::string() : it->second;
  }
};

struct scripted_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;                 // sent with Content-Length, unless chunks
  std::vector<std::string> chunks;  // sent chunked, in order
  std::chrono::milliseconds chunk_delay{0};
  bool hold_open = false;  // after the chunks, wait for the client to leave
};

class fake_api_server {
 public:
  using handler = std::function<scripted_response(const recorded_request&)>;

  explicit fake_api_server(handler h) : handler_(std::move(h)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~fake_api_server() {
    stop_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> conns;
    {
      std::lock_guard lock(mu_);
      conns.swap(connections_);
    }
    for (auto& t : conns) t.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<recorded_request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mu_);
      connections_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  static std::string decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  }

  // Waits up to ms for the peer to send or close; false if it closed.
  bool peer_alive(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return true;
    char c;
    return ::recv(fd, &c, 1, MSG_PEEK) > 0;
  }

  bool send_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  void serve(int fd) {
    std::string in;
    char buf[4096];
    size_t header_end;
    while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
      if (stop_ || !peer_alive(fd, 20)) return;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) continue;
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    recorded_request r;
    auto head = in.substr(0, header_end);
    auto line_end = head.find("\r\n");
    auto request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.rfind(' ');
    r.method = request_line.substr(0, sp1);
    r.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) {
      std::string qs = r.target.substr(q + 1);
      size_t start = 0;
      while (start <= qs.size()) {
        auto amp = qs.find('&', start);
        auto kv = qs.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        auto eq = kv.find('=');
        r.query[decode(kv.substr(0, eq))] =
            eq == std::string::npos ? "" : decode(kv.substr(eq + 1));
        if (amp == std::string::npos) break;
        start = amp + 1;
      }
    }
    size_t pos = line_end + 2;
    while (pos < head.size()) {
      auto e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      auto h = head.substr(pos, e - pos);
      auto colon = h.find(':');
      std::string name = h.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      auto value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
      pos = e + 2;
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    r.body = in.substr(header_end + 4);
    while (r.body.size() < length) {
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      r.body.append(buf, static_cast<size_t>(n));
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    auto resp = handler_(r);
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) +
                      " X\r\nContent-Type: " + resp.content_type + "\r\nConnection: close\r\n";
    if (resp.chunks.empty() && !resp.hold_open) {
      out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n" + resp.body;
      send_all(fd, out);
      return;
    }
    out += "Transfer-Encoding: chunked\r\n\r\n";
    if (!send_all(fd, out)) return;
    for (const auto& c : resp.chunks) {
      std::this_thread::sleep_for(resp.chunk_delay);
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", c.size());
      if (!send_all(fd, size + c + "\r\n")) return;
    }
    if (resp.hold_open)
      while (!stop_ && peer_alive(fd, 20)) {
      }
    send_all(fd, "0\r\n\r\n");
  }

  handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> connections_;
  std::vector<recorded_request> requests_;
};

}  // namespace garage::k8s::testing
