// util/codec: round trips of every primitive, big-endian ordering, and refusal
// of truncated or malformed input.
#include "util/codec.h"

#include <gtest/gtest.h>

#include <random>

namespace garage {
namespace {

TEST(codec, primitives_round_trip) {
  encoder e;
  e.u8(0xab);
  e.boolean(true);
  e.boolean(false);
  e.u32be(0xdeadbeef);
  e.u64be(0x0123456789abcdefull);
  e.bytes(std::string("x\0y", 3));
  e.bytes("");
  e.raw("tail");
  decoder d(e.view());
  EXPECT_EQ(d.u8(), 0xab);
  EXPECT_TRUE(d.boolean());
  EXPECT_FALSE(d.boolean());
  EXPECT_EQ(d.u32be(), 0xdeadbeefu);
  EXPECT_EQ(d.u64be(), 0x0123456789abcdefull);
  EXPECT_EQ(d.bytes(), std::string("x\0y", 3));
  EXPECT_EQ(d.bytes(), "");
  EXPECT_EQ(d.remaining(), 4u);
  EXPECT_EQ(d.raw(4), "tail");
  EXPECT_TRUE(d.complete());
}

TEST(codec, varint_round_trip_at_edges) {
  std::vector<uint64_t> values = {
      0, 1, 127, 128, 255, 16383, 16384, UINT32_MAX, UINT64_MAX - 1, UINT64_MAX};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    encoder e;
    e.varint(v);
    EXPECT_LE(e.view().size(), 10u);
    decoder d(e.view());
    EXPECT_EQ(d.varint(), v);
    EXPECT_TRUE(d.complete()) << v;
  }
  encoder small;
  small.varint(127);
  EXPECT_EQ(small.view().size(), 1u);
}

TEST(codec, big_endian_sorts_like_numbers) {
  auto enc = [](uint64_t v) {
    encoder e;
    e.u64be(v);
    return e.take();
  };
  EXPECT_LT(enc(1), enc(256));
  EXPECT_LT(enc(255), enc(256));
  EXPECT_LT(enc(0x00ffffffffffffffull), enc(0x0100000000000000ull));
  EXPECT_EQ(enc(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(codec, truncated_input_fails) {
  encoder e;
  e.u32be(7);
  e.u64be(9);
  e.bytes("hello");
  const std::string full = e.take();
  for (size_t cut = 0; cut < full.size(); ++cut) {
    decoder d(std::string_view(full).substr(0, cut));
    (void)d.u32be();
    (void)d.u64be();
    (void)d.bytes();
    EXPECT_TRUE(d.failed()) << "cut at " << cut;
    EXPECT_FALSE(d.complete());
  }
  decoder d(full);
  EXPECT_EQ(d.u32be(), 7u);
  EXPECT_EQ(d.u64be(), 9u);
  EXPECT_EQ(d.bytes(), "hello");
  EXPECT_TRUE(d.complete());
}

TEST(codec, failed_decoder_reads_zero) {
  decoder d(std::string_view("\x01", 1));
  EXPECT_EQ(d.u32be(), 0u);
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(d.u8(), 0);
  EXPECT_EQ(d.bytes(), "");
  EXPECT_EQ(d.raw(0), "");
}

TEST(codec, overlong_varint_fails) {
  std::string eleven(11, '\x80');
  decoder d(eleven);
  EXPECT_EQ(d.varint(), 0u);
  EXPECT_TRUE(d.failed());
}

TEST(codec, bytes_length_past_end_fails) {
  encoder e;
  e.varint(100);
  e.raw("short");
  decoder d(e.view());
  EXPECT_EQ(d.bytes(), "");
  EXPECT_TRUE(d.failed());
}

TEST(codec, trailing_bytes_are_not_complete) {
  decoder d(std::string_view("\x01\x02", 2));
  EXPECT_EQ(d.u8(), 1);
  EXPECT_FALSE(d.failed());
  EXPECT_FALSE(d.complete());
}

}  // namespace
}  // namespace garage
