// util/encoding: hex, base64 (RFC 4648 vectors) and SigV4 URI encoding.
#include "util/encoding.h"

#include <gtest/gtest.h>

#include <random>

namespace garage {
namespace {

TEST(hex, encode_and_decode) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(hex_decode("0001abff"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(hex_decode("0001ABFF"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(hex_decode(""), "");
}

TEST(hex, bad_input) {
  EXPECT_EQ(hex_decode("abc"), std::nullopt);
  EXPECT_EQ(hex_decode("zz"), std::nullopt);
  EXPECT_EQ(hex_decode("0g"), std::nullopt);
}

TEST(base64, rfc4648_vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [raw, b64] : vectors) {
    EXPECT_EQ(base64_encode(raw), b64);
    EXPECT_EQ(base64_decode(b64), raw);
  }
  EXPECT_EQ(base64_encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(base64, bad_input) {
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);       // length not a multiple of 4
  EXPECT_EQ(base64_decode("Z==="), std::nullopt);      // too much padding
  EXPECT_EQ(base64_decode("Zg==Zg=="), std::nullopt);  // padding in the middle
  EXPECT_EQ(base64_decode("Zm9*"), std::nullopt);      // not in the alphabet
}

TEST(base64, random_round_trip) {
  std::mt19937 rng(7);
  for (int n = 0; n < 100; ++n) {
    std::string raw;
    for (int i = 0; i < n; ++i) raw.push_back(static_cast<char>(rng()));
    EXPECT_EQ(base64_decode(base64_encode(raw)), raw);
    EXPECT_EQ(hex_decode(hex_encode(raw)), raw);
  }
}

TEST(uri, encode) {
  EXPECT_EQ(uri_encode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(uri_encode("+=&?", false), "%2B%3D%26%3F");
  EXPECT_EQ(uri_encode("\xc3\xa9", false), "%C3%A9");
}

TEST(uri, decode) {
  EXPECT_EQ(uri_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(uri_decode("%c3%A9"), "\xc3\xa9");
  EXPECT_EQ(uri_decode("a+b"), "a+b");
  EXPECT_EQ(uri_decode("a+b", true), "a b");
  EXPECT_EQ(uri_decode("%"), std::nullopt);
  EXPECT_EQ(uri_decode("%4"), std::nullopt);
  EXPECT_EQ(uri_decode("%zz"), std::nullopt);
}

TEST(uri, random_round_trip) {
  std::mt19937 rng(11);
  for (int n = 0; n < 200; ++n) {
    std::string raw;
    for (int i = 0; i < n % 40; ++i) raw.push_back(static_cast<char>(rng()));
    EXPECT_EQ(uri_decode(uri_encode(raw, false)), raw);
    EXPECT_EQ(uri_decode(uri_encode(raw, true)), raw);
  }
}

}  // namespace
}  // namespace garage
