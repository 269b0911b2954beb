// network: peers that do not prove the cluster secret, or are not who they
// should be, or send garbage, are disconnected and never reach a handler.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>

#include "rpc/network.h"
#include "rpc/wire.h"
#include "rpc_test_util.h"
#include "util/random.h"

namespace garage::rpc {
namespace {

using namespace std::chrono_literals;
using test::addr_of;
using test::start_node;
using test::temp_dir;
using test::test_options;
using test::wait_until;

struct guarded_node : ::testing::Test {
  temp_dir db;
  std::unique_ptr<network> b;
  std::atomic<int> runs{0};

  void SetUp() override {
    b = start_node(test_options(db.path(), test::secret_a));
    ASSERT_TRUE(b);
    b->register_handler("echo", [this](const node_id&, std::string body) -> result<std::string> {
      runs++;
      return body;
    });
  }

  // b still serves a legitimate peer.
  void expect_b_healthy() {
    temp_dir d;
    auto a = start_node(test_options(d.path(), test::secret_a));
    ASSERT_TRUE(a);
    ASSERT_TRUE(a->connect(b->self(), addr_of(*b)).has_value());
    auto r = a->call(b->self(), "echo", "fine");
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
  }
};

int dial_raw(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until EOF or error; true if the server closed the connection (as
// opposed to the 5 s receive timeout expiring).
bool closed_by_server(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

TEST_F(guarded_node, NodeWithAnotherSecretIsRefused) {
  temp_dir dc;
  auto c = start_node(test_options(dc.path(), test::secret_b));
  ASSERT_TRUE(c);
  auto r = c->connect(b->self(), addr_of(*b));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unauthenticated) << r.error().to_string();
  // The other direction too.
  auto r2 = b->connect(c->self(), addr_of(*c));
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code, errc::unauthenticated) << r2.error().to_string();
  auto call = c->call(b->self(), "echo", "let me in");
  ASSERT_FALSE(call.has_value());
  EXPECT_EQ(call.error().code, errc::unavailable);
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(b->is_up(c->self()));
  for (const auto& p : b->peers()) EXPECT_NE(p.id, c->self());
  EXPECT_EQ(runs.load(), 0);
  expect_b_healthy();
}

TEST_F(guarded_node, DialingTheWrongIdIsRefused) {
  temp_dir da;
  auto a = start_node(test_options(da.path(), test::secret_a));
  ASSERT_TRUE(a);
  auto other = node_identity::generate();
  ASSERT_TRUE(other.has_value());
  auto r = a->connect(other->id(), addr_of(*b));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unauthenticated) << r.error().to_string();
  EXPECT_FALSE(a->is_up(other->id()));
  for (const auto& p : a->peers()) EXPECT_NE(p.id, other->id());
  // Connecting to oneself is refused too.
  auto self = a->connect(a->self(), addr_of(*a));
  EXPECT_FALSE(self.has_value());
}

TEST_F(guarded_node, GarbageOnRawTcpClosesTheConnection) {
  int fd = dial_raw(b->port());
  ASSERT_GE(fd, 0);
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + random_bytes(4096);
  ASSERT_GT(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL), 0);
  EXPECT_TRUE(closed_by_server(fd));
  ::close(fd);
  // Silence: closed by the handshake timeout (3 s in tests).
  int quiet = dial_raw(b->port());
  ASSERT_GE(quiet, 0);
  EXPECT_TRUE(closed_by_server(quiet));
  ::close(quiet);
  EXPECT_EQ(runs.load(), 0);
  expect_b_healthy();
}

// A TLS client with a valid Ed25519 certificate that then sends `after_tls`.
struct tls_client {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  int fd = -1;
  ~tls_client() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
  bool open(uint16_t port, const node_identity& ident) {
    fd = dial_raw(port);
    if (fd < 0) return false;
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    auto cert = ident.make_certificate_pem();
    if (!cert) return false;
    BIO* cb = BIO_new_mem_buf(cert->data(), static_cast<int>(cert->size()));
    X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(ident.private_key_pem().data(),
                              static_cast<int>(ident.private_key_pem().size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    if (!x || !k) return false;
    SSL_CTX_use_certificate(ctx, x);
    SSL_CTX_use_PrivateKey(ctx, k);
    X509_free(x);
    EVP_PKEY_free(k);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    return SSL_connect(ssl) == 1;
  }
  std::string exporter() {
    unsigned char out[32];
    SSL_export_keying_material(ssl, out, 32, wire::exporter_label.data(),
                               wire::exporter_label.size(), nullptr, 0, 0);
    return std::string(reinterpret_cast<char*>(out), 32);
  }
  void send(const std::string& s) { SSL_write(ssl, s.data(), static_cast<int>(s.size())); }
  // True if the server closed the session without sending anything but its hello.
  bool closed_after_hello() {
    char buf[4096];
    size_t got = 0;
    for (;;) {
      errno = 0;
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) {
        int e = SSL_get_error(ssl, n);
        if (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        // The server's hello is all it may have sent.
        return got <= 4 + wire::max_hello_size;
      }
      got += static_cast<size_t>(n);
    }
  }
};

TEST_F(guarded_node, TlsWithABadHelloIsClosedBeforeAnyRequest) {
  auto ident = node_identity::generate();
  ASSERT_TRUE(ident.has_value());
  // 1. A well-formed hello with a MAC made from the wrong secret, followed
  // by a request frame that must never be read.
  {
    tls_client t;
    ASSERT_TRUE(t.open(b->port(), *ident));
    wire::hello h;
    h.id = ident->id();
    h.public_addr = "127.0.0.1:1";
    h.mac = wire::hello_mac(test::secret_b, t.exporter(), h.id);
    std::string req = wire::encode_request(priority::normal, "echo", "sneaky");
    wire::frame_header fh;
    fh.msg_id = 1;
    fh.kind = wire::frame_kind::request;
    fh.flags = wire::flag_last;
    fh.length = static_cast<uint32_t>(req.size());
    t.send(wire::encode_hello(h) + wire::encode_frame_header(fh) + req);
    EXPECT_TRUE(t.closed_after_hello());
  }
  // 2. The right secret but the id of another key than the certificate's.
  {
    tls_client t;
    ASSERT_TRUE(t.open(b->port(), *ident));
    auto other = node_identity::generate();
    wire::hello h;
    h.id = other->id();
    h.mac = wire::hello_mac(test::secret_a, t.exporter(), h.id);
    t.send(wire::encode_hello(h));
    EXPECT_TRUE(t.closed_after_hello());
  }
  // 3. Garbage instead of a hello.
  {
    tls_client t;
    ASSERT_TRUE(t.open(b->port(), *ident));
    t.send(random_bytes(2000));
    EXPECT_TRUE(t.closed_after_hello());
  }
  // 4. A MAC replayed from another TLS session.
  {
    tls_client t1, t2;
    ASSERT_TRUE(t1.open(b->port(), *ident));
    ASSERT_TRUE(t2.open(b->port(), *ident));
    wire::hello h;
    h.id = ident->id();
    h.mac = wire::hello_mac(test::secret_a, t1.exporter(), h.id);
    t2.send(wire::encode_hello(h));
    EXPECT_TRUE(t2.closed_after_hello());
  }
  EXPECT_EQ(runs.load(), 0);
  EXPECT_FALSE(b->is_up(ident->id()));
  expect_b_healthy();
}

TEST_F(guarded_node, GarbageFramesAfterAValidHelloCloseTheConnection) {
  auto ident = node_identity::generate();
  ASSERT_TRUE(ident.has_value());
  tls_client t;
  ASSERT_TRUE(t.open(b->port(), *ident));
  wire::hello h;
  h.id = ident->id();
  h.mac = wire::hello_mac(test::secret_a, t.exporter(), h.id);
  t.send(wire::encode_hello(h));
  ASSERT_TRUE(wait_until([&] { return b->is_up(ident->id()); }));
  // A frame header announcing 1 GiB.
  t.send(std::string("\0\0\0\1\1\1\x40\0\0\0", 10));
  ASSERT_TRUE(wait_until([&] { return !b->is_up(ident->id()); }));
  EXPECT_EQ(runs.load(), 0);
  expect_b_healthy();
}

// A peer that ignores flow control cannot make a node buffer more than a
// stream's credit: the connection is closed instead.
TEST_F(guarded_node, AStreamSentBeyondItsCreditClosesTheConnection) {
  std::atomic<bool> started{false};
  b->register_upload_handler(
      "sink", [&](const node_id&, std::string, stream_reader&) -> result<std::string> {
        started = true;  // and never reads
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        return std::string();
      });
  auto ident = node_identity::generate();
  ASSERT_TRUE(ident.has_value());
  tls_client t;
  ASSERT_TRUE(t.open(b->port(), *ident));
  wire::hello h;
  h.id = ident->id();
  h.mac = wire::hello_mac(test::secret_a, t.exporter(), h.id);
  t.send(wire::encode_hello(h));
  ASSERT_TRUE(wait_until([&] { return b->is_up(ident->id()); }));
  std::string head = wire::encode_request(priority::normal, "sink", "");
  wire::frame_header fh{1, wire::frame_kind::request_stream, 0, static_cast<uint32_t>(head.size())};
  t.send(wire::encode_frame_header(fh) + head);
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  fh.length = wire::max_frame_payload;
  std::string chunk(wire::max_frame_payload, 'x');
  for (size_t sent = 0; sent <= wire::initial_stream_credit; sent += chunk.size()) {
    t.send(wire::encode_frame_header(fh) + chunk);
  }
  ASSERT_TRUE(wait_until([&] { return !b->is_up(ident->id()); }));
  EXPECT_LE(b->stream_buffer_high_water(), wire::initial_stream_credit);
  expect_b_healthy();
}

}  // namespace
}  // namespace garage::rpc
