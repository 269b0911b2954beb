#include "garage/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>

#include "util/config.h"

namespace garage::cli {
namespace {

constexpr size_t kMaxResponse = 64u << 20;

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

result<std::string> decode_chunked(std::string_view in) {
  std::string out;
  while (true) {
    auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return error(errc::corrupted, "truncated chunked body");
    auto size_text = in.substr(0, eol);
    auto semi = size_text.find(';');
    if (semi != std::string_view::npos) size_text = size_text.substr(0, semi);
    size_text = trim(size_text);
    size_t n = 0;
    auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), n, 16);
    if (ec != std::errc() || p != size_text.data() + size_text.size())
      return error(errc::corrupted, "bad chunk size in response");
    in.remove_prefix(eol + 2);
    if (n == 0) return out;
    if (in.size() < n + 2) return error(errc::corrupted, "truncated chunked body");
    out.append(in.substr(0, n));
    in.remove_prefix(n + 2);
  }
}

}  // namespace

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

result<http_response> parse_http_response(std::string_view raw) {
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos)
    return error(errc::corrupted, "incomplete HTTP response header");
  std::string_view head = raw.substr(0, head_end);
  std::string_view rest = raw.substr(head_end + 4);
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ')
    return error(errc::corrupted, "not an HTTP/1.x response");
  http_response r;
  auto code = status_line.substr(9, 3);
  auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), r.status);
  if (ec != std::errc() || p != code.data() + 3 || r.status < 100)
    return error(errc::corrupted, "bad HTTP status line");
  std::string_view fields =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  std::optional<size_t> content_length;
  bool chunked = false;
  while (!fields.empty()) {
    auto e = fields.find("\r\n");
    auto line = fields.substr(0, e);
    fields = e == std::string_view::npos ? std::string_view() : fields.substr(e + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return error(errc::corrupted, "bad HTTP header line");
    std::string name = lower(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    if (name == "content-length") {
      size_t n = 0;
      auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec2 != std::errc() || q != value.data() + value.size())
        return error(errc::corrupted, "bad Content-Length");
      content_length = n;
    } else if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) {
      chunked = true;
    }
    r.headers.emplace_back(std::move(name), std::move(value));
  }
  if (chunked) {
    auto body = decode_chunked(rest);
    if (!body) return std::move(body).error();
    r.body = std::move(*body);
  } else if (content_length) {
    if (rest.size() < *content_length) return error(errc::io_error, "truncated HTTP response");
    r.body = std::string(rest.substr(0, *content_length));
  } else {
    r.body = std::string(rest);
  }
  return r;
}

result<http_response> http_call(std::string_view host_port, const http_request& req,
                                std::chrono::milliseconds timeout) {
  auto hp = parse_host_port(host_port, "admin API address");
  if (!hp) return std::move(hp).error();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string where(host_port);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(hp->port);
  int gai = ::getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) {
    return error(errc::unavailable,
                 "cannot resolve " + hp->host + ": " + std::string(::gai_strerror(gai)));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);

  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int s = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(s, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (!wait_for(s, POLLOUT, deadline)) {
        last_error = "connection timed out";
        ::close(s);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      last_error = std::strerror(errno);
      ::close(s);
      continue;
    }
    fd = s;
    break;
  }
  if (fd < 0) return error(errc::unavailable, "cannot connect to " + where + ": " + last_error);
  fd_guard guard(fd);

  std::string msg = req.method + " " + req.target + " HTTP/1.1\r\n";
  msg += "Host: " + where + "\r\n";
  msg += "Connection: close\r\n";
  msg += "User-Agent: garage-cli\r\n";
  for (const auto& [k, v] : req.headers) msg += k + ": " + v + "\r\n";
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT")
    msg += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  msg += "\r\n";
  msg += req.body;

  size_t sent = 0;
  while (sent < msg.size()) {
    ssize_t n = ::send(fd, msg.data() + sent, msg.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline))
        return error(errc::timeout, "timed out sending to " + where);
      continue;
    }
    return error(errc::io_error, "cannot send to " + where + ": " + std::strerror(errno));
  }

  std::string raw;
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (raw.size() > kMaxResponse)
        return error(errc::too_large, "response from " + where + " is too large");
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd, POLLIN, deadline))
        return error(errc::timeout, "timed out waiting for " + where);
      continue;
    }
    if (errno == ECONNRESET && !raw.empty()) break;
    return error(errc::io_error, "cannot read from " + where + ": " + std::strerror(errno));
  }
  if (raw.empty()) return error(errc::io_error, where + " closed the connection without answering");
  return parse_http_response(raw);
}

}  // namespace garage::cli
