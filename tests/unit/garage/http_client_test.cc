// The command line's HTTP client: response parsing, and one real exchange
// with a loopback socket server.
#include "garage/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace garage::cli {
namespace {

TEST(http_client, parses_content_length_bodies_and_headers) {
  auto r = parse_http_response(
      "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 404u);
  EXPECT_EQ(r->body, "{}");
  ASSERT_EQ(r->headers.size(), 2u);
  EXPECT_EQ(r->headers[0].first, "content-type");
  EXPECT_EQ(r->headers[0].second, "application/json");
}

TEST(http_client, parses_chunked_and_until_close_bodies) {
  auto r = parse_http_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "abcde");
  r = parse_http_response("HTTP/1.0 200 OK\r\n\r\nall of it");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "all of it");
}

TEST(http_client, rejects_what_is_not_http) {
  EXPECT_FALSE(parse_http_response("").has_value());
  EXPECT_FALSE(parse_http_response("SSH-2.0-OpenSSH\r\n\r\n").has_value());
  EXPECT_FALSE(
      parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").has_value());
  EXPECT_FALSE(parse_http_response("HTTP/1.1 abc OK\r\n\r\n").has_value());
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                   .has_value());
}

TEST(http_client, url_encoding_keeps_unreserved_only) {
  EXPECT_EQ(url_encode("abc-_.~XYZ09"), "abc-_.~XYZ09");
  EXPECT_EQ(url_encode("a b/c&d=é"), "a%20b%2Fc%26d%3D%C3%A9");
}

// Listens on a free loopback port; serves one connection with a canned reply.
class one_shot_server {
 public:
  explicit one_shot_server(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 1);
    thread_ = std::thread([this] { serve(); });
  }
  ~one_shot_server() {
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::string request;  // valid once the client has its response

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    while (true) {
      auto head_end = request.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto cl = request.find("Content-Length: ");
        size_t want = cl == std::string::npos ? 0 : std::stoul(request.substr(cl + 16));
        if (request.size() >= head_end + 4 + want) break;
      }
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    ::close(c);
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string reply_;
  std::thread thread_;
};

TEST(http_client, sends_the_request_and_reads_the_reply) {
  one_shot_server srv("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  http_request req;
  req.method = "POST";
  req.target = "/v2/CreateKey";
  req.headers.emplace_back("Authorization", "Bearer t");
  req.body = R"({"name":"a"})";
  auto r = http_call("127.0.0.1:" + std::to_string(srv.port()), req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "hello");
  EXPECT_TRUE(srv.request.starts_with("POST /v2/CreateKey HTTP/1.1\r\n")) << srv.request;
  EXPECT_NE(srv.request.find("Authorization: Bearer t\r\n"), std::string::npos);
  EXPECT_NE(srv.request.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_TRUE(srv.request.ends_with("\r\n\r\n{\"name\":\"a\"}"));
}

TEST(http_client, a_closed_port_is_unavailable_and_names_the_address) {
  // Bind then close, to get a port nobody listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  std::string where = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto r = http_call(where, http_request{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_NE(r.error().message.find(where), std::string::npos) << r.error().message;
  EXPECT_FALSE(http_call("not an address", http_request{}).has_value());
}

}  // namespace
}  // namespace garage::cli
