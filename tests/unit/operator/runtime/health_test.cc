#include "runtime/health.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "runtime/metrics.h"

namespace garage::op {
namespace {

// One HTTP/1.1 request to 127.0.0.1:port; the whole response ("" on failure).
std::string http(int port, const std::string& method, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string body_of(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : response.substr(p + 4);
}

TEST(health_server, endpoints) {
  metrics m;
  m.leader(true);
  std::atomic<bool> ready{false};
  health_server h("127.0.0.1:0", m, [&] { return ready.load(); });
  ASSERT_TRUE(h.start());
  ASSERT_GT(h.port(), 0);

  auto healthz = http(h.port(), "GET", "/healthz");
  EXPECT_TRUE(healthz.starts_with("HTTP/1.1 200")) << healthz;
  EXPECT_EQ(body_of(healthz), "ok\n");

  auto not_ready = http(h.port(), "GET", "/readyz");
  EXPECT_TRUE(not_ready.starts_with("HTTP/1.1 503")) << not_ready;
  EXPECT_NE(body_of(not_ready).find("not ready"), std::string::npos);
  ready = true;
  auto is_ready = http(h.port(), "GET", "/readyz?verbose");
  EXPECT_TRUE(is_ready.starts_with("HTTP/1.1 200")) << is_ready;

  auto scrape = http(h.port(), "GET", "/metrics");
  EXPECT_TRUE(scrape.starts_with("HTTP/1.1 200")) << scrape;
  EXPECT_NE(scrape.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(body_of(scrape).find("garage_operator_leader 1"), std::string::npos) << scrape;

  EXPECT_TRUE(http(h.port(), "GET", "/nope").starts_with("HTTP/1.1 404"));
  EXPECT_TRUE(http(h.port(), "POST", "/healthz").starts_with("HTTP/1.1 405"));
  auto head = http(h.port(), "HEAD", "/healthz");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200"));
  EXPECT_EQ(body_of(head), "");

  int port = h.port();
  h.stop();
  EXPECT_EQ(http(port, "GET", "/healthz"), "");  // closed
}

TEST(health_server, every_interface_and_bad_addresses) {
  metrics m;
  health_server all(":0", m, [] { return true; });
  ASSERT_TRUE(all.start());
  EXPECT_TRUE(http(all.port(), "GET", "/healthz").starts_with("HTTP/1.1 200"));

  health_server taken("127.0.0.1:" + std::to_string(all.port()), m, [] { return true; });
  auto r = taken.start();
  // The port is in use (SO_REUSEADDR does not share a listening port).
  EXPECT_FALSE(r);
  health_server no_port("127.0.0.1", m, [] { return true; });
  EXPECT_FALSE(no_port.start());
  health_server bad_port("127.0.0.1:http", m, [] { return true; });
  EXPECT_FALSE(bad_port.start());
}

}  // namespace
}  // namespace garage::op
