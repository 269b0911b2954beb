// wire: every decoder refuses malformed input without crashing.
#include "rpc/wire.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "rpc/peer_list.h"
#include "rpc_test_util.h"
#include "util/random.h"

namespace garage::rpc::wire {
namespace {

node_id some_id(uint8_t b) {
  node_id id{};
  id.bytes.fill(b);
  return id;
}

TEST(wire, HelloRoundTrip) {
  hello h;
  h.id = some_id(3);
  h.public_addr = "10.0.0.1:3901";
  h.mac = hello_mac("secret", "exporter", h.id);
  std::string enc = encode_hello(h);
  ASSERT_GT(enc.size(), 4u);
  auto d = decode_hello(std::string_view(enc).substr(4));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->id, h.id);
  EXPECT_EQ(d->public_addr, h.public_addr);
  EXPECT_EQ(d->mac, h.mac);
  EXPECT_EQ(d->version, protocol_version);
  // The MAC binds the session and the id.
  EXPECT_NE(hello_mac("secret", "exporter", some_id(4)), h.mac);
  EXPECT_NE(hello_mac("secret", "exporteR", h.id), h.mac);
  EXPECT_NE(hello_mac("secreT", "exporter", h.id), h.mac);
  EXPECT_FALSE(decode_hello(std::string_view(enc).substr(5)).has_value());
  EXPECT_FALSE(decode_hello(std::string(enc).substr(4) + "x").has_value());
}

TEST(wire, FrameHeaderLimits) {
  frame_header h{42, frame_kind::response, flag_last, 65536};
  auto d = decode_frame_header(encode_frame_header(h));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->msg_id, 42u);
  EXPECT_EQ(d->kind, frame_kind::response);
  EXPECT_EQ(d->flags, flag_last);
  h.length = max_frame_payload + 1;
  EXPECT_FALSE(decode_frame_header(encode_frame_header(h)).has_value());
  std::string bad_kind = encode_frame_header({1, frame_kind::request, 0, 1});
  bad_kind[4] = 9;
  EXPECT_FALSE(decode_frame_header(bad_kind).has_value());
  std::string bad_flags = encode_frame_header({1, frame_kind::request, 0, 1});
  bad_flags[5] = 4;
  EXPECT_FALSE(decode_frame_header(bad_flags).has_value());
  EXPECT_FALSE(decode_frame_header("short").has_value());
}

