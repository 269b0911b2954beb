#include "api/s3/range.h"

#include <gtest/gtest.h>

namespace garage::s3 {
namespace {

std::optional<byte_range> ok(std::optional<std::string_view> h, uint64_t size) {
  auto r = parse_range(h, size);
  EXPECT_TRUE(r) << (h ? *h : "none");
  return r ? *r : std::nullopt;
}

void unsatisfiable(std::string_view h, uint64_t size) {
  auto r = parse_range(h, size);
  ASSERT_FALSE(r) << h;
  EXPECT_EQ(r.error().code, s3_errc::invalid_range);
  EXPECT_EQ(r.error().status(), 416u);
}

TEST(range, forms) {
  EXPECT_EQ(ok("bytes=0-9", 100), (byte_range{0, 10}));
  EXPECT_EQ(ok("bytes=10-", 100), (byte_range{10, 90}));
  EXPECT_EQ(ok("bytes=-10", 100), (byte_range{90, 10}));
  EXPECT_EQ(ok("bytes=99-99", 100), (byte_range{99, 1}));
  EXPECT_EQ(ok(" bytes=5-6 ", 100), (byte_range{5, 2}));
  EXPECT_EQ(ok("Bytes=5-6", 100), (byte_range{5, 2}));
}

TEST(range, clamped) {
  EXPECT_EQ(ok("bytes=50-1000", 100), (byte_range{50, 50}));
  EXPECT_EQ(ok("bytes=-1000", 100), (byte_range{0, 100}));
  EXPECT_EQ(ok("bytes=0-18446744073709551615", 100), (byte_range{0, 100}));
}

TEST(range, ignored) {
  EXPECT_EQ(ok(std::nullopt, 100), std::nullopt);
  for (const char* h :
       {"", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-3", "items=0-9", "bytes=0-1,5-6",
        "bytes 0-9", "bytes=--5", "bytes=1-2-3", "bytes=+1-2", "bytes=0-99999999999999999999999"})
    EXPECT_EQ(ok(h, 100), std::nullopt) << h;
}

TEST(range, unsatisfiable) {
  unsatisfiable("bytes=100-", 100);
  unsatisfiable("bytes=100-200", 100);
  unsatisfiable("bytes=-0", 100);
  unsatisfiable("bytes=0-", 0);
  unsatisfiable("bytes=-5", 0);
  EXPECT_EQ(unsatisfied_content_range(100), "bytes */100");
}

TEST(range, content_range) {
  EXPECT_EQ(content_range(byte_range{0, 10}, 100), "bytes 0-9/100");
  EXPECT_EQ(content_range(byte_range{90, 10}, 100), "bytes 90-99/100");
}

}  // namespace
}  // namespace garage::s3
