#include "api/s3/s3_error.h"

#include <gtest/gtest.h>

namespace garage::s3 {
namespace {

TEST(s3_error, codes_and_statuses) {
  struct {
    s3_errc c;
    const char* name;
    unsigned status;
  } cases[] = {
      {s3_errc::access_denied, "AccessDenied", 403},
      {s3_errc::bad_digest, "BadDigest", 400},
      {s3_errc::bucket_not_empty, "BucketNotEmpty", 409},
      {s3_errc::invalid_access_key_id, "InvalidAccessKeyId", 403},
      {s3_errc::invalid_range, "InvalidRange", 416},
      {s3_errc::key_too_long, "KeyTooLongError", 400},
      {s3_errc::malformed_xml, "MalformedXML", 400},
      {s3_errc::method_not_allowed, "MethodNotAllowed", 405},
      {s3_errc::missing_content_length, "MissingContentLength", 411},
      {s3_errc::no_such_bucket, "NoSuchBucket", 404},
      {s3_errc::no_such_key, "NoSuchKey", 404},
      {s3_errc::not_implemented, "NotImplemented", 501},
      {s3_errc::precondition_failed, "PreconditionFailed", 412},
      {s3_errc::request_time_too_skewed, "RequestTimeTooSkewed", 403},
      {s3_errc::signature_does_not_match, "SignatureDoesNotMatch", 403},
      {s3_errc::service_unavailable, "ServiceUnavailable", 503},
      {s3_errc::x_amz_content_sha256_mismatch, "XAmzContentSHA256Mismatch", 400},
  };
  for (auto& c : cases) {
    EXPECT_STREQ(code_name(c.c), c.name);
    EXPECT_EQ(http_status(c.c), c.status) << c.name;
  }
}

TEST(s3_error, from_internal_error) {
  EXPECT_EQ(from_error(error(errc::not_found, "x")).code, s3_errc::no_such_key);
  EXPECT_EQ(from_error(error(errc::permission_denied, "x")).code, s3_errc::access_denied);
  EXPECT_EQ(from_error(error(errc::invalid_argument, "bad")).message, "bad");
  EXPECT_EQ(from_error(error(errc::unavailable, "")).status(), 503u);
  EXPECT_EQ(from_error(error(errc::corrupted, "")).status(), 500u);
  EXPECT_EQ(from_error(error(errc::not_implemented, "")).status(), 501u);
  EXPECT_EQ(from_error(error(errc::too_large, "")).code, s3_errc::entity_too_large);
  EXPECT_EQ(from_error(error(errc::internal, ""), "/b/k").resource, "/b/k");
}

TEST(s3_error, default_message) {
  auto e = make_error(s3_errc::no_such_bucket);
  EXPECT_EQ(e.message, "The specified bucket does not exist.");
  EXPECT_EQ(make_error(s3_errc::access_denied, "Request has expired").message,
            "Request has expired");
}

}  // namespace
}  // namespace garage::s3
