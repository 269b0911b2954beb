// The HTTP server against a plain blocking socket client: what goes on the
// wire is written and read byte for byte here, so the tests see exactly what a
// client would.
#include "api/common/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <future>
#include <map>
#include <thread>

#include "api/common/metrics.h"
#include "api/common/runtime.h"
#include "util/hash.h"

namespace garage::http {
namespace {

using namespace std::chrono_literals;

// ---- a blocking client ------------------------------------------------------

struct raw_response {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class client {
 public:
  explicit client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};  // no test waits this long unless the server is broken
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~client() { close(); }
  bool connected() const { return connected_; }

  // False when the server closed or reset.
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads exactly n bytes (false on EOF, error or timeout).
  bool read_exact(size_t n, std::string& out) {
    while (pending_.size() < n)
      if (!fill()) return false;
    out = pending_.substr(0, n);
    pending_.erase(0, n);
    return true;
  }

  // The bytes up to and including the first "\r\n\r\n".
  std::optional<std::string> read_head() {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    std::string head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    return head;
  }

  // One response; its body per Content-Length (none for HEAD).
  std::optional<raw_response> read_response(bool head_request = false) {
    auto head = read_head();
    if (!head) return std::nullopt;
    raw_response r;
    if (head->rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    r.status = static_cast<unsigned>(std::stoul(head->substr(9, 3)));
    size_t pos = head->find("\r\n") + 2;
    while (pos < head->size() - 2) {
      size_t eol = head->find("\r\n", pos);
      std::string line = head->substr(pos, eol - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
      pos = eol + 2;
    }
    if (!head_request && r.headers.count("content-length")) {
      if (!read_exact(std::stoull(r.headers["content-length"]), r.body)) return std::nullopt;
    }
    return r;
  }

  // True when the server closes the connection (EOF or reset) with nothing
  // more to read.
  bool at_eof() {
    if (!pending_.empty()) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n > 0) pending_.push_back(c);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool fill() {
    char buf[64 * 1024];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

// Deterministic bytes, so that both ends can produce and check them.
std::string pattern(size_t n, size_t offset = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(((offset + i) * 131 + 7) % 251);
  return s;
}

template <class T>
T wait_for(std::future<T>& f) {
  if (f.wait_for(10s) != std::future_status::ready) throw std::runtime_error("timed out");
  return f.get();
}

// ---- fixture ---------------------------------------------------------------

// Members are destroyed in reverse: the server first, then the runtime (its
// threads), so a handler never outlives what the test captured.
struct test_server {
  runtime rt{2, 2};
  std::unique_ptr<server> srv;

  explicit test_server(handler h, std::shared_ptr<http_metrics> metrics = nullptr,
                       server_options opts = {}) {
    srv = std::make_unique<server>(rt, std::move(opts), std::move(h), std::move(metrics));
    auto r = srv->listen("127.0.0.1:0");
    if (!r) throw std::runtime_error(r.error().to_string());
    srv->start();
    rt.start();
  }
  ~test_server() {
    srv.reset();
    rt.stop();
    rt.join();
  }
  uint16_t port() const { return srv->port(); }
};

response_head status(unsigned s) {
  response_head h;
  h.status = s;
  return h;
}

task<void> hello(exchange& ex) {
  ex.set_endpoint("Hello");
  auto h = status(200);
  h.headers.add("Content-Type", "text/plain");
  (void)co_await ex.respond(std::move(h), "hello " + ex.head().method + " " + ex.head().target);
}

// ---- tests -----------------------------------------------------------------

TEST(server, simple_get) {
  test_server ts(hello);
  client c(ts.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /bucket/a%20b?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "hello GET /bucket/a%20b?x=1");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  EXPECT_EQ(r->header("server"), "garage");
  EXPECT_FALSE(r->header("date").empty());
  EXPECT_EQ(r->header("connection"), "");
}

TEST(server, request_head_is_filled) {
  std::promise<request_head> seen;
  test_server ts([&](exchange& ex) -> task<void> {
    seen.set_value(ex.head());
    (void)co_await ex.read_body_all(1024);
    (void)co_await ex.respond(status(204), {});
  });
  client c(ts.port());
  ASSERT_TRUE(
      c.send("PUT /b/k?uploads HTTP/1.1\r\nHost: h\r\nX-Amz-Meta-A: 1\r\nx-amz-meta-a: 2\r\n"
             "Content-Length: 3\r\n\r\nabc"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204u);
  EXPECT_EQ(r->header("content-length"), "");  // 204 has none
  auto f = seen.get_future();
  auto h = wait_for(f);
  EXPECT_EQ(h.method, "PUT");
  EXPECT_EQ(h.path(), "/b/k");
  EXPECT_EQ(h.query(), "uploads");
  ASSERT_TRUE(h.content_length);
  EXPECT_EQ(*h.content_length, 3u);
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ(h.headers.get("host"), "h");
  EXPECT_EQ(h.headers.get("X-AMZ-META-A"), "1");  // first of the two, in order
  EXPECT_EQ(h.headers.items().size(), 4u);
}

TEST(server, keep_alive_two_requests_on_one_connection) {
  test_server ts(hello);
  client c(ts.port());
  ASSERT_TRUE(c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->body, "hello GET /one");
  ASSERT_TRUE(c.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "hello GET /two");
  EXPECT_EQ(ts.srv->connection_count(), 1u);
}

TEST(server, pipelined_requests_answered_in_order) {
  test_server ts(hello);
  client c(ts.port());
  ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"));
  for (const char* p : {"/a", "/b", "/c"}) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, std::string("hello GET ") + p);
  }
}

TEST(server, http10_closes_unless_keep_alive) {
  test_server ts(hello);
  {
    client c(ts.port());
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "hello GET /old");
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(c.at_eof());
  }
  client c(ts.port());
  ASSERT_TRUE(c.send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "keep-alive");
  ASSERT_TRUE(c.send("GET /2 HTTP/1.0\r\n\r\n"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello GET /2");
}

TEST(server, connection_close_is_honoured) {
  test_server ts(hello);
  client c(ts.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.at_eof());
}

constexpr size_t read_buffer_size = 256 * 1024;

// Reads the body through a 256 KiB buffer and answers "<bytes> <largest
// read> <blake2b hex>".
struct body_digest {
  std::atomic<uint64_t> first_bytes_seen{0};
  handler make() {
    return [this](exchange& ex) -> task<void> {
      std::vector<char> buf(read_buffer_size);
      blake2b_256_hasher hasher;
      uint64_t total = 0;
      size_t largest = 0;
      for (;;) {
        auto r = co_await ex.read_body(buf);
        if (!r) {
          (void)co_await ex.respond(status(400), r.error().to_string());
          co_return;
        }
        if (*r == 0) break;
        largest = std::max(largest, *r);
        hasher.update(std::string_view(buf.data(), *r));
        total += *r;
        if (first_bytes_seen.load() == 0) first_bytes_seen.store(total);
      }
      (void)co_await ex.respond(status(200), std::to_string(total) + " " + std::to_string(largest) +
                                                 " " + hasher.finish().hex());
    };
  }
};

TEST(server, put_20mib_streams_through_read_body) {
  body_digest d;
  test_server ts(d.make());
  const size_t total = 20 * 1024 * 1024;
  client c(ts.port());
  ASSERT_TRUE(c.send("PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(total) +
                     "\r\n\r\n"));
  blake2b_256_hasher expect;
  size_t sent = 0;
  const size_t piece = 1024 * 1024;
  // The first MiB, then wait until the handler has seen body bytes: it reads
  // while the body is still arriving (nothing waits for the whole body).
  std::string p = pattern(piece, 0);
  ASSERT_TRUE(c.send(p));
  expect.update(p);
  sent += piece;
  for (int i = 0; i < 1000 && d.first_bytes_seen.load() == 0; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_GT(d.first_bytes_seen.load(), 0u);
  EXPECT_LT(d.first_bytes_seen.load(), total);
  while (sent < total) {
    p = pattern(piece, sent);
    ASSERT_TRUE(c.send(p));
    expect.update(p);
    sent += piece;
  }
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  std::string largest_and_hash = r->body.substr(r->body.find(' ') + 1);
  EXPECT_EQ(r->body.substr(0, r->body.find(' ')), std::to_string(total));
  size_t largest = std::stoull(largest_and_hash.substr(0, largest_and_hash.find(' ')));
  EXPECT_LE(largest, read_buffer_size);
  EXPECT_GT(largest, 0u);
  EXPECT_EQ(largest_and_hash.substr(largest_and_hash.find(' ') + 1), expect.finish().hex());
}

TEST(server, chunked_request_body_is_decoded) {
  body_digest d;
  test_server ts(d.make());
  client c(ts.port());
  std::string body = pattern(300000);
  std::string wire = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  // Chunks of odd sizes, one with an extension, then a trailer.
  size_t off = 0;
  for (size_t n : {1u, 4096u, 70000u, 225903u}) {
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx%s\r\n", n, n == 4096 ? ";ext=1" : "");
    wire += size_line;
    wire += body.substr(off, n);
    wire += "\r\n";
    off += n;
  }
  ASSERT_EQ(off, body.size());
  wire += "0\r\nX-Trailer: t\r\n\r\n";
  ASSERT_TRUE(c.send(wire));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body.substr(0, r->body.find(' ')), std::to_string(body.size()));
  EXPECT_EQ(r->body.substr(r->body.rfind(' ') + 1), blake2b_256(body).hex());
  // The connection is still usable.
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.substr(0, 2), "0 ");
}

TEST(server, read_body_all_and_its_limit) {
  test_server ts([](exchange& ex) -> task<void> {
    auto r = co_await ex.read_body_all(10);
    if (!r)
      (void)co_await ex.respond(status(r.error().code == errc::too_large ? 413 : 400), {});
    else
      (void)co_await ex.respond(status(200), "got " + *r);
  });
  client c(ts.port());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "got hello");
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "got abc");
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413u);
  client c2(ts.port());
  ASSERT_TRUE(
      c2.send("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello "
              "\r\n5\r\nworld\r\n0\r\n\r\n"));
  r = c2.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413u);
}

TEST(server, expect_100_continue_sent_when_body_is_read) {
  test_server ts([](exchange& ex) -> task<void> {
    auto body = co_await ex.read_body_all(100);
    // (GCC 12 miscompiles a ?: temporary inside a co_await expression: the
    // string is built first.)
    std::string text = body ? *body : "error";
    (void)co_await ex.respond(status(200), std::move(text));
  });
  client c(ts.port());
  ASSERT_TRUE(
      c.send("PUT /k HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  // The body is not sent until the server asks for it.
  auto interim = c.read_head();
  ASSERT_TRUE(interim);
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "hello");
}

TEST(server, expect_100_continue_not_sent_when_handler_refuses) {
  test_server ts(
      [](exchange& ex) -> task<void> { (void)co_await ex.respond(status(403), "denied"); });
  client c(ts.port());
  ASSERT_TRUE(c.send(
      "PUT /k HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403u);  // not a 100 first
  EXPECT_EQ(r->body, "denied");
  // The body never came: the connection cannot be reused.
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.at_eof());
}

TEST(server, streamed_10mib_response) {
  const size_t total = 10 * 1024 * 1024;
  test_server ts([&](exchange& ex) -> task<void> {
    if (!co_await ex.begin_response(status(200), total)) co_return;
    for (size_t off = 0; off < total; off += read_buffer_size) {
      std::string p = pattern(std::min(read_buffer_size, total - off), off);
      if (!co_await ex.write_body(p)) co_return;
    }
    (void)co_await ex.end_response();
  });
  client c(ts.port());
  ASSERT_TRUE(c.send("GET /big HTTP/1.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->header("content-length"), std::to_string(total));
  ASSERT_EQ(r->body.size(), total);
  EXPECT_EQ(blake2b_256(r->body).hex(), blake2b_256(pattern(total)).hex());
  // Still usable after.
  ASSERT_TRUE(c.send("GET /small HTTP/1.1\r\n\r\n"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), total);
}

TEST(server, head_gets_headers_only) {
  std::atomic<int> write_results_ok{0};
  test_server ts([&](exchange& ex) -> task<void> {
    if (ex.head().method == "HEAD") {
      if (!co_await ex.begin_response(status(200), 1000)) co_return;
      if (co_await ex.write_body(std::string(1000, 'x'))) ++write_results_ok;
      (void)co_await ex.end_response();
    } else {
      co_await hello(ex);
    }
  });
  client c(ts.port());
  ASSERT_TRUE(c.send("HEAD /obj HTTP/1.1\r\n\r\n"));
  auto r = c.read_response(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->header("content-length"), "1000");
  // If the 1000 bytes had been sent, this response would not parse.
  ASSERT_TRUE(c.send("GET /next HTTP/1.1\r\n\r\n"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello GET /next");
  EXPECT_EQ(write_results_ok.load(), 1);
}

TEST(server, head_with_respond_sends_no_body) {
  test_server ts(hello);
  client c(ts.port());
  ASSERT_TRUE(c.send("HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n"));
  auto r = c.read_response(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-length"), "13");  // "hello HEAD /x"
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello GET /y");
}

TEST(server, handler_without_response_gets_500) {
  test_server ts([](exchange&) -> task<void> { co_return; });
  client c(ts.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500u);
  // The connection survives it.
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500u);
}

TEST(server, throwing_handler_gets_500) {
  test_server ts([](exchange&) -> task<void> {
    throw std::runtime_error("boom");
    co_return;
  });
  client c(ts.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500u);
}

TEST(server, short_streamed_response_closes_connection) {
  test_server ts([](exchange& ex) -> task<void> {
    if (!co_await ex.begin_response(status(200), 100)) co_return;
    (void)co_await ex.write_body("only ten b");
    auto e = co_await ex.end_response();
    EXPECT_FALSE(e);
  });
  client c(ts.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_NE(head->find("Content-Length: 100\r\n"), std::string::npos);
  std::string body;
  EXPECT_FALSE(c.read_exact(100, body));  // the client sees a truncated body
}

TEST(server, malformed_request_line_gets_400_and_close) {
  std::atomic<int> calls{0};
  test_server ts([&](exchange& ex) -> task<void> {
    ++calls;
    co_await hello(ex);
  });
  client c(ts.port());
  ASSERT_TRUE(c.send("GARBAGE\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400u);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.at_eof());

  client c2(ts.port());
  ASSERT_TRUE(c2.send("GET / HTTP/1.1\r\nBad Header\r\n\r\n"));
  r = c2.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400u);

  client c3(ts.port());
  ASSERT_TRUE(c3.send("PUT / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"));
  r = c3.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400u);
  EXPECT_EQ(calls.load(), 0);
}

TEST(server, header_too_large_gets_431) {
  server_options opts;
  opts.max_header_bytes = 4096;
  test_server ts(hello, nullptr, opts);
  client c(ts.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431u);
  EXPECT_TRUE(c.at_eof());
  // Just under the limit is fine.
  client c2(ts.port());
  ASSERT_TRUE(c2.send("GET / HTTP/1.1\r\nX-Big: " + std::string(3000, 'a') + "\r\n\r\n"));
  r = c2.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
}

TEST(server, client_disconnect_mid_body_is_an_error_for_the_handler) {
  std::promise<std::string> outcome;
  test_server ts([&](exchange& ex) -> task<void> {
    std::vector<char> buf(64 * 1024);
    uint64_t total = 0;
    for (;;) {
      auto r = co_await ex.read_body(buf);
      if (!r) {
        outcome.set_value(std::string(errc_name(r.error().code)) + " after " +
                          std::to_string(total));
        co_return;
      }
      if (*r == 0) {
        outcome.set_value("complete");
        co_return;
      }
      total += *r;
    }
  });
  {
    client c(ts.port());
    ASSERT_TRUE(c.send("PUT /x HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n" + pattern(1000)));
  }
  auto f = outcome.get_future();
  EXPECT_EQ(wait_for(f), std::string(errc_name(errc::io_error)) + " after 1000");
}

TEST(server, client_disconnect_mid_chunked_body_is_an_error) {
  std::promise<bool> failed;
  test_server ts([&](exchange& ex) -> task<void> {
    auto r = co_await ex.read_body_all(1 << 20);
    failed.set_value(!r);
  });
  {
    client c(ts.port());
    ASSERT_TRUE(c.send("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nabc"));
  }
  auto f = failed.get_future();
  EXPECT_TRUE(wait_for(f));
}

TEST(server, small_unread_body_is_drained_large_one_closes) {
  test_server ts(hello);  // never reads the body
  client c(ts.port());
  ASSERT_TRUE(
      c.send("PUT /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello PUT /a");
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello GET /b");

  client c2(ts.port());
  ASSERT_TRUE(c2.send("PUT /a HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n" + pattern(5000)));
  r = c2.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello PUT /a");
  EXPECT_EQ(r->header("connection"), "close");
  c2.shutdown_write();
  EXPECT_TRUE(c2.at_eof());
}

TEST(server, run_blocking_runs_on_the_pool_and_resumes_on_io) {
  runtime rt(1, 2);
  rt.start();
  std::promise<std::tuple<std::thread::id, std::thread::id, std::thread::id, int>> done;
  boost::asio::co_spawn(
      rt.io(),
      [&]() -> task<void> {
        auto before = std::this_thread::get_id();
        std::thread::id pool_thread;
        int v = co_await run_blocking(rt, [&] {
          pool_thread = std::this_thread::get_id();
          return 42;
        });
        co_await run_blocking(rt, [] {});  // void works too
        done.set_value({before, pool_thread, std::this_thread::get_id(), v});
      },
      boost::asio::detached);
  auto f = done.get_future();
  auto [before, pool_thread, after, v] = wait_for(f);
  EXPECT_EQ(v, 42);
  EXPECT_NE(pool_thread, before);
  EXPECT_NE(pool_thread, std::this_thread::get_id());
  EXPECT_EQ(after, before);  // one I/O thread: back on it
  rt.stop();
  rt.join();
}

TEST(server, run_blocking_rethrows_in_the_coroutine) {
  runtime rt(1, 1);
  rt.start();
  std::promise<std::string> done;
  boost::asio::co_spawn(
      rt.io(),
      [&]() -> task<void> {
        try {
          co_await run_blocking(rt, []() -> int { throw std::runtime_error("from pool"); });
          done.set_value("no exception");
        } catch (const std::exception& e) {
          done.set_value(e.what());
        }
      },
      boost::asio::detached);
  auto f = done.get_future();
  EXPECT_EQ(wait_for(f), "from pool");
}

TEST(server, handler_can_use_run_blocking) {
  runtime* rtp = nullptr;
  test_server ts([&](exchange& ex) -> task<void> {
    auto v = co_await run_blocking(*rtp, [] { return std::string("from the pool"); });
    (void)co_await ex.respond(status(200), v);
  });
  rtp = &ts.rt;
  client c(ts.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "from the pool");
}

TEST(runtime, run_blocks_until_stop) {
  runtime rt(2, 1);
  std::atomic<bool> ran{false};
  boost::asio::post(rt.io(), [&] {
    ran = true;
    rt.stop();  // from an I/O thread
  });
  rt.run();  // returns once stopped
  EXPECT_TRUE(ran.load());
}

TEST(runtime, shutdown_signal_calls_back_on_sigterm) {
  runtime rt(1, 1);
  rt.start();
  std::promise<int> got;
  std::atomic<bool> once{false};
  shutdown_signal sig(rt, [&](int signo) {
    if (!once.exchange(true)) got.set_value(signo);
  });
  ASSERT_EQ(::raise(SIGTERM), 0);  // caught by the signal_set, not fatal
  auto f = got.get_future();
  EXPECT_EQ(wait_for(f), SIGTERM);
}

TEST(server, listen_resolves_host_names) {
  runtime rt(1, 1);
  server s(rt, {}, hello, nullptr);
  ASSERT_TRUE(s.listen("localhost:0"));
  EXPECT_NE(s.port(), 0);
  auto r = s.listen("no-such-host.invalid:80");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no-such-host.invalid:80"), std::string::npos);
}

TEST(server, listen_on_busy_port_names_the_address) {
  test_server ts(hello);
  runtime rt(1, 1);
  server other(rt, {}, hello, nullptr);
  std::string addr = "127.0.0.1:" + std::to_string(ts.port());
  auto r = other.listen(addr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "s3 api: cannot bind " + addr + ": Address already in use");
}

TEST(server, listen_rejects_malformed_addresses) {
  runtime rt(1, 1);
  server s(rt, {.name = "admin"}, hello, nullptr);
  for (const char* a : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "[::1:80", "1.2.3.4:x"}) {
    auto r = s.listen(a);
    ASSERT_FALSE(r) << a;
    EXPECT_EQ(r.error().code, errc::invalid_argument) << a;
    EXPECT_NE(r.error().message.find("admin api:"), std::string::npos);
  }
  EXPECT_TRUE(s.listen("[::1]:0") || true);  // no IPv6 on some hosts: only must not crash
}

TEST(server, metrics_count_requests) {
  prometheus::Registry registry;
  auto metrics = std::make_shared<http_metrics>(registry);
  test_server ts(
      [](exchange& ex) -> task<void> {
        if (ex.head().method == "GET") {
          ex.set_endpoint("Other");
          (void)co_await ex.respond(status(200), {});
          co_return;
        }
        ex.set_endpoint("PutThing");
        auto body = co_await ex.read_body_all(1024);
        std::string text = "ok:" + (body ? *body : std::string());
        (void)co_await ex.respond(status(201), std::move(text));
      },
      metrics);
  client c(ts.port());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nContent-Length: 7\r\n\r\npayload"));
  ASSERT_TRUE(c.read_response());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
  ASSERT_TRUE(c.read_response());
  // A third request: once it is answered, the first two are surely recorded
  // (a request is recorded before the next one is read).
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(c.read_response());
  std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(
      text.find("garage_http_requests_total{api=\"s3\",endpoint=\"PutThing\",status=\"201\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("garage_http_request_bytes_total{api=\"s3\"} 10"), std::string::npos) << text;
  EXPECT_NE(text.find("garage_http_response_bytes_total{api=\"s3\"} 16"), std::string::npos)
      << text;
  EXPECT_NE(text.find("garage_http_connections{api=\"s3\"} 1"), std::string::npos) << text;
  EXPECT_NE(
      text.find("garage_http_request_duration_seconds_count{api=\"s3\",endpoint=\"PutThing\"} 2"),
      std::string::npos)
      << text;
}

TEST(server, stop_closes_idle_and_lets_in_flight_finish) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  runtime* rtp = nullptr;
  test_server ts([&](exchange& ex) -> task<void> {
    if (ex.head().target == "/slow") {
      entered.set_value();
      co_await run_blocking(*rtp, [&] { released.wait(); });
    }
    co_await hello(ex);
  });
  rtp = &ts.rt;
  client idle(ts.port());
  ASSERT_TRUE(idle.send("GET /first HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(idle.read_response());
  client busy(ts.port());
  ASSERT_TRUE(busy.send("GET /slow HTTP/1.1\r\n\r\n"));
  auto e = entered.get_future();
  wait_for(e);

  std::promise<void> drained;
  ts.srv->stop([&] { drained.set_value(); });
  EXPECT_TRUE(idle.at_eof());  // closed at once
  release.set_value();
  auto r = busy.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello GET /slow");
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(busy.at_eof());
  auto d = drained.get_future();
  wait_for(d);
  EXPECT_EQ(ts.srv->connection_count(), 0u);
  // No longer accepting.
  client late(ts.port());
  EXPECT_FALSE(late.connected() && late.send("GET / HTTP/1.1\r\n\r\n") && late.read_response());
}

TEST(server, stop_cuts_after_grace) {
  std::promise<std::string> outcome;
  std::promise<void> entered;
  server_options opts;
  opts.shutdown_grace = std::chrono::seconds(0);
  test_server ts(
      [&](exchange& ex) -> task<void> {
        std::vector<char> buf(1024);
        // The stop below runs on this strand only once the read is pending.
        entered.set_value();
        auto r = co_await ex.read_body(buf);  // the client never sends it
        outcome.set_value(r ? "read" : errc_name(r.error().code));
      },
      nullptr, opts);
  client c(ts.port());
  ASSERT_TRUE(c.send("PUT / HTTP/1.1\r\nContent-Length: 100\r\n\r\n"));
  auto e = entered.get_future();
  wait_for(e);
  std::promise<void> drained;
  ts.srv->stop([&] { drained.set_value(); });
  auto d = drained.get_future();
  wait_for(d);
  auto f = outcome.get_future();
  EXPECT_EQ(wait_for(f), std::string(errc_name(errc::io_error)));
}

TEST(server, invalid_response_headers_are_dropped) {
  test_server ts([](exchange& ex) -> task<void> {
    auto h = status(200);
    h.headers.add("X-Ok", "fine");
    h.headers.add("X-Evil", "a\r\nSet-Cookie: x");
    h.headers.add("Content-Length", "999");
    (void)co_await ex.respond(std::move(h), "body");
  });
  client c(ts.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("x-ok"), "fine");
  EXPECT_EQ(r->header("x-evil"), "");
  EXPECT_EQ(r->header("set-cookie"), "");
  EXPECT_EQ(r->header("content-length"), "4");
  EXPECT_EQ(r->body, "body");
}

}  // namespace
}  // namespace garage::http
