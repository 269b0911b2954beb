// PostObject policies: parsing, expiration, eq / starts-with conditions,
// content-length-range, and fields no condition allows.
#include "api/s3/post_policy.h"

#include <gtest/gtest.h>

namespace garage::s3 {
namespace {

constexpr uint64_t kNoon = 1767355200000;  // 2026-01-02T12:00:00Z

const char* kPolicy = R"({
  "expiration": "2026-01-02T13:00:00.000Z",
  "conditions": [
    {"bucket": "photos"},
    ["starts-with", "$key", "uploads/"],
    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
    {"x-amz-credential": "GK1/20260102/garage/s3/aws4_request"},
    {"x-amz-date": "20260102T120000Z"},
    ["eq", "$success_action_status", "201"],
    ["starts-with", "$Content-Type", "image/"],
    ["content-length-range", 10, 1048576]
  ]})";

form_fields good_fields() {
  return {{"bucket", "photos"},
          {"key", "uploads/cat.jpg"},
          {"x-amz-algorithm", "AWS4-HMAC-SHA256"},
          {"x-amz-credential", "GK1/20260102/garage/s3/aws4_request"},
          {"x-amz-date", "20260102T120000Z"},
          {"x-amz-signature", "abc"},
          {"policy", "base64..."},
          {"success_action_status", "201"},
          {"content-type", "image/jpeg"},
          {"x-ignore-tracking", "1"}};
}

std::string check(const form_fields& f, uint64_t now = kNoon) {
  auto p = parse_post_policy(kPolicy);
  EXPECT_TRUE(p);
  auto r = check_post_policy(*p, f, now);
  return r ? "ok" : std::string(code_name(r.error().code)) + ": " + r.error().message;
}

TEST(post_policy, parses_conditions_and_range) {
  auto p = parse_post_policy(kPolicy);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->expiration_msec, kNoon + 3600 * 1000);
  ASSERT_EQ(p->conditions.size(), 7u);
  EXPECT_EQ(p->conditions[1].op, post_condition::starts_with);
  EXPECT_EQ(p->conditions[1].field, "key");
  EXPECT_EQ(p->conditions[6].field, "content-type");
  ASSERT_TRUE(p->length_range);
  EXPECT_EQ(p->length_range->first, 10u);
  EXPECT_EQ(p->length_range->second, 1048576u);
}

TEST(post_policy, a_matching_form_passes) { EXPECT_EQ(check(good_fields()), "ok"); }

TEST(post_policy, expired_policy_is_access_denied) {
  EXPECT_EQ(check(good_fields(), kNoon + 3600 * 1000),
            "AccessDenied: Invalid according to Policy: Policy expired.");
  EXPECT_EQ(check(good_fields(), kNoon + 3599 * 1000), "ok");
}

TEST(post_policy, failed_conditions_are_access_denied) {
  auto f = good_fields();
  f["key"] = "elsewhere/cat.jpg";
  EXPECT_EQ(check(f),
            "AccessDenied: Invalid according to Policy: Policy Condition failed: "
            "[\"starts-with\", \"$key\", \"uploads/\"]");
  f = good_fields();
  f["bucket"] = "other";
  EXPECT_NE(check(f).find("AccessDenied"), std::string::npos);
  f = good_fields();
  f["success_action_status"] = "200";
  EXPECT_NE(check(f).find("\"eq\", \"$success_action_status\""), std::string::npos);
  f = good_fields();
  f.erase("success_action_status");  // a condition on a missing field fails
  EXPECT_NE(check(f).find("AccessDenied"), std::string::npos);
  f = good_fields();
  f["content-type"] = "image/png, text/html";  // each listed type must match
  EXPECT_NE(check(f).find("AccessDenied"), std::string::npos);
  f["content-type"] = "image/png, image/gif";
  EXPECT_EQ(check(f), "ok");
}

TEST(post_policy, fields_without_a_condition_are_refused) {
  auto f = good_fields();
  f["x-amz-meta-owner"] = "me";
  EXPECT_EQ(check(f),
            "AccessDenied: Invalid according to Policy: Extra input fields: x-amz-meta-owner");
}

TEST(post_policy, malformed_policies_are_invalid) {
  for (const char* bad : {
           "",
           "not json",
           "[]",
           R"({"conditions": []})",
           R"({"expiration": "tomorrow", "conditions": []})",
           R"({"expiration": "2026-01-02T13:00:00Z"})",
           R"({"expiration": "2026-01-02T13:00:00Z", "conditions": [["eq", "key", "x"]]})",
           R"({"expiration": "2026-01-02T13:00:00Z", "conditions": [["in", "$key", "x"]]})",
           R"({"expiration": "2026-01-02T13:00:00Z", "conditions": [["eq", "$key"]]})",
           R"({"expiration": "2026-01-02T13:00:00Z", "conditions": [{"key": 3}]})",
           R"({"expiration": "2026-01-02T13:00:00Z",
               "conditions": [["content-length-range", 10, 5]]})",
           R"({"expiration": "2026-01-02T13:00:00Z",
               "conditions": [["content-length-range", -1, 5]]})",
       }) {
    auto p = parse_post_policy(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, s3_errc::invalid_argument) << bad;
  }
}

TEST(post_policy, expiration_formats) {
  EXPECT_EQ(parse_policy_expiration("2026-01-02T12:00:00Z"), kNoon);
  EXPECT_EQ(parse_policy_expiration("2026-01-02T12:00:00.250Z"), kNoon + 250);
  EXPECT_FALSE(parse_policy_expiration("2026-01-02T12:00:00"));
  EXPECT_FALSE(parse_policy_expiration("2026-01-02 12:00:00Z"));
  EXPECT_FALSE(parse_policy_expiration("2026-01-02T12:00:00.Z"));
  EXPECT_FALSE(parse_policy_expiration("2026-01-02T12:00:00.1xZ"));
}

}  // namespace
}  // namespace garage::s3
