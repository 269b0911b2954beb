#include "garage/quantity.h"

#include <gtest/gtest.h>

namespace garage::op::admin {
namespace {

struct ok_case {
  const char* text;
  uint64_t bytes;
};

TEST(ParseQuantity, Accepts) {
  const ok_case cases[] = {
      {"0", 0},
      {"100", 100},
      {"+100", 100},
      {"007", 7},
      {"1Ki", 1024},
      {"10Gi", 10ULL << 30},
      {"1.5Gi", 1610612736ULL},
      {"0.5Ki", 512},
      {".5Ki", 512},
      {"1.Ki", 1024},
      {"2Mi", 2ULL << 20},
      {"3Ti", 3ULL << 40},
      {"1Pi", 1ULL << 50},
      {"15Ei", 15ULL << 60},
      {"500M", 500000000ULL},
      {"1k", 1000},
      {"1G", 1000000000ULL},
      {"2T", 2000000000000ULL},
      {"1P", 1000000000000000ULL},
      {"18E", 18000000000000000000ULL},
      {"1e9", 1000000000ULL},
      {"1E9", 1000000000ULL},
      {"1e+3", 1000},
      {"15e-1", 2},  // 1.5 bytes rounds up
      {"1.5", 2},
      {"500m", 1},
      {"1000m", 1},
      {"1001m", 2},
      {"0.0001Ki", 1},  // 0.1024 -> 1
      {"1.0000000001Gi", 1073741825ULL},
      {"18446744073709551615", 18446744073709551615ULL},
      {"0.000000000000000001E", 1},
  };
  for (const auto& c : cases) {
    auto r = parse_quantity(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(*r, c.bytes) << c.text;
  }
}

TEST(ParseQuantity, Refuses) {
  const char* cases[] = {
      "",
      "-1",
      "-1Gi",
      "Gi",
      "1 Gi",
      " 1",
      "1Gi ",
      "1gi",
      "1GI",
      "1Xi",
      "1KB",
      "1kb",
      "1K",
      "1.2.3",
      ".",
      "1e",
      "1e+",
      "1ee3",
      "abc",
      "0x10",
      "1Gii",
      "1,5Gi",
      "16Ei",
      "19E",
      "18446744073709551616",
      "1e20",
      "99999999999999999999999999999999",  // 32 digits
      "1e-40",
      "1i",
  };
  for (const char* c : cases) {
    auto r = parse_quantity(c);
    ASSERT_FALSE(r) << "'" << c << "' parsed as " << *r;
    EXPECT_EQ(r.error().code, errc::invalid_argument) << c;
    EXPECT_NE(r.error().message.find(c), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace garage::op::admin
