#include "api/s3/conditional.h"

#include <gtest/gtest.h>

namespace garage::s3 {
namespace {

using co = condition_outcome;

constexpr std::string_view k_etag = "\"abc\"";
constexpr const char* k_before = "Sun, 06 Nov 1994 08:49:36 GMT";
constexpr const char* k_at = "Mon, 07 Nov 1994 08:49:36 GMT";
constexpr const char* k_after = "Tue, 08 Nov 1994 08:49:36 GMT";
// The object was last modified at k_at (plus 500 ms: compared in seconds).
constexpr uint64_t k_modified = 784198176000ull + 500;

co eval(std::vector<std::pair<std::string, std::string>> headers) {
  http::header_map h;
  for (auto& [n, v] : headers) h.add(n, v);
  return evaluate_conditions(conditional_headers::from(h), k_etag, k_modified);
}

TEST(conditional, none) { EXPECT_EQ(eval({}), co::proceed); }

TEST(conditional, if_match) {
  EXPECT_EQ(eval({{"If-Match", "\"abc\""}}), co::proceed);
  EXPECT_EQ(eval({{"If-Match", "abc"}}), co::proceed);
  EXPECT_EQ(eval({{"If-Match", "*"}}), co::proceed);
  EXPECT_EQ(eval({{"If-Match", "\"x\", \"abc\""}}), co::proceed);
  EXPECT_EQ(eval({{"If-Match", "\"x\""}}), co::precondition_failed);
  EXPECT_EQ(eval({{"If-Match", "W/\"abc\""}}), co::precondition_failed);  // strong comparison
}

TEST(conditional, if_none_match) {
  EXPECT_EQ(eval({{"If-None-Match", "\"abc\""}}), co::not_modified);
  EXPECT_EQ(eval({{"If-None-Match", "W/\"abc\""}}), co::not_modified);  // weak comparison
  EXPECT_EQ(eval({{"If-None-Match", "*"}}), co::not_modified);
  EXPECT_EQ(eval({{"If-None-Match", "\"x\",\"y\""}}), co::proceed);
}

TEST(conditional, if_modified_since) {
  EXPECT_EQ(eval({{"If-Modified-Since", k_before}}), co::proceed);
  EXPECT_EQ(eval({{"If-Modified-Since", k_at}}), co::not_modified);
  EXPECT_EQ(eval({{"If-Modified-Since", k_after}}), co::not_modified);
  EXPECT_EQ(eval({{"If-Modified-Since", "not a date"}}), co::proceed);
}

TEST(conditional, if_unmodified_since) {
  EXPECT_EQ(eval({{"If-Unmodified-Since", k_before}}), co::precondition_failed);
  EXPECT_EQ(eval({{"If-Unmodified-Since", k_at}}), co::proceed);
  EXPECT_EQ(eval({{"If-Unmodified-Since", k_after}}), co::proceed);
  EXPECT_EQ(eval({{"If-Unmodified-Since", "garbage"}}), co::proceed);
}

// The two combinations S3 documents, and the others of RFC 7232 section 6.
TEST(conditional, precedence) {
  // If-Match true + If-Unmodified-Since false → 200.
  EXPECT_EQ(eval({{"If-Match", "\"abc\""}, {"If-Unmodified-Since", k_before}}), co::proceed);
  // If-Match false + If-Unmodified-Since true → 412.
  EXPECT_EQ(eval({{"If-Match", "\"x\""}, {"If-Unmodified-Since", k_after}}),
            co::precondition_failed);
  // If-None-Match false + If-Modified-Since true → 304.
  EXPECT_EQ(eval({{"If-None-Match", "\"abc\""}, {"If-Modified-Since", k_before}}),
            co::not_modified);
  // If-None-Match true + If-Modified-Since false → 200.
  EXPECT_EQ(eval({{"If-None-Match", "\"x\""}, {"If-Modified-Since", k_after}}), co::proceed);
  // 412 wins over 304.
  EXPECT_EQ(eval({{"If-Match", "\"x\""}, {"If-None-Match", "\"abc\""}}), co::precondition_failed);
  EXPECT_EQ(eval({{"If-Unmodified-Since", k_before}, {"If-Modified-Since", k_after}}),
            co::precondition_failed);
  // If-Match true + If-None-Match false → 304.
  EXPECT_EQ(eval({{"If-Match", "\"abc\""}, {"If-None-Match", "\"abc\""}}), co::not_modified);
  // If-Match true + If-Modified-Since true (not modified) → 304.
  EXPECT_EQ(eval({{"If-Match", "\"abc\""}, {"If-Modified-Since", k_after}}), co::not_modified);
}

}  // namespace
}  // namespace garage::s3