TEST(wire, RequestAndResponseRoundTrip) {
  auto r = decode_request(encode_request(priority::background, "block/put", "data"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->prio, priority::background);
  EXPECT_EQ(r->endpoint, "block/put");
  EXPECT_EQ(r->body, "data");
  auto ok = decode_response(encode_response(std::string("body")));
  ASSERT_TRUE(ok.has_value());
  ASSERT_TRUE(ok->has_value());
  EXPECT_EQ(**ok, "body");
  auto err = decode_response(encode_response(error(errc::too_large, "big")));
  ASSERT_TRUE(err.has_value());
  ASSERT_FALSE(err->has_value());
  EXPECT_EQ(err->error().code, errc::too_large);
  EXPECT_EQ(err->error().message, "big");
  EXPECT_FALSE(decode_response(std::string("\x7f\0\0\0\0", 5)).has_value());
  EXPECT_FALSE(decode_request(std::string("\x05\0\0", 3)).has_value());
}

TEST(wire, StreamFramesTrailersAndControl) {
  for (uint8_t k = 1; k <= 6; ++k) {
    auto d = decode_frame_header(encode_frame_header({7, static_cast<frame_kind>(k), 0, 10}));
    ASSERT_TRUE(d.has_value()) << int(k);
    EXPECT_EQ(static_cast<uint8_t>(d->kind), k);
  }
  std::string unknown = encode_frame_header({1, frame_kind::request, 0, 1});
  unknown[4] = 7;
  EXPECT_FALSE(decode_frame_header(unknown).has_value());
  unknown[4] = 0;
  EXPECT_FALSE(decode_frame_header(unknown).has_value());
  auto good = decode_trailer(encode_trailer(ok()));
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(good->has_value());
  auto bad = decode_trailer(encode_trailer(error(errc::io_error, "disk")));
  ASSERT_TRUE(bad.has_value());
  ASSERT_FALSE(bad->has_value());
  EXPECT_EQ(bad->error().code, errc::io_error);
  EXPECT_EQ(bad->error().message, "disk");
  EXPECT_FALSE(decode_trailer("").has_value());
  EXPECT_FALSE(decode_trailer(encode_trailer(ok()) + "x").has_value());
  EXPECT_FALSE(decode_trailer(std::string("\x7f\0\0\0\0", 5)).has_value());
  auto credit = decode_control(encode_control({control_op::credit, 65536}));
  ASSERT_TRUE(credit.has_value());
  EXPECT_EQ(credit->op, control_op::credit);
  EXPECT_EQ(credit->credit, 65536u);
  auto cancel = decode_control(encode_control({control_op::cancel, 0}));
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(cancel->op, control_op::cancel);
  EXPECT_FALSE(decode_control("").has_value());
  EXPECT_FALSE(decode_control("\x03").has_value());
  EXPECT_FALSE(decode_control("\x01\0\0").has_value());
  EXPECT_FALSE(decode_control(encode_control({control_op::cancel, 0}) + "x").has_value());
}

TEST(wire, PeerListAndPing) {
  std::vector<peer_entry> list{{some_id(1), "a:1"}, {some_id(2), "[::1]:3901"}};
  auto d = decode_peer_list(encode_peer_list(list));
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[1].id, some_id(2));
  EXPECT_EQ((*d)[1].addr, "[::1]:3901");
  auto p = decode_ping(encode_ping("status"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, "status");
  EXPECT_FALSE(decode_ping("").has_value());
}

TEST(wire, DecodersSurviveRandomBytes) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; i++) {
    std::string junk = random_bytes(rng() % 200);
    (void)decode_hello(junk);
    (void)decode_frame_header(junk);
    (void)decode_request(junk);
    (void)decode_response(junk);
    (void)decode_peer_list(junk);
    (void)decode_ping(junk);
    (void)parse_peer_address(junk);
    (void)decode_trailer(junk);
    (void)decode_control(junk);
  }
  // Mutations of valid encodings.
  std::string valid = encode_peer_list({{some_id(1), "host:1"}});
  for (int i = 0; i < 5000; i++) {
    std::string m = valid;
    m[rng() % m.size()] = static_cast<char>(rng());
    if (rng() % 2) m.resize(rng() % m.size());
    (void)decode_peer_list(m);
  }
}

TEST(wire, PeerAddresses) {
  std::string hex = some_id(0xab).hex();
  auto p = parse_peer_address(hex + "@127.0.0.1:3901");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->id, some_id(0xab));
  EXPECT_EQ(p->addr, "127.0.0.1:3901");
  EXPECT_TRUE(parse_peer_address(hex + "@[::1]:3901").has_value());
  EXPECT_TRUE(parse_peer_address(hex + "@node1.example:3901").has_value());
  for (std::string bad : {std::string("127.0.0.1:3901"), hex + "@", hex + "@host", hex + "@host:",
                          hex + "@:3901", hex.substr(2) + "@h:1", "zz" + hex.substr(2) + "@h:1"}) {
    EXPECT_FALSE(parse_peer_address(bad).has_value()) << bad;
  }
}

TEST(peer_list, SaveAndLoad) {
  test::temp_dir d;
  std::string path = d.path() + "/peer_list";
  auto empty = load_peer_list(path);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  std::map<node_id, std::string> peers{{some_id(1), "a:1"}, {some_id(2), "b:2"}};
  ASSERT_TRUE(save_peer_list(path, peers).has_value());
  auto back = load_peer_list(path);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, peers);
  {
    std::ofstream f(path, std::ios::trunc);
    f << "garage-peer-list 9\n";
  }
  auto bad = load_peer_list(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, errc::corrupted);
}

}  // namespace
}  // namespace garage::rpc::wire
