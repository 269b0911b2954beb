#include "api/admin/auth.h"

#include <gtest/gtest.h>

#include "api/admin/admin_error.h"

namespace garage::admin {
namespace {

TEST(admin_auth, bearer_token_parsing) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer   abc  "), "abc");
  EXPECT_EQ(bearer_token("BEARER\tabc"), "abc");
  EXPECT_FALSE(bearer_token("Bearer").has_value());
  EXPECT_FALSE(bearer_token("Bearer   ").has_value());
  EXPECT_FALSE(bearer_token("Basic YWxhZGRpbjpvcGVuc2VzYW1l").has_value());
  EXPECT_FALSE(bearer_token("Bearerabc").has_value());
  EXPECT_FALSE(bearer_token("").has_value());
}

TEST(admin_auth, tokens_match_only_exactly) {
  EXPECT_TRUE(token_matches("s3cret", "s3cret"));
  EXPECT_FALSE(token_matches("s3cre", "s3cret"));
  EXPECT_FALSE(token_matches("s3cret2", "s3cret"));
  EXPECT_FALSE(token_matches("S3cret", "s3cret"));
  EXPECT_FALSE(token_matches("", ""));  // an unset token never matches
  EXPECT_FALSE(token_matches("x", ""));
}

TEST(admin_error, model_errors_map_to_status_and_code_by_subject) {
  auto e = from_model_error(error(errc::not_found, "gone"), subject::key);
  EXPECT_EQ(e.status, 404u);
  EXPECT_EQ(e.code, "NoSuchAccessKey");
  EXPECT_EQ(e.message, "gone");
  EXPECT_EQ(from_model_error(error(errc::not_found, ""), subject::bucket).code, "NoSuchBucket");
  EXPECT_EQ(from_model_error(error(errc::already_exists, ""), subject::bucket).status, 409u);
  EXPECT_EQ(from_model_error(error(errc::already_exists, ""), subject::key).code,
            "KeyAlreadyExists");
  EXPECT_EQ(from_model_error(error(errc::conflict, ""), subject::bucket).status, 409u);
  EXPECT_EQ(from_model_error(error(errc::invalid_argument, ""), subject::none).status, 400u);
  EXPECT_EQ(from_model_error(error(errc::io_error, "disk"), subject::none).status, 500u);
  EXPECT_EQ(from_model_error(error(errc::not_implemented, ""), subject::none).status, 501u);
}

TEST(admin_error, body_is_garage_shaped_json) {
  auto body =
      error_body({404, "NoSuchBucket", "bucket \"x\" not found"}, "garage", "/v2/GetBucketInfo");
  EXPECT_NE(body.find("\"code\": \"NoSuchBucket\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"message\": \"bucket \\\"x\\\" not found\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"region\": \"garage\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"path\": \"/v2/GetBucketInfo\""), std::string::npos) << body;
  // Invalid UTF-8 in a message must not make serialisation throw.
  EXPECT_NO_THROW(error_body({400, "InvalidRequest", "bad \xff byte"}, "garage", "/"));
}

}  // namespace
}  // namespace garage::admin
